"""The HTTP side: a bounded ThreadingHTTPServer serving the store and the probes as JSON."""
from __future__ import annotations

import json
import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any

from apps.news_api.articles import ArticleStore
from apps.news_api.bounded_server import BoundedThreadingHTTPServer

log = logging.getLogger(__name__)

ENDPOINTS = {
    "/news/getAll": "the articles received from the queue, oldest first",
    "/healthz": "200 while the process serves",
    "/readyz": "200 once subscribed to the queue, 503 otherwise",
}


#: Connections handled at once; more get a 503 (bounded_server.py).
MAX_CONNECTIONS = 64
#: A connection that sends nothing for this long (idle keep-alive, a stalled client) is closed.
TIMEOUT_SECONDS = 10


def make_server(store: ArticleStore, subscribed: threading.Event, host: str, port: int,
                max_connections: int = MAX_CONNECTIONS,
                timeout: float = TIMEOUT_SECONDS) -> BoundedThreadingHTTPServer:
    """A server bound to host:port (port 0: any free port; see server.server_address)."""

    class Handler(NewsHandler):
        pass

    Handler.store, Handler.subscribed, Handler.timeout = store, subscribed, timeout
    return BoundedThreadingHTTPServer((host, port), Handler, max_connections)


class NewsHandler(BaseHTTPRequestHandler):
    store: ArticleStore
    subscribed: threading.Event
    server_version = "news-api"
    sys_version = ""

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/news/getAll":
            self._send(HTTPStatus.OK, self.store.all())
        elif path == "/":
            self._send(HTTPStatus.OK, {"service": "news-api", "articles": len(self.store),
                                       "endpoints": ENDPOINTS})
        elif path == "/healthz":
            self._send(HTTPStatus.OK, {"status": "alive"})
        elif path == "/readyz":
            if self.subscribed.is_set():
                self._send(HTTPStatus.OK, {"status": "subscribed"})
            else:
                self._send(HTTPStatus.SERVICE_UNAVAILABLE, {"status": "not subscribed"})
        else:
            self._send(HTTPStatus.NOT_FOUND, {"error": f"no such endpoint: {path}",
                                              "endpoints": ENDPOINTS})

    def _send(self, status: HTTPStatus, document: Any) -> None:
        send_json(self, status, document)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the stdlib's name)
        log.debug("%s %s", self.address_string(), format % args)  # probes would flood INFO


def send_json(handler: BaseHTTPRequestHandler, status: HTTPStatus, document: Any) -> None:
    """Answer the handler's request with `document` as JSON."""
    body = json.dumps(document, allow_nan=False).encode()  # never invalid JSON (see message_json)
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
