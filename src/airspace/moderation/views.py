"""The report API: anyone may report a Space; moderators read and decide."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from airspace.accounts.auth import CurrentModerator, OptionalUser
from airspace.accounts.listeners import listener_of, remember_listener
from airspace.api_contract import errors
from airspace.dependencies import DbDep, ServicesDep
from airspace.inputs import MAX_ROW_ID, InputModel
from airspace.moderation import audit
from airspace.moderation import services as moderation
from airspace.moderation.models import ReportReason, ReportStatus
from airspace.ratelimit import Limit, take
from airspace.text import PlainText
from airspace.wiring import Services

router = APIRouter(tags=["moderation"])
REPORTS_LIMIT = Limit("reports", 10, timedelta(hours=1))
"""Reports from one address in an hour: enough for anyone, not for flooding the queue."""


def _check_rate(request: Request, services: Services) -> None:
    client = request.client.host if request.client else "unknown"
    take(services.limits, REPORTS_LIMIT, client, services.clock.now(), "reports from this address")


class ReportIn(InputModel):
    reason: ReportReason = Field(strict=False)
    details: PlainText = Field(default="", max_length=moderation.MAX_DETAILS)
    at_seconds: float | None = Field(default=None, ge=0, le=86_400 * 2)


class ReportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    space_id: str
    reason: ReportReason
    details: str
    at_seconds: float | None
    status: ReportStatus
    created_at: datetime


class Decision(InputModel):
    status: Literal["dismissed", "actioned"] = Field(
        description="A report is decided once: dismissed, or acted on."
    )


@router.post(
    "/spaces/{space_id}/reports",
    status_code=status.HTTP_201_CREATED,
    responses=errors(404, 409, 410, 429),
)
def report_space(
    space_id: str,
    body: ReportIn,
    request: Request,
    response: Response,
    services: ServicesDep,
    db: DbDep,
    user: OptionalUser,
) -> ReportOut:
    """Tell the moderators a Space breaks the rules (signed in or not; once per person)."""
    _check_rate(request, services)
    listener, new = listener_of(request)
    if new:
        remember_listener(response, listener)
    report = moderation.file_report(
        db,
        space_id,
        user,
        listener,
        body.reason,
        body.details,
        body.at_seconds,
        services.clock.now(),
    )
    db.commit()
    return ReportOut.model_validate(report)


@router.get("/reports")
def list_reports(
    db: DbDep,
    moderator: CurrentModerator,
    state: Annotated[ReportStatus, Query(alias="status")] = ReportStatus.OPEN,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ReportOut]:
    """The moderators' queue, oldest first."""
    return [ReportOut.model_validate(r) for r in moderation.reports(db, moderator, state, limit)]


@router.patch("/reports/{report_id}", responses=errors(404))
def decide_report(
    report_id: Annotated[int, Path(ge=1, le=MAX_ROW_ID)],
    body: Decision,
    services: ServicesDep,
    db: DbDep,
    moderator: CurrentModerator,
) -> ReportOut:
    report = moderation.decide(
        db, moderator, report_id, ReportStatus(body.status), services.clock.now()
    )
    audit.record(
        db,
        moderator,
        "report.decided",
        f"report:{report.id}",
        services.clock.now(),
        status=report.status.value,
        space_id=report.space_id,
    )
    db.commit()
    return ReportOut.model_validate(report)
