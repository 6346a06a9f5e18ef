"""Where downloader children (fetchers, encoders, converters) are started from: the
standard library's fork server, a fresh interpreter that imports the downloader once
and forks each child from that state. A child never inherits the parent's threads,
locks or running event loop, whatever the parent is (the command, a web worker).

Its own start-up (the interpreter and those imports, a few tenths of a second) runs on
another core while the download resolves its link: the command starts it first.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
from multiprocessing.context import ForkServerContext

PRELOAD = ["airspace.downloader.converters", "airspace.downloader.fetch_workers"]


def child_context() -> ForkServerContext:
    """The context children start from."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def start_fork_server() -> None:
    """Start the server in the background, if it is not running yet."""
    from multiprocessing import forkserver

    child_context()
    threading.Thread(target=forkserver.ensure_running, daemon=True).start()


def started_as_child() -> None:
    """First thing in every child: Ctrl-C is the parent's to handle (it stops the
    children, and what they finished stays)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
