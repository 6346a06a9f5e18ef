from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from airspace.downloader.formats import DEFAULT_TEMPLATE
from airspace.downloader.naming import render, safe_name
from airspace.downloader.sources import SpaceInfo

INFO = SpaceInfo(
    title="What's next? AI/ML: <the> future | part 2",
    host="Ada",
    space_id="1AbCdEfGhIjKl",
    date=datetime(2026, 11, 20, 21, tzinfo=UTC),
)


def test_default_template() -> None:
    assert render(DEFAULT_TEMPLATE, INFO, "mp3") == Path(
        "Ada - What's next_ AI_ML_ _the_ future _ part 2 (2026-11-20).mp3"
    )


def test_values_cannot_add_directories() -> None:
    info = SpaceInfo(title="../../etc/passwd", host="..", space_id="x")
    path = render("out/%(host)s/%(title)s.%(ext)s", info, "mp3")
    assert path.parts[0] == "out"
    assert ".." not in path.parts


def test_template_errors() -> None:
    with pytest.raises(ValueError, match="fields"):
        render("%(nope)s.%(ext)s", INFO, "mp3")
    with pytest.raises(ValueError, match=r"\.\."):
        render("../%(title)s.%(ext)s", INFO, "mp3")


def test_safe_name_limits() -> None:
    assert safe_name("...") == "download"
    assert len(safe_name("é" * 500).encode()) <= 200
    assert safe_name("a\x00b\nc") == "a_b_c"
