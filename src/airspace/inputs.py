"""Request bodies as the API description states them: exactly the fields described, each
of exactly the type described (no ``1`` for ``true``, no ``"5"`` for ``5``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _text_only(value: Any) -> Any:
    if not isinstance(value, str | datetime):
        raise ValueError("must be a date-time string (ISO 8601)")
    return value


def whole_number(value: Any) -> Any:
    """An integer in a request body: ``5`` or ``5.0``, never ``"5"`` or ``true``. (Put
    after a field's bounds in ``Annotated``, so that the description keeps them.)"""
    if isinstance(value, float) and value.is_integer():
        return int(value)  # JSON Schema's integers include 5.0
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be an integer")
    return value


MAX_ROW_ID = 2**31 - 1
"""The largest row id: ids in paths and queries above it are refused, not looked up."""


class InputModel(BaseModel):
    """A request body: unknown fields are refused and values are not coerced."""

    model_config = ConfigDict(extra="forbid", strict=True)


Timestamp = Annotated[datetime, BeforeValidator(_text_only), Field(strict=False)]
"""A date-time in a request body: an ISO 8601 string (with its zone, or UTC)."""
