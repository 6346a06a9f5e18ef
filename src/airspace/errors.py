"""Domain errors. Services raise these; the HTTP and CLI boundaries turn them into responses."""

from __future__ import annotations


class AirspaceError(Exception):
    """An error a user can act on. ``status_code`` is the HTTP status it maps to."""

    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers the error's response carries."""
        return {}


class Unauthenticated(AirspaceError):
    status_code = 401


class Forbidden(AirspaceError):
    status_code = 403


class NotFound(AirspaceError):
    status_code = 404


class Conflict(AirspaceError):
    status_code = 409


class Gone(AirspaceError):
    status_code = 410


class Invalid(AirspaceError):
    status_code = 422


class TooManyRequests(AirspaceError):
    status_code = 429

    def __init__(self, detail: str, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
        """Seconds until the client may try again (the ``Retry-After`` header)."""

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after else {}


class ConfigError(Exception):
    """A setting that cannot be used. The message names the variable and the reason."""
