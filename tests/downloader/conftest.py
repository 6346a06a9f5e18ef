from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.downloader.hls_server import FakeServer


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer().running() as running:
        yield running
