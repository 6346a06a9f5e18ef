"""A TCP forwarder to put between a server and what it depends on, to take that away.

    with TcpProxy(upstream_port=5432) as proxy:   # clients connect to proxy.port
        proxy.cut()       # every connection closed, new ones refused (nothing listens)
        proxy.restore()   # the same port accepts and forwards again

Threads and blocking sockets: one thread accepts, two pump each connection's bytes.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType

from tests.e2e.processes import free_port

CHUNK_BYTES = 65_536
ACCEPT_POLL_SECONDS = 0.2
"""How often the accepting thread looks whether it should stop."""


class TcpProxy:
    """Forwards ``127.0.0.1:port`` to ``127.0.0.1:upstream_port`` until cut."""

    def __init__(self, upstream_port: int, port: int | None = None) -> None:
        self.upstream_port = upstream_port
        self.port = port or free_port()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._accepting: threading.Thread | None = None
        self._stop = threading.Event()

    def __enter__(self) -> TcpProxy:
        self.restore()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.cut()

    @property
    def connections(self) -> int:
        """Connections forwarded now (two sockets each)."""
        with self._lock:
            return len(self._sockets) // 2

    def restore(self) -> None:
        """Listen on ``port`` again and forward every connection made from now on."""
        assert self._listener is None, "already forwarding"
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        listener.settimeout(ACCEPT_POLL_SECONDS)
        self._stop = threading.Event()
        self._listener = listener
        self._accepting = threading.Thread(
            target=self._accept, args=(listener, self._stop), name="proxy-accept", daemon=True
        )
        self._accepting.start()

    def cut(self) -> None:
        """Close every forwarded connection and stop listening: clients see their
        connections drop and new ones refused, as when the server behind is gone."""
        if self._listener is None:
            return
        self._stop.set()
        assert self._accepting is not None
        self._accepting.join(timeout=5)
        self._listener.close()
        self._listener = None
        with self._lock:
            doomed, self._sockets = self._sockets, set()
        for sock in doomed:
            _close(sock)

    def _accept(self, listener: socket.socket, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            except OSError:
                _close(client)
                continue
            with self._lock:
                if stop.is_set():
                    _close(client)
                    _close(upstream)
                    return
                self._sockets |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(
                    target=self._pump, args=(source, sink), name="proxy-pump", daemon=True
                ).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        """Copy bytes one way until either side closes; then close both."""
        try:
            while data := source.recv(CHUNK_BYTES):
                sink.sendall(data)
        except OSError:
            pass  # closed by ``cut`` or by a peer
        with self._lock:
            self._sockets -= {source, sink}
        _close(source)
        _close(sink)


def _close(sock: socket.socket) -> None:
    """Close at once, so the peer sees the connection end (not a half-open one)."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
