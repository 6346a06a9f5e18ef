"""Job status API."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from airspace.accounts.auth import CurrentUser
from airspace.accounts.models import Role
from airspace.api_contract import errors
from airspace.dependencies import DbDep
from airspace.errors import NotFound
from airspace.ids import is_space_id
from airspace.jobs.models import JobRun
from airspace.jobs.schemas import JobRunOut
from airspace.spaces.models import Space

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("/{job_id}", responses=errors(404))
def get_job(job_id: str, db: DbDep, user: CurrentUser) -> JobRunOut:
    """Queued, running (with progress from 0 to 1), done, or failed with a reason. A job
    about a Space is shown to its host, and every job to admins; to anyone else a job
    does not exist (404). Downloads report through ``GET /downloads/{id}``."""
    run = db.get(JobRun, job_id)
    if run is None or not _may_see(db, run, user.id, user.role is Role.ADMIN):
        raise NotFound(f"no job {job_id}")
    return JobRunOut.model_validate(run)


def _may_see(db: Session, run: JobRun, user_id: int, admin: bool) -> bool:
    if admin:
        return True
    subject = run.subject or ""
    space = db.get(Space, subject) if is_space_id(subject) else None
    return space is not None and space.host_id == user_id
