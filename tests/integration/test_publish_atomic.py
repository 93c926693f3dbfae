"""A batch is published all or none: against the real broker, a connection cut after some of the
batch's SEND frames (a proxy between the app's Broker seam and ActiveMQ closes both sides) leaves
none of it on the queue, and publishing the batch again puts each message there exactly once."""
from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from apps.newsbus.broker import BrokerUnavailable, StompBroker
from apps.newsbus.config import BrokerConfig
from tests.integration.conftest import Broker

pytestmark = pytest.mark.integration

BATCH = [f'{{"title": "article {n}"}}' for n in range(4)]


class CuttingProxy:
    """Forwards one STOMP client connection to the broker and closes both sides right after
    forwarding the client's `cut_after`-th SEND frame."""

    def __init__(self, broker_port: int, cut_after: int) -> None:
        self.cut_after = cut_after
        self.sends = 0
        self.broker_port = broker_port
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        client, _ = self.server.accept()
        upstream = socket.create_connection(("127.0.0.1", self.broker_port))
        threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()
        pending = b""
        while chunk := client.recv(65536):
            pending += chunk
            *frames, pending = pending.split(b"\0")
            for frame in frames:
                upstream.sendall(frame + b"\0")
                if frame.lstrip(b"\r\n").startswith(b"SEND\n"):
                    self.sends += 1
                    if self.sends == self.cut_after:
                        time.sleep(0.5)  # the broker has read the frames before the cut
                        for end in (client, upstream):
                            end.close()
                        return

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                target.sendall(chunk)
        except OSError:
            pass  # the other side was cut


@pytest.fixture
def queue() -> str:
    return f"atomic-{uuid.uuid4().hex}"


def session(broker: Broker, queue: str, port: int | None = None) -> StompBroker:
    config = BrokerConfig(broker.user, broker.password, "127.0.0.1", port or broker.listen.stomp, queue)
    connected = StompBroker(config, timeout=3.0)
    connected.connect()
    return connected


def drained(broker: Broker, queue: str, settle: float = 2.0) -> list[str]:
    """Everything on the queue, taken off it by a subscriber that waits `settle` s for more."""
    received: list[str] = []
    consumer = session(broker, queue)
    try:
        consumer.subscribe(received.append)
        time.sleep(settle)
    finally:
        consumer.close()
    return received


@pytest.fixture
def cut_publisher(broker: Broker, queue: str) -> Iterator[tuple[StompBroker, CuttingProxy]]:
    proxy = CuttingProxy(broker.listen.stomp, cut_after=2)
    publisher = session(broker, queue, proxy.port)
    try:
        yield publisher, proxy
    finally:
        publisher.close()


def test_a_batch_cut_off_midway_leaves_nothing_and_a_retry_queues_it_once(
        broker: Broker, queue: str, cut_publisher: tuple[StompBroker, CuttingProxy]) -> None:
    publisher, proxy = cut_publisher
    with pytest.raises(BrokerUnavailable):
        publisher.publish(BATCH)
    assert proxy.sends == 2  # the broker read half of the batch before the cut
    assert drained(broker, queue) == []

    again = session(broker, queue)
    try:
        again.publish(BATCH)
    finally:
        again.close()
    assert drained(broker, queue) == BATCH
