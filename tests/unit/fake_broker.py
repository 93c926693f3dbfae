"""An in-memory stand-in for apps.newsbus.broker.Broker, the apps' only seam to STOMP."""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from apps.newsbus.broker import BrokerUnavailable


class FakeBroker:
    """A queue in memory: it keeps what is published until a subscriber takes it, and can refuse
    connects or lose the connection on demand. A publish that loses the connection keeps none of
    its batch, as ActiveMQ drops a STOMP transaction whose connection ended before COMMIT."""

    def __init__(self, refuse_connects: int = 0, fail_publishes: int = 0) -> None:
        self.refuse_connects = refuse_connects
        self.fail_publishes = fail_publishes
        self.connects = 0
        self.queued: list[str] = []
        self.published: list[str] = []
        self._connected = False
        self._subscriber: Callable[[str], None] | None = None
        self._lock = threading.RLock()

    def connect(self) -> None:
        with self._lock:
            self.connects += 1
            if self.refuse_connects:
                self.refuse_connects -= 1
                raise BrokerUnavailable("connection refused (fake)")
            self._connected = True

    def publish(self, bodies: Sequence[str]) -> None:
        with self._lock:
            self._require_connection()
            if self.fail_publishes:
                self.fail_publishes -= 1
                self._connected = False
                raise BrokerUnavailable("connection lost while sending (fake)")
            self.published.extend(bodies)
            self.queued.extend(bodies)
            self._deliver()

    def subscribe(self, on_message: Callable[[str], None]) -> None:
        with self._lock:
            self._require_connection()
            self._subscriber = on_message
            self._deliver()

    def is_connected(self) -> bool:
        return self._connected

    def close(self) -> None:
        with self._lock:
            self._connected = False
            self._subscriber = None

    def lose_connection(self) -> None:
        """What a broker restart looks like to a client."""
        self.close()

    def _require_connection(self) -> None:
        if not self._connected:
            raise BrokerUnavailable("not connected (fake)")

    def _deliver(self) -> None:
        while self._subscriber is not None and self.queued:
            self._subscriber(self.queued.pop(0))
