"""The process every downloader child comes from (fetchers, encoders, converters).

A fork server imports the downloader once, then forks each child from that state in
milliseconds. Its own start-up (a fresh interpreter and those imports, a few tenths of
a second) runs on another core while the command imports and resolves the link.
Children never fork from the downloading process itself, which may be a web worker
with threads of its own.
"""

from __future__ import annotations

import multiprocessing
import threading
from multiprocessing.context import ForkServerContext

PRELOAD = ["airspace.downloader.converters", "airspace.downloader.fetch_workers"]


def fork_server() -> ForkServerContext:
    """The context downloader children are started from."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def start_fork_server() -> None:
    """Start the server in the background, if it is not running yet."""
    from multiprocessing import forkserver

    fork_server()
    threading.Thread(target=forkserver.ensure_running, daemon=True).start()
