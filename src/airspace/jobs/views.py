"""Job status API."""

from __future__ import annotations

from fastapi import APIRouter

from airspace.accounts.auth import CurrentUser
from airspace.dependencies import ServicesDep
from airspace.jobs.schemas import JobRunOut
from airspace.jobs.status import get_run

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("/{job_id}")
def get_job(job_id: str, services: ServicesDep, user: CurrentUser) -> JobRunOut:
    """Queued, running (with progress from 0 to 1), done, or failed with a reason."""
    return JobRunOut.model_validate(get_run(services, job_id))
