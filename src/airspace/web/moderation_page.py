"""The moderators' page: open reports, oldest first, each with its Space, the reason,
the reporter's words, where in the replay they were, and the two decisions; for admins,
the newest entries of the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from airspace.accounts.auth import CSRF_FIELD, FormUser, OptionalUser, check_csrf
from airspace.accounts.models import Role, User
from airspace.dependencies import DbDep, ServicesDep
from airspace.errors import AirspaceError
from airspace.moderation import audit
from airspace.moderation import services as moderation
from airspace.moderation.models import ReportStatus
from airspace.spaces.models import Space
from airspace.web.error_pages import page_for
from airspace.web.pages import render, to_login
from airspace.wiring import Services

router = APIRouter(include_in_schema=False)
QUEUE_LENGTH = 100
AUDIT_LENGTH = 50
"""The newest audit entries the page shows admins (``GET /api/v1/audit`` pages back)."""


def _page(
    request: Request,
    services: Services,
    db: DbDep,
    user: User,
    message: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    try:
        reports = moderation.reports(db, user, ReportStatus.OPEN, QUEUE_LENGTH)
    except AirspaceError as exc:
        return page_for(exc, request, services, user)
    spaces = {r.space_id: db.get(Space, r.space_id) for r in reports}
    titles = {key: space.title if space else key for key, space in spaces.items()}
    log = audit.entries(db, AUDIT_LENGTH) if user.role is Role.ADMIN else []
    return render(
        request,
        services,
        "moderation.html",
        user,
        status_code,
        reports=reports,
        titles=titles,
        audit_entries=log,
        message=message,
    )


@router.get("/moderation", response_class=HTMLResponse)
def moderation_page(
    request: Request, services: ServicesDep, db: DbDep, user: OptionalUser
) -> Response:
    if user is None:
        return to_login("/moderation")
    return _page(request, services, db, user)


@router.post("/moderation/reports/{report_id}", response_class=HTMLResponse)
def decide(
    report_id: int,
    request: Request,
    services: ServicesDep,
    db: DbDep,
    user: FormUser,
    decision: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    check_csrf(request, services.settings, csrf_token)
    if user is None:
        return to_login("/moderation")
    try:
        status = ReportStatus(decision)
        now = services.clock.now()
        report = moderation.decide(db, user, report_id, status, now)
        target = f"report:{report.id}"
        audit.record(db, user, "report.decided", target, now, status=status.value)
    except ValueError:
        return _page(request, services, db, user, "choose dismiss or actioned", 422)
    except AirspaceError as exc:
        db.rollback()
        return _page(request, services, db, user, exc.detail, exc.status_code)
    db.commit()
    return _page(request, services, db, user, f"Report {report_id} {status.value}.")
