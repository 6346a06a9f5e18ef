"""Text that people type: printable, so every database and every page can hold it."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator

from airspace.errors import Invalid

ALLOWED_CONTROLS = frozenset("\n\t")


def check_printable(value: str) -> str:
    """Refuse control characters (NUL and friends) other than newline and tab."""
    for char in value:
        if char not in ALLOWED_CONTROLS and unicodedata.category(char) in ("Cc", "Cs"):
            raise ValueError(f"contains a control character (U+{ord(char):04X})")
    return value


PlainText = Annotated[str, AfterValidator(check_printable)]


def printable(value: str, what: str) -> str:
    """``value`` if it holds no control characters, else a clear 400 naming ``what``."""
    try:
        return check_printable(value)
    except ValueError as exc:
        raise Invalid(f"{what} {exc}") from None


def multiline(value: str, what: str) -> str:
    """Typed text that may run over lines: a form's CRLF line breaks become LF, then it
    must be printable."""
    return printable(value.replace("\r\n", "\n").replace("\r", "\n"), what)
