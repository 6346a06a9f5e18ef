"""Leaving the program: with the interpreter's teardown, unless a command skipped it."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


PROGRAM = """
    import atexit, sys
    from airspace.cli.exit import leave, skip_teardown

    atexit.register(lambda: print("torn down"))
    print("done", end="")  # still buffered when the program leaves
    print("warning", file=sys.stderr, end="")
    {skip}
    leave({code})
"""


def test_a_command_that_skipped_teardown_leaves_at_once_with_its_output() -> None:
    result = run(PROGRAM.format(skip="skip_teardown()", code=20))
    assert (result.returncode, result.stdout, result.stderr) == (20, "done", "warning")


def test_otherwise_the_teardown_runs() -> None:
    result = run(PROGRAM.format(skip="", code=0))
    assert (result.returncode, result.stdout) == (0, "donetorn down\n")


def test_a_message_as_exit_code_is_printed_as_sys_exit_does() -> None:
    result = run(PROGRAM.format(skip="skip_teardown()", code="'Error: bad'"))
    assert result.returncode == 1
    assert result.stderr.endswith("Error: bad\n")
