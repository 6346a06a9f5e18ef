"""Where downloader children (fetchers, encoders, converters) are started from.

A process that runs no other thread (the ``airspace download`` command) forks them
from itself: a fork costs a millisecond, and the child has everything imported already.

A process with threads of its own (a web worker) must not fork itself, since the
child could inherit a lock another thread holds at that moment. It uses a fork server:
a fresh interpreter that imports the downloader once and forks each child from that
state. Its own start-up (the interpreter and those imports, a few tenths of a second)
runs on another core while the download resolves its link.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import signal
import threading
from multiprocessing.context import ForkContext, ForkServerContext

PRELOAD = ["airspace.downloader.converters", "airspace.downloader.fetch_workers"]


_in_use = False


def fork_server() -> ForkServerContext:
    """The context of the fork server."""
    global _in_use
    _in_use = True
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def start_fork_server() -> None:
    """Start the server in the background, if it is not running yet."""
    from multiprocessing import forkserver

    fork_server()
    threading.Thread(target=forkserver.ensure_running, daemon=True).start()


def fork_server_in_use() -> bool:
    """Whether this process has used the fork server (and so multiprocessing's resource
    tracker, which expects the interpreter's teardown to release what it tracks)."""
    return _in_use


def child_context() -> ForkContext | ForkServerContext:
    """How to start a child now: a fork of this process when it runs no other thread,
    else the fork server."""
    if threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return fork_server()


def started_as_child() -> None:
    """First thing in every child: Ctrl-C is the parent's to handle (it stops the
    children, and what they finished stays), and a fork of a process that was running
    an event loop may run one of its own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    asyncio.events._set_running_loop(None)
