"""The job queue: Huey on SQLite (consumed inside ``airspace serve``) or on Redis
(consumed by ``airspace worker`` processes on any number of machines)."""

from __future__ import annotations

import logging
import threading
import uuid
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
from airspace.jobs.registry import JobContext, JobFailed, JobSpec, registered_jobs

if TYPE_CHECKING:
    from airspace.wiring import Services

logger = logging.getLogger(__name__)

SHUTDOWN_SECONDS = 8.0
"""How long a stopping consumer waits for running jobs before it leaves them to be run
again: a worker stops within ten seconds of SIGTERM, however long its jobs are."""
HEARTBEAT_SECONDS = 10.0
"""How often a running job says its worker is alive."""
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
        while not self._stop.wait(HEARTBEAT_SECONDS):
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

    def start_consumer(self, workers: int) -> Consumer:
        """Start consuming in background threads of this process (no signal handling)."""
        ...

    def run_consumer(self, workers: int) -> None:
        """Consume in the foreground until SIGINT or SIGTERM."""
        ...


class _EmbeddedConsumer(Consumer):  # type: ignore[misc]
    def _set_signal_handlers(self) -> None:
        # The host process (uvicorn) owns the signals; it stops this consumer itself.
        pass


class HueyJobQueue:
    """A job queue over any Huey storage."""

    def __init__(self, huey: Huey, *, in_process: bool) -> None:
        self.huey = huey
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

            self._tasks[spec.name] = self.huey.periodic_task(
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

        self._tasks[spec.name] = self.huey.task(name=spec.name)(run)

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
        # SIGTERM stops it gracefully for at most SHUTDOWN_SECONDS: jobs still running
        # then are left to the sweeper, which runs them again (they are idempotent).
        return {
            "workers": workers,
            "worker_type": "thread",
            "max_delay": 1.0,
            "shutdown_timeout": SHUTDOWN_SECONDS,
            "graceful_signal": "TERM",
        }

    def run_now(self, name: str) -> None:
        """Run a periodic job once, synchronously (for the CLI and tests)."""
        assert self._services is not None
        registered_jobs()[name].function(JobContext(self._services, None))

    def start_consumer(self, workers: int) -> Consumer:
        consumer = _EmbeddedConsumer(self.huey, **self._consumer_options(workers))
        consumer.start()
        return consumer

    def run_consumer(self, workers: int) -> None:
        consumer = self.huey.create_consumer(**self._consumer_options(workers))
        consumer.run()


def create_job_queue(url: str) -> HueyJobQueue:
    """A queue for ``AIRSPACE_QUEUE_URL``: ``sqlite:///path`` or ``redis://host:port/db``."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        path = Path(url.removeprefix("sqlite:///").removeprefix("sqlite://"))
        if not path.name:
            raise ConfigError(f"AIRSPACE_QUEUE_URL: no file name in {url!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        return HueyJobQueue(SqliteHuey("airspace", filename=str(path)), in_process=True)
    if scheme in ("redis", "rediss"):
        return HueyJobQueue(RedisHuey("airspace", url=url), in_process=False)
    raise ConfigError(f"AIRSPACE_QUEUE_URL: unsupported URL {url!r}")
