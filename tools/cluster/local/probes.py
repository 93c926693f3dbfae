"""Readiness probes: does a component answer on its health endpoint yet?"""

from __future__ import annotations

import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

Probe = Callable[[], bool]


def http_ok(url: str, ca_file: Path | None = None, client: tuple[Path, Path] | None = None) -> Probe:
    """A probe that is true when GET `url` answers 200.

    With `ca_file` the server certificate is verified; without it (components on loopback that
    serve a self-signed certificate) it is not. `client` (certificate, key) is presented to
    servers that admit no one without one (etcd, the API server without anonymous access).
    """
    if ca_file is not None:
        context = ssl.create_default_context(cafile=str(ca_file))
    else:
        context = ssl._create_unverified_context()
    if client is not None:
        context.load_cert_chain(str(client[0]), str(client[1]))

    def probe() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2, context=context) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    return probe


def unix_socket_accepts(path: Path) -> Probe:
    """A probe that is true when something accepts connections on the unix socket at `path`."""

    def probe() -> bool:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            try:
                client.connect(str(path))
            except OSError:
                return False
            return True

    return probe
