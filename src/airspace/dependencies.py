"""Request-scoped dependencies shared by every API and page route."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from airspace.wiring import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_db(services: Annotated[Services, Depends(get_services)]) -> Iterator[Session]:
    """A session for one request; views commit explicitly, anything else is rolled back."""
    with services.sessions() as session:
        yield session


ServicesDep = Annotated[Services, Depends(get_services)]
DbDep = Annotated[Session, Depends(get_db)]
