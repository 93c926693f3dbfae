"""A real ActiveMQ broker for the integration tests: the pinned distribution (fetched once into
the cache), configured by tools.activemq exactly as the broker image is, listening on free
loopback ports with a generated login per role, stopped by PID."""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from apps.images import BROKER_ROLES
from tests.news_apps import free_port, wait_until
from tools import activemq

#: The broker takes ~10 s to start on 2 cores; this only bounds a broker that never comes up.
BROKER_START_SECONDS = 120.0


def generated_logins() -> dict[str, tuple[str, str]]:
    """Role -> (user, password): admin (the console's), publisher (the job's), consumer (the api's)."""
    return {role: (f"news-test-{role}", secrets.token_urlsafe(16)) for role in BROKER_ROLES}


class Broker:
    """One broker process over a conf and data directory that survive restarts."""

    def __init__(self, workdir: Path) -> None:
        if shutil.which("java") is None:
            pytest.skip("java is not installed (apt-get install openjdk-17-jre-headless)")
        self.logins = generated_logins()
        self.user, self.password = self.logins["admin"]
        self.listen = activemq.Listen(host="127.0.0.1", openwire=free_port(), stomp=free_port(),
                                      console_host="127.0.0.1", console=free_port())
        self.conf, self.data, self.log = workdir / "conf", workdir / "data", workdir / "broker.log"
        activemq.write_conf(self.conf, self.listen)
        self._process: subprocess.Popen[bytes] | None = None

    def client_env(self, role: str) -> dict[str, str]:
        """What a news app needs to reach this broker with the login of `role` (the job
        publishes as `publisher`, the api reads as `consumer`)."""
        user, password = self.logins[role]
        return {"ACTIVEMQ_HOST": "127.0.0.1", "ACTIVEMQ_STOMP_PORT": str(self.listen.stomp),
                "ACTIVEMQ_USER": user, "ACTIVEMQ_PASSWORD": password}

    def passwords(self) -> list[str]:
        return [password for _, password in self.logins.values()]

    def start(self) -> None:
        command = activemq.java_command(activemq.fetch(), self.conf, self.data, max_heap="256m")
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, cwd=self.data.parent,
                env={**os.environ, **activemq.login_env(self.logins)})
        wait_until(self._accepts_stomp, f"the broker to listen on {self.listen.stomp} (log: {self.log})",
                   BROKER_START_SECONDS)

    def stop(self) -> None:
        """SIGTERM by PID, as the kubelet would; the broker shuts down cleanly."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def freeze(self) -> None:
        """SIGSTOP: the broker stops answering while its sockets stay open (a vanished node)."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def _accepts_stomp(self) -> bool:
        if self._process is None or self._process.poll() is not None:
            raise AssertionError(f"the broker exited; see {self.log}:\n{self.log.read_text()[-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", self.listen.stomp), timeout=1).close()
        except OSError:
            return False
        return True


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    running = Broker(tmp_path_factory.mktemp("activemq"))
    running.start()
    try:
        yield running
    finally:
        running.stop()
