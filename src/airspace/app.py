"""The ASGI application: API, pages and media, wired to one set of services."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any, Literal

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.types import Receive, Scope, Send

from airspace import __version__
from airspace.accounts.views import router as accounts_router
from airspace.api_contract import complete_errors, state_topics
from airspace.archive.views import doors as archive_doors
from airspace.archive.views import router as archive_router
from airspace.captions.views import api as captions_api
from airspace.captions.views import media as captions_media
from airspace.delivery.access import stored_generations
from airspace.delivery.fast_path import ListenerFastPath
from airspace.delivery.views import router as media_doors_router
from airspace.downloader.views import api as downloads_api
from airspace.downloader.views import pages as downloads_pages
from airspace.http_errors import BodySizeLimit, install_error_handlers
from airspace.jobs.registry import DOWNLOADS_LANE, JOBS_LANE
from airspace.jobs.status import queue_health
from airspace.jobs.views import router as jobs_router
from airspace.live import leases
from airspace.live.forwarding import RoomCommandForwarding
from airspace.live.ice_views import router as ice_router
from airspace.live.live_room import LiveRoom
from airspace.live.playlists import router as live_media_router
from airspace.live.room_socket import router as room_socket_router
from airspace.live.rooms import LiveRooms
from airspace.live.views import router as rooms_router
from airspace.moderation.actions import router as moderation_actions_router
from airspace.moderation.views import router as moderation_router
from airspace.recordings.playback import router as playback_router
from airspace.recordings.views import doors as recording_doors
from airspace.recordings.views import router as recordings_router
from airspace.sharing.clip_views import doors as clip_doors
from airspace.sharing.clip_views import router as clips_router
from airspace.sharing.views import router as sharing_router
from airspace.spaces.models import Space
from airspace.spaces.phase_socket import PhaseWatch
from airspace.spaces.phase_socket import router as phase_socket_router
from airspace.spaces.views import router as spaces_router
from airspace.web.clip_page import router as clip_page_router
from airspace.web.create_page import router as create_page_router
from airspace.web.error_pages import browser_error
from airspace.web.moderation_page import router as moderation_page_router
from airspace.web.oembed import router as oembed_router
from airspace.web.pages import STATIC_DIR
from airspace.web.pages import router as pages_router
from airspace.web.search_page import router as search_page_router
from airspace.web.security_headers import SecurityHeaders
from airspace.web.settings_page import router as settings_page_router
from airspace.web.sharing_pages import router as sharing_pages_router
from airspace.wiring import Services, create_media_engine

API_PREFIX = "/api/v1"
QUEUE_STUCK_SECONDS = 120.0
"""A job waiting this long while no worker has started one meanwhile: nothing consumes."""
GENERATIONS_RELOAD_SECONDS = 30.0
"""How often a node rereads revoked media generations, in case it missed an announcement."""
logger = logging.getLogger(__name__)


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    node: str
    jobs_queued: int
    oldest_queued_seconds: float | None
    last_job_started_seconds_ago: float | None


def _load_generations(services: Services) -> None:
    with services.sessions() as session:
        services.generations.load(stored_generations(session))


async def _reload_generations(services: Services) -> None:
    while True:
        await asyncio.sleep(GENERATIONS_RELOAD_SECONDS)
        try:
            await asyncio.to_thread(_load_generations, services)
        except Exception:  # the database is away for a moment: try again next time
            logger.warning("could not reload media generations", exc_info=True)


def create_app(services: Services, *, run_jobs: bool = False) -> AirspaceApp:
    """Build the app. With ``run_jobs`` and an in-process queue, jobs run inside it."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        consumer = None
        if run_jobs and services.jobs.in_process:
            settings = services.settings
            lanes = {JOBS_LANE: settings.job_workers, DOWNLOADS_LANE: settings.download_workers}
            consumer = services.jobs.start_consumer(lanes)
            logger.info("job consumer running in process")
        await asyncio.to_thread(_load_generations, services)
        reloading = asyncio.create_task(_reload_generations(services))
        engine = create_media_engine(services)
        await engine.start()  # worker processes ready before the first room needs them
        rooms = LiveRooms(services, engine)
        app.state.rooms = rooms
        await rooms.recover()
        leasing = asyncio.create_task(rooms.run())
        relaying = asyncio.create_task(services.relay.serve(services.settings.node_id, app))
        try:
            yield
        finally:
            for task in (reloading, leasing, relaying):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await rooms.shutdown()
            if consumer is not None:
                consumer.stop(graceful=True)
            await services.events.close()
            await services.relay.close()

    app = AirspaceApp(
        title="Airspace",
        version=__version__,
        description="Live audio Spaces that are recorded, replayed, captioned and downloaded.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.phase_watch = PhaseWatch(services)
    install_error_handlers(app, browser_error)
    for router in (
        accounts_router,
        spaces_router,
        rooms_router,
        room_socket_router,
        ice_router,
        phase_socket_router,
        recordings_router,
        captions_api,
        jobs_router,
        downloads_api,
        oembed_router,
        sharing_router,
        clips_router,
        archive_router,
        moderation_router,
        moderation_actions_router,
    ):
        app.include_router(router, prefix=API_PREFIX)

    @app.get(f"{API_PREFIX}/health", tags=["meta"])
    def health() -> Health:
        """``degraded`` when jobs wait and no worker has taken one for a while (none
        consumes the queue); the queue's depth and ages say how far behind it is."""
        now = services.clock.now()
        with services.sessions() as session:
            queue = queue_health(session)
        oldest = (now - queue.oldest_queued_at).total_seconds() if queue.oldest_queued_at else None
        idle = (now - queue.last_started_at).total_seconds() if queue.last_started_at else None
        stuck = oldest is not None and oldest > QUEUE_STUCK_SECONDS
        consuming = idle is not None and idle <= QUEUE_STUCK_SECONDS
        return Health(
            status="degraded" if stuck and not consuming else "ok",
            version=__version__,
            node=services.settings.node_id,
            jobs_queued=queue.queued,
            oldest_queued_seconds=round(oldest, 1) if oldest is not None else None,
            last_job_started_seconds_ago=round(idle, 1) if idle is not None else None,
        )

    app.include_router(media_doors_router)
    app.include_router(clip_doors)
    app.include_router(recording_doors)
    app.include_router(archive_doors)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(live_media_router)
    app.include_router(playback_router)
    app.include_router(captions_media)
    app.include_router(pages_router)
    app.include_router(search_page_router)
    app.include_router(create_page_router)
    app.include_router(settings_page_router)
    app.include_router(sharing_pages_router)
    app.include_router(clip_page_router)
    app.include_router(moderation_page_router)
    app.include_router(downloads_pages)
    app.add_middleware(BodySizeLimit, max_bytes=services.settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(
        RoomCommandForwarding,
        relay=services.relay,
        node_id=services.settings.node_id,
        holder_of=partial(_room_holder, services),
        hosts=lambda space_id: space_id in _rooms_of(app),
    )
    app.fast_path = ListenerFastPath(
        partial(FastAPI.__call__, app),
        grants=services.grants,
        generations=services.generations,
        storage=services.storage,
        rooms=lambda: _rooms_of(app),
        now=services.clock.timestamp,
    )
    return app


class AirspaceApp(FastAPI):
    """The app, with the listener fast path ahead of all of FastAPI's machinery: media
    requests never pass through its middleware stack."""

    fast_path: ListenerFastPath | None = None

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            schema = complete_errors(super().openapi(), self.routes)
            topics = self.state.services.settings.topics
            state_topics(schema, topics, bodies=("SpaceCreate", "SpaceUpdate"))
            self.openapi_schema = schema
        return self.openapi_schema

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.fast_path is not None:
            await self.fast_path(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


async def _room_holder(services: Services, space_id: str) -> str | None:
    """The node whose lease on the live room of ``space_id`` holds, if any."""

    def lookup() -> str | None:
        with services.sessions() as session:
            space = session.get(Space, space_id)
            return leases.holder(space, services.clock.now()) if space is not None else None

    return await asyncio.to_thread(lookup)


def _rooms_of(app: FastAPI) -> dict[str, LiveRoom]:
    rooms: LiveRooms | None = getattr(app.state, "rooms", None)
    return rooms.rooms if rooms is not None else {}
