"""The one place where settings pick an implementation for each external part."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from airspace.captions.recognizer import SpeechRecognizer, WhisperRecognizer
from airspace.clock import Clock, SystemClock
from airspace.config import Settings
from airspace.db.base import import_all_models
from airspace.db.engine import create_database_engine, create_session_factory
from airspace.delivery.generations import (
    LocalMediaGenerations,
    MediaGenerations,
    RedisMediaGenerations,
)
from airspace.delivery.grants import MediaGrants
from airspace.jobs.queue import JobQueue, create_job_queue
from airspace.live.events import InProcessRoomEvents, RedisRoomEvents, RoomEvents
from airspace.live.forwarding import LocalRoomRelay, RedisRoomRelay, RoomRelay
from airspace.media.engine import MediaEngine
from airspace.media.mp3_encoders import lame_library
from airspace.ratelimit import LocalRateLimits, RateLimits, RedisRateLimits
from airspace.sharing.doorbell import (
    Doorbell,
    LocalDoorbell,
    RedisDoorbell,
    ring_after_commit,
)
from airspace.storage import create_storage
from airspace.storage.interfaces import Storage


@dataclass
class Services:
    settings: Settings
    clock: Clock
    engine: Engine
    sessions: sessionmaker[Session]
    storage: Storage
    events: RoomEvents
    jobs: JobQueue
    recognizer: SpeechRecognizer
    grants: MediaGrants
    generations: MediaGenerations
    relay: RoomRelay
    limits: RateLimits
    doorbell: Doorbell

    def close(self) -> None:
        self.generations.close()
        self.doorbell.close()
        self.engine.dispose()


def create_room_events(url: str) -> RoomEvents:
    if urlsplit(url).scheme in ("redis", "rediss"):
        return RedisRoomEvents(url)
    return InProcessRoomEvents()


def create_room_relay(url: str) -> RoomRelay:
    """How room commands reach the node holding the room: over Redis across nodes."""
    if urlsplit(url).scheme in ("redis", "rediss"):
        return RedisRoomRelay(url)
    return LocalRoomRelay()


def create_rate_limits(url: str) -> RateLimits:
    """Where rate limits count: in process, or in Redis so every node shares them."""
    if urlsplit(url).scheme in ("redis", "rediss"):
        return RedisRateLimits(url)
    return LocalRateLimits()


def create_media_generations(url: str) -> MediaGenerations:
    """Where revocations of media travel: with the room events (Redis across nodes)."""
    if urlsplit(url).scheme in ("redis", "rediss"):
        return RedisMediaGenerations(url)
    return LocalMediaGenerations()


def create_doorbell(url: str) -> Doorbell:
    """How new notifications reach a user's open pages: across nodes through Redis."""
    if urlsplit(url).scheme in ("redis", "rediss"):
        return RedisDoorbell(url)
    return LocalDoorbell()


def create_media_engine(services: Services) -> MediaEngine:
    """The media engine for live rooms: aiortc, in worker processes (one per core by
    default) or inside the server process. Either stores the rooms' programs in the
    services' storage (a worker opens the same storage for itself)."""
    settings = services.settings
    buffer_packets = max(1, min(16, settings.speaker_buffer_ms // 20))
    if settings.media_workers > 0:
        from airspace.media.process_engine import ProcessMediaEngine

        return ProcessMediaEngine(
            settings.media_workers,
            settings.speaker_timeout_seconds,
            buffer_packets,
            settings.media_address,
            settings.ice,
            storage_url=settings.storage_url,
        )
    from airspace.media.aiortc_engine import AiortcMediaEngine  # loads aiortc and PyAV

    return AiortcMediaEngine(
        settings.speaker_timeout_seconds,
        buffer_packets,
        settings.media_address,
        settings.ice,
        storage=services.storage,
        clock=services.clock,
    )


def create_recognizer(settings: Settings) -> SpeechRecognizer:
    """Speech recognition for captions: faster-whisper with the configured local model."""
    return WhisperRecognizer(settings.asr_model)


def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    """Create every service from ``settings``; raises ConfigError for unusable settings."""
    import_all_models()
    # The MP3 encoder's library (recordings' renditions, downloads): one named by
    # AIRSPACE_LAME_LIBRARY that does not load is refused now, not at the first MP3 job.
    lame_library()
    engine = create_database_engine(settings.database_url)
    sessions = create_session_factory(engine)
    doorbell = create_doorbell(settings.events_url)
    ring_after_commit(sessions, doorbell)
    services = Services(
        settings=settings,
        clock=clock or SystemClock(),
        engine=engine,
        sessions=sessions,
        storage=create_storage(settings.storage_url),
        events=create_room_events(settings.events_url),
        jobs=create_job_queue(settings.queue_url),
        recognizer=create_recognizer(settings),
        grants=MediaGrants(settings.secret_key),
        generations=create_media_generations(settings.events_url),
        relay=create_room_relay(settings.events_url),
        limits=create_rate_limits(settings.events_url),
        doorbell=doorbell,
    )
    services.jobs.bind(services)
    return services
