"""A ThreadingHTTPServer with a bound on its connection threads.

The stdlib server starts one thread per connection without limit; a few hundred idle clients
would each hold one. Here a connection beyond the bound gets an immediate 503 on the accepting
thread and is closed (waiting for a slot there would also hold up shutdown()), and the handler's
socket timeout (its `timeout` attribute) ends idle and slow connections so slots come back.
"""
from __future__ import annotations

import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

log = logging.getLogger(__name__)

BUSY_RESPONSE = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                 b"Retry-After: 1\r\nConnection: close\r\nContent-Length: 18\r\n\r\n"
                 b'{"status": "busy"}')
#: How long the accepting thread may spend writing BUSY_RESPONSE to a client that does not read.
BUSY_SEND_SECONDS = 0.5


class BoundedThreadingHTTPServer(ThreadingHTTPServer):
    """At most `max_connections` connections are handled at once, each on its own thread."""

    daemon_threads = True  # an open keep-alive connection must not hold up shutdown
    #: The listen backlog (the stdlib's is 5): a burst of connections waits to be answered, 503
    #: or not, instead of having its SYNs dropped and retried a second later. 128 overflowed in
    #: about one run in two of 200 connections opened at once on loopback; the kernel caps it at
    #: net.core.somaxconn (4096 by default).
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler],
                 max_connections: int) -> None:
        super().__init__(address, handler)
        self.max_connections = max_connections
        self._slots = threading.BoundedSemaphore(max_connections)
        self._refusing = False  # said once per busy spell, not once per connection

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self._refuse(request)
            return
        self._refusing = False
        try:
            super().process_request(request, client_address)  # starts the connection's thread
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _refuse(self, request: socket.socket) -> None:
        if not self._refusing:
            self._refusing = True
            log.warning("all %d connection slots are busy: answering 503 until one frees",
                        self.max_connections)
        try:
            request.settimeout(BUSY_SEND_SECONDS)
            request.sendall(BUSY_RESPONSE)
        except OSError:
            pass  # the client is gone or does not read: closing is all that is left
        self.shutdown_request(request)
