"""The download page and its API: paste a Space link, get an MP3."""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime, timedelta
from typing import Annotated, Literal
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Request, status
from fastapi.responses import FileResponse, HTMLResponse, Response
from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import AfterValidator, BaseModel, Field
from sqlalchemy.orm import Session

from airspace.accounts.auth import CurrentUser, OptionalUser
from airspace.accounts.models import User
from airspace.api_contract import errors
from airspace.dependencies import DbDep, ServicesDep
from airspace.downloader import pending
from airspace.downloader.address_guard import is_public_address
from airspace.downloader.errors import DownloadError
from airspace.downloader.models import PendingDownload
from airspace.downloader.sources import classify, own_space_id
from airspace.errors import Conflict, Gone, Invalid, NotFound
from airspace.inputs import InputModel
from airspace.jobs.models import JobStatus
from airspace.jobs.status import get_run
from airspace.ratelimit import Limit, take
from airspace.recordings.services import replayable, require_download
from airspace.spaces import services as spaces
from airspace.spaces.models import Space, SpaceState
from airspace.wiring import Services

api = APIRouter(prefix="/downloads", tags=["downloads"])
LINK_PATTERN = (
    r"^[Hh][Tt][Tt][Pp][Ss]?://([^/?#@:\[\]\x00-\x20\x7f]+|\[[0-9A-Fa-f:.]+\])"
    r"(:[0-9]*)?([/?#][^\x00-\x20\x7f]*)?$"
)
"""An http(s) link with a host (a name, or an IP address; no user name), with no spaces or
control characters: the same to JSON Schema's regular expressions and to the server's."""
pages = APIRouter(include_in_schema=False)


def _link(value: str) -> str:
    if not re.fullmatch(LINK_PATTERN, value):
        raise ValueError("must be an http(s) link with a host, without spaces")
    return value


Link = Annotated[
    str,
    Field(min_length=1, max_length=2048, json_schema_extra={"pattern": LINK_PATTERN}),
    AfterValidator(_link),
]
"""An http(s) link, as the download requests take it."""


class DownloadRequest(InputModel):
    url: Annotated[
        Link, Field(description="An http(s) link: a Space on X or on an Airspace instance, or HLS.")
    ]
    format: Literal["mp3", "m4a"] = "mp3"


class DownloadOut(BaseModel):
    id: str
    status: JobStatus
    progress: float
    error: str | None = None
    title: str | None = None
    host: str | None = None
    duration_seconds: float | None = None
    warnings: list[str] = Field(default_factory=list)
    file_url: str | None = None
    expires_at: datetime | None = None


def _check_url(url: str, services: Services, db: Session, user: User | None) -> None:
    """Refuse at once what can be refused without a fetch; the job checks the rest."""
    try:
        classify(url)
    except DownloadError as exc:
        raise Invalid(exc.message) from None
    space_id = own_space_id(url, services.settings.public_url)
    if space_id is not None:  # read from this instance's storage, never fetched
        _check_own_space(services, db, space_id, user)
        return
    host = (urlsplit(url).hostname or "").lower()
    if host in services.settings.download_allow_hosts:
        return
    if host == "localhost" or host.endswith(".localhost"):
        raise Invalid("links to internal addresses are not fetched")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return
    if not is_public_address(address):
        raise Invalid("links to internal addresses are not fetched")


def _check_own_space(services: Services, db: Session, space_id: str, user: User | None) -> None:
    space = spaces.get(db, space_id)
    if space.state in pending.WAITABLE and space.record:
        when = "has not started yet" if space.state is SpaceState.SCHEDULED else "is live"
        raise Conflict(f"this Space {when}; ask to be notified and it downloads once it ends")
    space, recording = replayable(db, space_id, user, services.clock.now())
    require_download(space, recording, user)


def _serializer(services: Services) -> URLSafeSerializer:
    return URLSafeSerializer(services.settings.secret_key, salt="airspace.download-file")


@api.post("", status_code=status.HTTP_202_ACCEPTED, responses=errors(403, 404, 409, 410, 429))
def start_download(
    body: DownloadRequest, request: Request, services: ServicesDep, db: DbDep, user: OptionalUser
) -> DownloadOut:
    """Queue a download; poll ``GET /downloads/{id}`` for progress and the file link. A
    Space of this instance that has not ended yet: 409 (ask ahead with
    ``POST /downloads/ahead``)."""
    url = body.url.strip()
    _check_url(url, services, db, user)
    client = request.client.host if request.client else "unknown"
    limit = Limit("downloads", services.settings.download_rate_per_hour, timedelta(hours=1))
    take(services.limits, limit, client, services.clock.now(), "downloads from this address")
    arguments = {"for_user": user.id} if user is not None else {}
    run_id = services.jobs.enqueue(
        "downloads.fetch", subject=url[:100], url=url, fmt=body.format, **arguments
    )
    return DownloadOut(id=run_id, status=JobStatus.QUEUED, progress=0.0)


class AheadRequest(InputModel):
    url: Annotated[Link, Field(description="A link to a scheduled or live Space of this instance.")]
    format: Literal["mp3", "m4a"] = "mp3"


class AheadOut(BaseModel):
    space_id: str
    title: str
    state: SpaceState
    scheduled_start: datetime | None
    format: str
    link: str = Field(description="The Space's page on this instance.")


def _ahead_out(row: PendingDownload, space: Space) -> AheadOut:
    return AheadOut(
        space_id=space.id,
        title=space.title,
        state=space.state,
        scheduled_start=space.scheduled_start,
        format=row.format,
        link=f"/i/spaces/{space.id}",
    )


@api.post("/ahead", status_code=status.HTTP_201_CREATED, responses=errors(401, 404, 409))
def ask_ahead(body: AheadRequest, services: ServicesDep, db: DbDep, user: CurrentUser) -> AheadOut:
    """Ask for a Space of this instance that has not ended yet: you are notified when it
    starts, and again with the file once its replay is out."""
    space_id = own_space_id(body.url, services.settings.public_url)
    if space_id is None:
        raise Invalid(
            "only Spaces of this instance can be asked for ahead; "
            "`airspace download --wait` waits for any Airspace Space"
        )
    space = spaces.get(db, space_id)
    row = pending.ask(db, space, user, body.format, services.clock.now())
    db.commit()
    return _ahead_out(row, space)


@api.get("/ahead")
def list_ahead(db: DbDep, user: CurrentUser) -> list[AheadOut]:
    """The Spaces you asked to download once they end, the soonest first."""
    return [_ahead_out(row, space) for row, space in pending.of_user(db, user)]


@api.delete("/ahead/{space_id}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(404))
def withdraw_ahead(space_id: str, db: DbDep, user: CurrentUser) -> Response:
    """Take back a request made ahead."""
    pending.withdraw(db, space_id, user)
    db.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@api.get("/{download_id}", responses=errors(404))
def get_download(download_id: str, services: ServicesDep) -> DownloadOut:
    run = get_run(services, download_id)
    if run.name != "downloads.fetch":
        raise NotFound(f"no download {download_id}")
    out = DownloadOut(id=run.id, status=run.status, progress=run.progress, error=run.error)
    result = run.result or {}
    if run.status is JobStatus.DONE and result:
        expires = datetime.fromisoformat(str(result["expires_at"]))
        out.title = str(result.get("title"))
        out.host = str(result.get("host"))
        out.duration_seconds = float(str(result.get("duration")))
        warnings = result.get("warnings")
        out.warnings = [str(w) for w in warnings] if isinstance(warnings, list) else []
        out.expires_at = expires
        if not result.get("expired") and services.clock.now() < expires:
            token = _serializer(services).dumps(
                [result["file_key"], expires.timestamp(), result.get("filename")]
            )
            out.file_url = f"/download/files/{token}"
    return out


@pages.get("/download/files/{token}")
def download_file(token: str, services: ServicesDep) -> Response:
    try:
        key, expires, name = _serializer(services).loads(token)
    except (BadSignature, ValueError, TypeError):
        raise NotFound("no such file") from None
    if services.clock.now().timestamp() >= float(expires):
        raise Gone("this download link has expired; paste the Space link again")
    disposition = {
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(str(name), safe='')}"
    }
    storage = services.storage
    path = storage.file_path(str(key))
    if path is None:
        return Response(status_code=307, headers={"Location": str(storage.url(str(key), 900))})
    if not path.is_file():
        raise Gone("this download link has expired; paste the Space link again")
    return FileResponse(path, headers=disposition)


@pages.get("/download", response_class=HTMLResponse)
def download_page(request: Request, services: ServicesDep, user: OptionalUser) -> HTMLResponse:
    from airspace.web.pages import render

    return render(request, services, "download.html", user)
