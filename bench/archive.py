"""A data archive for a host with a 2-hour recording: from asking to ready to download.

Builds a recorded Space that was live for ``--hours`` (default 2) as the live path leaves
it (2 s segments in storage, listed), ends it, then asks for the host's archive on the
real job queue with its consumer running and times until the archive is ready. Checks
the zip: the recording's ``.ts`` holds every segment and decodes to the recording's
length.

    .venv/bin/python bench/archive.py [--hours 2] [--database-url URL]

Target: ready in at most 60 s on this machine (X: "about a day", by its own help page).
"""

from __future__ import annotations

import argparse
import sys
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av

sys.path.insert(0, str(Path(__file__).resolve().parent))

from finalize import fresh_instance, long_recording

from airspace.archive import services as archives
from airspace.archive.models import Archive, ArchiveState
from airspace.media.constants import SAMPLE_RATE
from airspace.recordings.services import finalize, recording_for_space
from airspace.spaces import services as spaces


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp dir")
    args = parser.parse_args()
    print("$ " + " ".join([".venv/bin/python", *sys.argv]))
    settings, services = fresh_instance("archive", args.database_url)
    folder, database_url = settings.data_dir, settings.database_url
    space_id, recording_id, count = long_recording(services, args.hours, database_url)
    with services.sessions() as session:
        space = spaces.get(session, space_id)
        spaces.finish(session, space, datetime.now(UTC), timedelta(days=120))
        host = space.host
        session.commit()
    finalize(services, recording_id)
    with services.sessions() as session:
        recording = recording_for_space(session, space_id)
        assert recording is not None
        duration = float(recording.duration_seconds or 0)

    consumer = services.jobs.start_consumer({"jobs": settings.job_workers})
    try:
        time.sleep(1.5)  # the consumer is idle and polling, as on a quiet server
        started = time.perf_counter()
        with services.sessions() as session:
            archive = archives.request(
                session, session.get_one(type(host), host.id), services.clock.now()
            )
            session.commit()
            archive_id = archive.id
        services.jobs.enqueue("archive.build", subject=archive_id, archive_id=archive_id)
        while True:
            with services.sessions() as session:
                state = session.get_one(Archive, archive_id)
                if state.state is not ArchiveState.BUILDING:
                    break
            time.sleep(0.05)
        ready = time.perf_counter() - started
        assert state.state is ArchiveState.READY, state.error
        with services.sessions() as session:
            key = archives.archive_key(session.get_one(Archive, archive_id))
    finally:
        consumer.stop(graceful=False)
    path = services.storage.file_path(key)
    assert path is not None
    with zipfile.ZipFile(path) as zf:
        name = f"data/spaces_media/{space_id}_0.ts"
        held = zf.getinfo(name).file_size
        extracted = Path(zf.extract(name, folder / "out"))
    with av.open(str(extracted)) as container:
        samples = sum(frame.samples for frame in container.decode(audio=0))
    services.close()
    print(
        f"archive of a {duration / 3600:.2f} h recording ({count} segments): "
        f"{path.stat().st_size / 1e6:.1f} MB zip, the .ts {held / 1e6:.1f} MB"
    )
    print(f"the .ts decodes to {samples / SAMPLE_RATE:.3f} s for a {duration:.3f} s recording")
    verdict = "met" if ready <= 60 else "not met"
    print(f"asked to ready: {ready:.1f} s (target <= 60 s: {verdict}; X: about a day)")


if __name__ == "__main__":
    main()
