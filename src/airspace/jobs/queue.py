"""The job queue: Huey on SQLite (consumed inside ``airspace serve``) or on Redis
(consumed by ``airspace worker`` processes on any number of machines)."""

from __future__ import annotations

import logging
import signal
import threading
import uuid
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

from huey import RedisHuey, SqliteHuey, crontab
from huey.api import Huey
from huey.consumer import Consumer
from huey.exceptions import RetryTask
from huey.storage import RedisStorage

from airspace.errors import ConfigError
from airspace.jobs import status
from airspace.jobs.registry import (
    JOBS_LANE,
    LANES,
    JobContext,
    JobFailed,
    JobSpec,
    registered_jobs,
)

if TYPE_CHECKING:
    from airspace.wiring import Services

logger = logging.getLogger(__name__)

SHUTDOWN_SECONDS = 8.0
"""How long a stopping consumer waits for running jobs before it leaves them to be run
again: a worker stops within ten seconds of SIGTERM, however long its jobs are."""
PERIODIC_CLAIM = 3600
"""Seconds a periodic job's claim on a minute is kept (past any clock skew between workers)."""


class Heartbeat:
    """Beats for a running job from a thread of its own until stopped."""

    def __init__(self, services: Services, run_id: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, args=(services, run_id), name=f"heartbeat-{run_id[:8]}", daemon=True
        )
        self._thread.start()

    def _beat(self, services: Services, run_id: str) -> None:
        while not self._stop.wait(services.settings.job_heartbeat_seconds):
            try:
                status.heartbeat(services, run_id)
            except Exception:  # the database is away for a moment: beat again later
                logger.warning("could not record the heartbeat of job %s", run_id, exc_info=True)

    def stop(self) -> None:
        self._stop.set()


@runtime_checkable
class JobQueue(Protocol):
    in_process: bool
    """True when ``airspace serve`` consumes the queue itself."""

    def bind(self, services: Services) -> None:
        """Register every job, running with ``services``."""
        ...

    def enqueue(self, name: str, *, subject: str | None = None, **arguments: Any) -> str:
        """Queue the job ``name``; returns the id of its job-run record."""
        ...

    def requeue(self, run_id: str, name: str, arguments: dict[str, Any]) -> None:
        """Put an existing run (one whose worker died) back on the queue."""
        ...

    def run_now(self, name: str) -> None:
        """Run a periodic job once, synchronously."""
        ...

    def start_consumer(self, workers: Mapping[str, int]) -> Consumers:
        """Start consuming each lane with its number of ``workers``, in background
        threads of this process (no signal handling)."""
        ...

    def run_consumer(self, workers: Mapping[str, int]) -> None:
        """Consume each lane of ``workers`` in the foreground until SIGINT or SIGTERM."""
        ...


class _EmbeddedConsumer(Consumer):  # type: ignore[misc]
    def _set_signal_handlers(self) -> None:
        # The host process (uvicorn) owns the signals; it stops this consumer itself.
        pass


class Consumers:
    """The consumers of the lanes one process consumes."""

    def __init__(self, consumers: list[Consumer]) -> None:
        self.consumers = consumers

    def stop(self, graceful: bool = True) -> None:
        """Stop them all at once; each waits at most SHUTDOWN_SECONDS for its running jobs
        (jobs still running then are left to be run again)."""
        stopping = [
            threading.Thread(target=consumer.stop, kwargs={"graceful": graceful})
            for consumer in self.consumers
        ]
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()


class HueyJobQueue:
    """A job queue over any Huey storage: one Huey queue per lane, so that jobs of one
    lane (slow downloads) never wait behind, nor hold up, those of another."""

    def __init__(self, hueys: Mapping[str, Huey], *, in_process: bool) -> None:
        self.hueys = dict(hueys)
        self.huey = self.hueys[JOBS_LANE]
        """The jobs lane, which also schedules the periodic jobs."""
        self.in_process = in_process
        self._services: Services | None = None
        self._tasks: dict[str, Any] = {}

    def bind(self, services: Services) -> None:
        self._services = services
        for spec in registered_jobs().values():
            self._register(spec)

    def _register(self, spec: JobSpec) -> None:
        services = self._services
        assert services is not None
        if spec.is_periodic:

            def run_periodic() -> None:
                # Every consumer's scheduler enqueues it; the first to claim this
                # minute runs it.
                if self.claim_periodic(spec.name, services.clock.now()):
                    spec.function(JobContext(services, None))

            self._tasks[spec.name] = self.huey.periodic_task(  # periodic: the jobs lane
                crontab(minute=spec.every_minute, hour=spec.every_hour), name=spec.name
            )(run_periodic)
            return

        def run(run_id: str, arguments: dict[str, Any]) -> None:
            attempt = status.mark_running(services, run_id)
            beating = Heartbeat(services, run_id)
            try:
                spec.function(JobContext(services, run_id), **arguments)
            except JobFailed as exc:
                status.mark_failed(services, run_id, str(exc), will_retry=False)
                return
            except Exception as exc:
                will_retry = attempt <= spec.retries
                reason = f"{type(exc).__name__}: {exc}"
                status.mark_failed(services, run_id, reason, will_retry=will_retry)
                logger.warning(
                    "job %s (%s) attempt %d failed: %s", spec.name, run_id, attempt, reason
                )
                if will_retry:
                    raise RetryTask(reason, delay=spec.retry_delay(attempt)) from exc
                return
            finally:
                beating.stop()
            status.mark_done(services, run_id)

        self._tasks[spec.name] = self.hueys[spec.lane].task(name=spec.name)(run)

    def enqueue(self, name: str, *, subject: str | None = None, **arguments: Any) -> str:
        if self._services is None:
            raise RuntimeError("the job queue is not bound to services")
        if name not in self._tasks or registered_jobs()[name].is_periodic:
            raise KeyError(f"unknown job {name!r}")
        run_id = uuid.uuid4().hex
        status.create_run(self._services, run_id, name, arguments, subject)
        self._tasks[name](run_id, arguments)
        return run_id

    def requeue(self, run_id: str, name: str, arguments: dict[str, Any]) -> None:
        self._tasks[name](run_id, arguments)

    def claim_periodic(self, name: str, now: datetime) -> bool:
        """Whether this process runs periodic job ``name`` for the minute ``now`` is in:
        the first to claim it does, whichever worker that is."""
        minute = now.replace(second=0, microsecond=0).isoformat()
        claim = f"periodic:{name}:{minute}"
        storage = self.huey.storage
        if isinstance(storage, RedisStorage):
            return bool(storage.conn.set(f"airspace:{claim}", b"1", nx=True, ex=PERIODIC_CLAIM))
        return True  # one consumer, inside `airspace serve`

    @staticmethod
    def _consumer_options(workers: int) -> dict[str, Any]:
        # An idle consumer polls at most every second, so a queued job starts promptly.
        # Stopping waits at most SHUTDOWN_SECONDS for running jobs: those still running
        # then are left to the sweeper, which runs them again (they are idempotent).
        return {
            "workers": workers,
            "worker_type": "thread",
            "max_delay": 1.0,
            "shutdown_timeout": SHUTDOWN_SECONDS,
        }

    def run_now(self, name: str) -> None:
        """Run a periodic job once, synchronously (for the CLI and tests)."""
        assert self._services is not None
        registered_jobs()[name].function(JobContext(self._services, None))

    def _consumer(self, lane: str, workers: int) -> Consumer:
        options = self._consumer_options(workers)
        options["periodic"] = lane == JOBS_LANE
        return _EmbeddedConsumer(self.hueys[lane], **options)

    def start_consumer(self, workers: Mapping[str, int]) -> Consumers:
        consumers = [self._consumer(lane, count) for lane, count in workers.items() if count]
        for consumer in consumers:
            consumer.start()
        return Consumers(consumers)

    def run_consumer(self, workers: Mapping[str, int]) -> None:
        """Consume until SIGTERM or SIGINT, then stop within SHUTDOWN_SECONDS."""
        stopping = threading.Event()
        for stop_signal in (signal.SIGTERM, signal.SIGINT):
            signal.signal(stop_signal, lambda *_: stopping.set())
        consumers = self.start_consumer(workers)
        logger.info("consuming %s", ", ".join(f"{lane} ({n})" for lane, n in workers.items()))
        stopping.wait()
        logger.info("stopping: running jobs get %.0f s to finish", SHUTDOWN_SECONDS)
        consumers.stop(graceful=True)


def create_job_queue(url: str) -> HueyJobQueue:
    """A queue for ``AIRSPACE_QUEUE_URL``: ``sqlite:///path`` or ``redis://host:port/db``."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        path = Path(url.removeprefix("sqlite:///").removeprefix("sqlite://"))
        if not path.name:
            raise ConfigError(f"AIRSPACE_QUEUE_URL: no file name in {url!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        hueys = {lane: SqliteHuey(_queue_name(lane), filename=str(path)) for lane in LANES}
        return HueyJobQueue(hueys, in_process=True)
    if scheme in ("redis", "rediss"):
        hueys = {lane: RedisHuey(_queue_name(lane), url=url) for lane in LANES}
        return HueyJobQueue(hueys, in_process=False)
    raise ConfigError(f"AIRSPACE_QUEUE_URL: unsupported URL {url!r}")


def _queue_name(lane: str) -> str:
    return "airspace" if lane == JOBS_LANE else f"airspace-{lane}"
