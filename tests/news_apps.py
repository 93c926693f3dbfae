"""Helpers for the tests of apps/: run an app as a real process and read its log, wait for a
condition, find a free loopback port, serve HTTP from a thread, stand in for a broker that never
answers, hold a STOMP session with a given login."""
from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from pathlib import Path

from apps.newsbus.broker import StompBroker
from apps.newsbus.config import BrokerConfig

REPO = Path(__file__).resolve().parents[1]
#: Generous: these bound waits for things that normally take well under a second.
PATIENCE_SECONDS = 30.0


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[str]:
    """Serve from a thread; yields the base URL. A short poll interval keeps shutdown quick."""
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def stomp_session(port: int, login: tuple[str, str], queue: str = "news-queue",
                  timeout: float = 10.0) -> Iterator[StompBroker]:
    """A STOMP session on 127.0.0.1:`port` as `login` for `queue`, closed afterwards; raises
    BrokerUnavailable if the broker refuses the login."""
    session = StompBroker(BrokerConfig(*login, "127.0.0.1", port, queue), timeout=timeout)
    session.connect()
    try:
        yield session
    finally:
        session.close()


@contextmanager
def silent_listener() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP server on loopback that accepts clients and keeps the first bytes each sends, but
    never answers: a broker that took the socket and left the STOMP login hanging. Yields its
    port and what it received."""
    server = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []
    clients: list[socket.socket] = []

    def keep(client: socket.socket) -> None:
        with contextlib.suppress(OSError):  # closed when the block ends
            received.append(client.recv(4096))

    def accept() -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            clients.append(client)
            threading.Thread(target=keep, args=(client,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield server.getsockname()[1], received
    finally:
        server.close()
        for client in clients:
            client.close()


def wait_until(condition: Callable[[], object], what: str, timeout: float = PATIENCE_SECONDS) -> None:
    """Poll `condition` until it is true; fail naming `what` if it never becomes so."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class AppProcess:
    """`python3 -m <module>` from the repo root, its merged output collected line by line."""

    def __init__(self, module: str, env: Mapping[str, str]) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", module], cwd=REPO, text=True,
            env={"PATH": os.environ.get("PATH", ""), "PYTHONUNBUFFERED": "1", **env},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, pattern: str, timeout: float = PATIENCE_SECONDS) -> re.Match[str]:
        """The first log line that matches `pattern`, waiting for it to appear."""
        regex = re.compile(pattern)

        def match() -> re.Match[str] | None:
            return next((m for line in list(self.lines) if (m := regex.search(line))), None)

        wait_until(lambda: match() or self.process.poll() is not None,
                   f"a line matching {pattern!r}", timeout)
        if self.process.poll() is not None:
            self._reader.join(PATIENCE_SECONDS)  # it ended: read what it wrote last
        found = match()
        assert found, f"exited {self.process.returncode} without a line matching {pattern!r}:\n{self.log}"
        return found

    def stop(self, signal_number: int = signal.SIGTERM) -> int:
        """Send `signal_number`; the exit code (the process is killed if it does not end)."""
        if self.process.poll() is None:
            self.process.send_signal(signal_number)
        try:
            return self.process.wait(PATIENCE_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        finally:
            self._reader.join(PATIENCE_SECONDS)

    def wait(self) -> int:
        """The exit code of a process that ends by itself."""
        code = self.process.wait(PATIENCE_SECONDS)
        self._reader.join(PATIENCE_SECONDS)
        return code
