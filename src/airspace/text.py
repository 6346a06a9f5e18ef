"""Text that people type: printable, so every database and every page can hold it."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field

from airspace.errors import Invalid

ALLOWED_CONTROLS = frozenset("\n\t")


def check_printable(value: str) -> str:
    """Refuse control characters (NUL and friends) other than newline and tab."""
    for char in value:
        if char not in ALLOWED_CONTROLS and unicodedata.category(char) in ("Cc", "Cs"):
            raise ValueError(f"contains a control character (U+{ord(char):04X})")
    return value


CONTROLS = r"\u0000-\u0008\u000b-\u001f\u007f-\u009f"
PRINTABLE_PATTERN = rf"^[^{CONTROLS}]*$"
"""``check_printable`` as the API description states it (ECMA-262, as JSON Schema's). It
leaves out the lone surrogates ``check_printable`` also refuses: only an escape in JSON
text makes one, and generators of test data mishandle a class that names them."""
VISIBLE_PATTERN = rf"^[^{CONTROLS}]*[^\s{CONTROLS}][^{CONTROLS}]*$"
"""Printable, with something besides spaces (what names and titles must be)."""
PlainText = Annotated[
    str, AfterValidator(check_printable), Field(json_schema_extra={"pattern": PRINTABLE_PATTERN})
]
VisibleText = Annotated[
    str, AfterValidator(check_printable), Field(json_schema_extra={"pattern": VISIBLE_PATTERN})
]
"""Text that must show something: the services refuse one that is only spaces."""


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
