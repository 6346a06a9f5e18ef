"""nginx in front of a real server with the shipped docs/nginx/airspace.conf: a recorded
Space goes live and ends through it, and its replay plays through it, the stored
segments and the M4A file sent by nginx from the media directory after the app's grant
check; forged and revoked links are refused with the app's answer."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from airspace.delivery.fast_path import GRANT_CHECK_PATH
from airspace.delivery.policy import GRANT_SECONDS, SHARED_CACHE_SECONDS
from airspace.storage.local import LocalStorage
from tests.audio import decode
from tests.conftest import LiveServer
from tests.e2e.processes import free_port
from tests.live.test_speakers import EventLog
from tests.recordings.test_replay import playlist_segments, wait_until_available

NGINX = Path("/usr/sbin/nginx")
SITE = Path(__file__).parents[2] / "docs" / "nginx" / "airspace.conf"
MEDIA_DIR = "/var/lib/airspace/media"
UPSTREAM = "server 127.0.0.1:8000;"
LISTEN = "listen 80;"
PUBLIC_BYTES = f"public, max-age={GRANT_SECONDS}, s-maxage={SHARED_CACHE_SECONDS}, immutable"

pytestmark = [
    pytest.mark.skipif(not NGINX.exists(), reason=f"nginx is not installed ({NGINX})"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


@dataclass
class Nginx:
    base: str
    access_log: Path

    def log_through(self, last: tuple[int, str, str]) -> list[tuple[int, str, str]]:
        """(status, URI, upstream address or "-") of every request and subrequest, once
        ``last`` is among them: nginx logs a request just after it has answered it."""
        deadline = time.monotonic() + 5
        while True:
            lines = []
            for line in self.access_log.read_text().splitlines():
                status, uri, upstream = line.split(" ")
                lines.append((int(status), uri, upstream))
            if last in lines:
                return lines
            assert time.monotonic() < deadline, f"{last} is not in nginx's log: {lines}"
            time.sleep(0.02)


def site_config(media_dir: Path, upstream_port: int, listen_port: int) -> str:
    """The shipped server block with its placeholders filled in."""
    text = SITE.read_text()
    for placeholder in (f"alias {MEDIA_DIR}/", UPSTREAM, LISTEN):
        assert text.count(placeholder) == 1, placeholder
    return (
        text.replace(f"alias {MEDIA_DIR}/", f"alias {media_dir}/")
        .replace(UPSTREAM, f"server 127.0.0.1:{upstream_port};")
        .replace(LISTEN, f"listen 127.0.0.1:{listen_port};")
    )


@pytest.fixture
def nginx(live_server: LiveServer, tmp_path: Path) -> Iterator[Nginx]:
    storage = live_server.services.storage
    assert isinstance(storage, LocalStorage)
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    port = free_port()
    upstream_port = urlsplit(live_server.base).port
    assert upstream_port is not None
    (prefix / "airspace.conf").write_text(site_config(storage.root, upstream_port, port))
    temp_paths = "\n".join(
        f"    {kind}_temp_path {prefix / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    access_log = prefix / "access.log"
    # As root, workers would otherwise run as nobody, who may not read pytest's tmp dirs.
    user = "user root;\n" if os.geteuid() == 0 else ""
    (prefix / "nginx.conf").write_text(
        f"""{user}worker_processes 1;
events {{ worker_connections 64; }}
http {{
    log_format airspace_test '$status $uri $upstream_addr';
    access_log {access_log} airspace_test;
    log_subrequest on;
{temp_paths}
    include {prefix / "airspace.conf"};
}}
"""
    )
    process = subprocess.Popen(
        [
            str(NGINX),
            "-p",
            str(prefix),
            "-c",
            str(prefix / "nginx.conf"),
            "-g",
            f"daemon off; pid {prefix / 'nginx.pid'}; error_log stderr;",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                httpx.get(f"{base}/api/v1/health", timeout=1).raise_for_status()
                break
            except httpx.TransportError:
                assert process.poll() is None, process.communicate()[0].decode()
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.05)
        yield Nginx(base, access_log)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
        assert b"[emerg]" not in output, output.decode()


def forged(url: str) -> str:
    """``url`` with the last character of its grant's signature changed."""
    origin, _, path = url.partition("/m/")
    space_id, token, name = path.split("/", 2)
    token = token[:-1] + ("B" if token.endswith("A") else "A")
    return f"{origin}/m/{space_id}/{token}/{name}"


def test_nginx_serves_granted_media_itself(live_server: LiveServer, nginx: Nginx) -> None:
    host = live_server.register("host")
    space_id = live_server.create_space(host, record=True)
    ws_url = nginx.base.replace("http", "ws") + f"/api/v1/spaces/{space_id}/room/events"

    async def live_part() -> str:
        async with httpx.AsyncClient(
            follow_redirects=True, base_url=nginx.base, headers=host, timeout=20
        ) as http:
            started = await http.post(f"/api/v1/spaces/{space_id}/start")
            assert started.status_code == 200, started.text
            # The room's events come through nginx's WebSocket location.
            async with EventLog(ws_url) as log:
                assert log.events[0]["type"] == "state"
                await asyncio.sleep(4.5)
                # At the live edge: the playlist from the app, the segment from disk.
                live = await http.get(f"/i/spaces/{space_id}/live.m3u8")
                assert live.status_code == 200
                [(_, uri), *_] = playlist_segments(live.text)
                segment = await http.get(urljoin(str(live.url), uri))
                assert segment.status_code == 200
                assert segment.headers["content-type"] == "video/mp2t"
                ended = await http.post(f"/api/v1/spaces/{space_id}/end")
                assert ended.status_code == 200, ended.text
                await log.wait_for("ended")
        return urlsplit(str(segment.url)).path

    live_segment = asyncio.run(live_part())
    app_address = urlsplit(live_server.base).netloc
    storage = live_server.services.storage
    with (
        httpx.Client(base_url=live_server.base, headers=host, timeout=20) as app,
        httpx.Client(follow_redirects=True, base_url=nginx.base, timeout=20) as listener,
    ):
        duration = float(str(wait_until_available(app, space_id)["duration_seconds"]))
        assert duration == pytest.approx(4.5, abs=1)

        playlist = listener.get(f"/i/spaces/{space_id}/replay.m3u8")
        assert playlist.status_code == 200
        assert playlist.text.rstrip().endswith("#EXT-X-ENDLIST")
        entries = playlist_segments(playlist.text)
        assert len(entries) >= 2
        urls = [urljoin(str(playlist.url), uri) for _, uri in entries]
        samples = 0
        for (_, uri), url in zip(entries, urls, strict=True):
            segment = listener.get(url)
            assert segment.status_code == 200
            assert segment.headers["content-type"] == "video/mp2t"
            assert segment.headers["cache-control"] == PUBLIC_BYTES
            assert segment.content == storage.get(f"spaces/{space_id}/{uri}")
            samples += len(decode(segment.content, format="mpegts")[0])
        assert samples / 48_000 == pytest.approx(duration, abs=0.001)
        ranged = listener.get(urls[0], headers={"Range": "bytes=188-375"})
        assert ranged.status_code == 206
        assert ranged.content == storage.get(f"spaces/{space_id}/{entries[0][1]}")[188:376]

        # nginx sent every segment itself (no upstream but the grant check, 204 each).
        served = [live_segment, *(urlsplit(url).path for url in [*urls, urls[0]])]
        log = nginx.log_through((206, served[-1], "-"))
        sent = [(status, uri, upstream) for status, uri, upstream in log if uri.endswith(".ts")]
        assert sorted(sent) == sorted(
            [(200, uri, "-") for uri in served[:-1]] + [(206, served[-1], "-")]
        )
        checks = [(status, upstream) for status, uri, upstream in log if uri == GRANT_CHECK_PATH]
        assert checks == [(204, app_address)] * len(served)

        # The M4A rendition: asked for through nginx, made by a job, sent by nginx.
        url = f"/api/v1/spaces/{space_id}/recording/renditions"
        deadline = time.monotonic() + 30
        while listener.post(url, json={"format": "m4a"}).json()["status"] != "ready":
            assert time.monotonic() < deadline, "the M4A file was not made"
            time.sleep(0.2)
        m4a = listener.get(f"/i/spaces/{space_id}/recording.m4a")
        assert m4a.status_code == 200
        assert m4a.headers["content-type"] == "audio/mp4"
        assert m4a.headers["cache-control"] == PUBLIC_BYTES
        assert m4a.headers["content-disposition"] == f'inline; filename="{space_id}.m4a"'
        sent_m4a = (200, urlsplit(str(m4a.url)).path, "-")
        assert nginx.log_through(sent_m4a)[-2:] == [(204, GRANT_CHECK_PATH, app_address), sent_m4a]
        assert len(decode(m4a.content)[0]) / 48_000 == pytest.approx(duration, abs=0.03)

        # The check is nginx's alone; a forged link gets the app's refusal.
        assert listener.get(GRANT_CHECK_PATH).status_code == 404
        refused = listener.get(forged(urls[0]))
        assert refused.status_code == 403
        assert refused.json() == {"detail": "this media link is not valid; open the Space again"}
        assert refused.headers["cache-control"] == "no-store"

        # The host deletes the recording: links handed out before are revoked at once,
        # and nginx passes on the app's 410 although the file is still on disk.
        assert app.delete(f"/api/v1/spaces/{space_id}/recording").status_code == 204
        assert storage.exists(f"spaces/{space_id}/{entries[0][1]}")
        for gone in (listener.get(urls[0]), listener.get(str(m4a.url))):
            assert gone.status_code == 410
            assert gone.json() == {"detail": "this recording is no longer available"}
        assert listener.get(f"/i/spaces/{space_id}/replay.m3u8").status_code == 410
