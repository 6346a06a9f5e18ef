"""The data archive over the API, and its download door for the signed-in owner."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from airspace.accounts.auth import CurrentUser, OptionalUser
from airspace.api_contract import errors
from airspace.archive import services as archives
from airspace.archive.models import Archive, ArchiveState
from airspace.dependencies import DbDep, ServicesDep
from airspace.errors import NotFound
from airspace.jobs.schemas import JobRunOut
from airspace.jobs.status import latest_run
from airspace.wiring import Services

router = APIRouter(tags=["archive"])
doors = APIRouter(include_in_schema=False)
BUILD = "archive.build"


class ArchiveOut(BaseModel):
    id: str
    state: ArchiveState
    created_at: datetime
    ready_at: datetime | None
    expires_at: datetime | None = Field(description="The download works until then.")
    size: int = Field(description="Bytes of the zip, once ready.")
    error: str
    download_url: str | None = Field(description="The zip, for its owner, while it is kept.")
    job: JobRunOut | None = Field(description="The build, with its progress.")


def archive_out(services: Services, db: DbDep, archive: Archive) -> ArchiveOut:
    run = latest_run(db, BUILD, archive.id)
    ready = archive.state is ArchiveState.READY
    return ArchiveOut(
        id=archive.id,
        state=archive.state,
        created_at=archive.created_at,
        ready_at=archive.ready_at,
        expires_at=archive.expires_at,
        size=archive.size,
        error=archive.error,
        download_url=f"{services.settings.public_url}/settings/archive/download" if ready else None,
        job=JobRunOut.model_validate(run) if run is not None else None,
    )


@router.post("/me/archive", status_code=status.HTTP_202_ACCEPTED, responses=errors(409))
def request_archive(services: ServicesDep, db: DbDep, user: CurrentUser) -> ArchiveOut:
    """Build an archive of your data (one at a time); you are notified when it is ready."""
    archive = archives.request(db, user, services.clock.now())
    db.commit()
    services.jobs.enqueue(BUILD, subject=archive.id, archive_id=archive.id)
    return archive_out(services, db, archive)


@router.get("/me/archive", responses=errors(404))
def get_archive(services: ServicesDep, db: DbDep, user: CurrentUser) -> ArchiveOut:
    """Your newest archive and how its build goes."""
    archive = archives.latest(db, user)
    if archive is None:
        raise NotFound("you have not asked for an archive")
    return archive_out(services, db, archive)


@doors.get("/settings/archive/download")
def download_archive(services: ServicesDep, db: DbDep, user: OptionalUser) -> Response:
    """The owner's zip: a redirect to it under a grant that lasts while it is kept."""
    if user is None:
        return Response(status_code=303, headers={"Location": "/login?next=/settings"})
    archive = archives.latest(db, user)
    if archive is None:
        raise NotFound("no archive is ready to download")
    location = archives.download_path(services, archive)
    return Response(status_code=302, headers={"Location": location, "Cache-Control": "no-store"})
