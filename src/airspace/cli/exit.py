"""Leaving the program: quickly, once a command says nothing is left to tear down.

After a long download the interpreter's own teardown (every module and object freed one
by one, the exit handlers run) takes tens of milliseconds, and there is nothing left for
it to do: the file is on disk and every child process has exited.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import NoReturn

EXIT_CONFIG = 2
"""A setting that cannot be used (click's usage errors exit with 2 as well)."""

_teardown_needed = True


def skip_teardown() -> None:
    """The command's work is complete: leave without the interpreter's teardown."""
    global _teardown_needed
    _teardown_needed = False


def leave(code: int | str | None) -> NoReturn:
    """Exit with ``code`` as ``sys.exit`` would."""
    if _teardown_needed or isinstance(code, str):
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe, a closed stream
            stream.flush()
    os._exit(code or 0)
