"""The Broker seam: the few queue operations the job and the api need.

Unit tests replace it with a fake; StompBroker implements it with stomp.py (8.x as in Debian
bookworm, or 9.x from PyPI) over STOMP 1.2.
"""
from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import stomp
import stomp.exception

from apps.newsbus.config import BrokerConfig
from apps.newsbus.lifecycle import Shutdown

log = logging.getLogger(__name__)

# Heart-beats both ways (STOMP 1.2), so a broker that vanished without closing the socket is
# noticed, and neither side drops a healthy idle connection. CONNECT asks for
# "CLIENT_HEARTBEAT_MS,BROKER_HEARTBEAT_MS"; ActiveMQ answers with the same two numbers swapped, so
# stomp.py keeps them as they are.

#: We send a beat this often. ActiveMQ reads it as its read-check period, stretched by the STOMP
#: connector's `transport.hbGracePeriodMultiplier` (2, tools/activemq.py): one late beat of ours
#: is not taken for a dead client.
CLIENT_HEARTBEAT_MS = 4000
#: What we ask of the broker. ActiveMQ checks this often and sends a beat only when it sent nothing
#: since its previous check, so after any other frame (a RECEIPT, a MESSAGE) it can stay silent for
#: almost twice this. stomp.py's default window of 1.5 times timed out about once a minute.
BROKER_HEARTBEAT_MS = 2000
#: How long the broker may stay silent, in multiples of BROKER_HEARTBEAT_MS, before stomp.py drops
#: the connection: above ActiveMQ's worst case of 2, and a vanished broker is noticed within 6 s.
BROKER_SILENCE_FACTOR = 3.0


class BrokerUnavailable(Exception):
    """The broker cannot be reached, refused us, or did not confirm in time."""


class Broker(Protocol):
    def connect(self) -> None:
        """Open a session; raises BrokerUnavailable."""

    def publish(self, bodies: Sequence[str]) -> None:
        """Send the bodies as persistent messages, all or none, and wait until the broker
        confirms them; raises BrokerUnavailable, and then none of them was queued."""

    def subscribe(self, on_message: Callable[[str], None]) -> None:
        """Deliver each queued message to `on_message`; it is acknowledged once that returns.
        Returns once the broker confirmed the subscription."""

    def is_connected(self) -> bool: ...

    def close(self) -> None:
        """End the session, if any; never raises."""


class _SessionEvents(stomp.ConnectionListener):  # type: ignore[misc]
    """Turns stomp.py's callbacks (on its receiver thread) into events the caller can wait on."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.settled = threading.Event()  # CONNECTED, ERROR or a closed socket
        self.connected = False
        self.closing = False  # we end the session ourselves: not a lost connection
        self.error = ""
        self.receipts: dict[str, threading.Event] = {}
        self.on_frame: Callable[[Any], None] | None = None
        self._ending = threading.Lock()  # the receiver thread and close() may both report the end

    def on_connected(self, frame: Any) -> None:
        self.connected = True
        self.settled.set()

    def on_error(self, frame: Any) -> None:
        error = frame.headers.get("message", "") or frame.body or "ERROR frame"
        log.warning("broker error: %s", error)
        self.error = self.error or error  # the first says why (a refused SEND, then its failed COMMIT)
        self.settled.set()

    def on_disconnected(self) -> None:
        # Closed by the broker, or by stomp.py after the broker's heart-beats stopped (it logs
        # "heartbeat timeout" first). Said here once, for the job and the api alike.
        with self._ending:
            if self.connected and not self.closing:
                log.warning("lost the connection to %s", self.where)
            self.connected = False
        self.settled.set()
        for event in self.receipts.values():
            event.set()  # wake waiters; they see connected == False

    def on_receipt(self, frame: Any) -> None:
        event = self.receipts.get(frame.headers.get("receipt-id", ""))
        if event is not None:
            event.set()

    def on_message(self, frame: Any) -> None:
        if self.on_frame is not None:
            self.on_frame(frame)


class StompBroker:
    """Broker over STOMP. Each connect() makes a new stomp.py connection to the configured host
    name, so a broker that came back at a new IP behind the same Service is found.

    A login still unanswered when `shutdown` is requested is given up at once: SIGTERM to a pod
    whose broker accepted the socket but never answered would otherwise wait out `timeout`.
    Receipts are still awaited then: a publish in flight is worth its confirmation."""

    def __init__(self, config: BrokerConfig, timeout: float = 5.0,
                 shutdown: Shutdown | None = None) -> None:
        self._config = config
        self._timeout = timeout
        self._shutdown = shutdown if shutdown is not None else Shutdown()
        self._connection: stomp.Connection12 | None = None
        self._events = _SessionEvents(f"{config.host}:{config.port}")

    def connect(self) -> None:
        self.close()
        where = f"{self._config.host}:{self._config.port}"
        connection = stomp.Connection12([(self._config.host, self._config.port)],
                                        heartbeats=(CLIENT_HEARTBEAT_MS, BROKER_HEARTBEAT_MS),
                                        heart_beat_receive_scale=BROKER_SILENCE_FACTOR,
                                        reconnect_attempts_max=1, timeout=self._timeout)
        events = _SessionEvents(where)
        connection.set_listener("newsbus", events)
        try:
            connection.connect(self._config.user, self._config.password, wait=False)
        except (stomp.exception.StompException, OSError) as error:
            raise BrokerUnavailable(f"cannot connect to {where}: {str(error) or type(error).__name__}") from None
        with self._shutdown.waking(events.settled):
            events.settled.wait(self._timeout)
        if not events.connected:
            events.closing = True
            _disconnect(connection)
            if events.error:
                reason = f"refused the login: {events.error}"
            elif self._shutdown.requested:
                reason = "left the login unanswered until shutdown"
            else:
                reason = "did not answer the login"
            raise BrokerUnavailable(f"{where} {reason}")
        self._connection, self._events = connection, events

    def publish(self, bodies: Sequence[str]) -> None:
        """One STOMP transaction per batch: the broker queues the messages at COMMIT, all of
        them, and drops a transaction whose connection ends before it. A batch cut off midway
        leaves nothing, so publishing it again duplicates nothing."""
        if not bodies:
            return
        # A frame the broker refuses (no right to the queue) is answered by an ERROR frame, for a
        # SEND in a transaction by the SEND's or the COMMIT's: any ERROR from here on refuses the batch.
        self._events.error = ""
        transaction = uuid.uuid4().hex
        self._call("begin", transaction)
        for body in bodies:
            self._call("send", self._config.destination, body, content_type="application/json",
                       headers={"persistent": "true", "transaction": transaction})
        receipt = self._expect_receipt()
        self._call("commit", transaction, headers={"receipt": receipt})
        self._await_receipt(receipt, "the published batch")

    def subscribe(self, on_message: Callable[[str], None]) -> None:
        self._events.on_frame = lambda frame: self._deliver(frame, on_message)
        self._events.error = ""
        receipt = self._expect_receipt()
        self._call("subscribe", self._config.destination, id="news", ack="client-individual",
                   headers={"receipt": receipt})
        self._await_receipt(receipt, "the subscription")

    def is_connected(self) -> bool:
        return (self._connection is not None and self._events.connected
                and self._connection.is_connected())

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            if not connection.is_connected():
                # stomp.py drops its socket before it tells its listeners: a caller that saw
                # is_connected() go false may close first, and the loss must still be said.
                self._events.on_disconnected()
            self._events.closing = True
            _disconnect(connection)

    def _deliver(self, frame: Any, on_message: Callable[[str], None]) -> None:
        ack_id = frame.headers.get("ack", frame.headers.get("message-id"))
        answer = "ack"
        try:
            on_message(frame.body)
        except Exception:  # a message we cannot handle goes back; ActiveMQ dead-letters it after 6
            log.exception("handling message %s failed; returning it to the queue", ack_id)
            answer = "nack"
        try:
            self._call(answer, ack_id)
        except BrokerUnavailable as error:
            log.warning("could not %s message %s (%s); the broker delivers it again", answer, ack_id, error)

    def _expect_receipt(self) -> str:
        receipt = uuid.uuid4().hex
        self._events.receipts[receipt] = threading.Event()
        return receipt

    def _await_receipt(self, receipt: str, what: str) -> None:
        arrived = self._events.receipts[receipt].wait(self._timeout)
        del self._events.receipts[receipt]
        if self._events.error:
            raise BrokerUnavailable(f"the broker refused {what}: {self._events.error}")
        if not arrived or not self._events.connected:
            raise BrokerUnavailable(f"the broker did not confirm {what}")

    def _call(self, method: str, *args: Any, **kwargs: Any) -> None:
        if self._connection is None:
            raise BrokerUnavailable("not connected")
        try:
            getattr(self._connection, method)(*args, **kwargs)
        except (stomp.exception.StompException, OSError) as error:
            raise BrokerUnavailable(f"{method} failed: {str(error) or type(error).__name__}") from None


def _disconnect(connection: stomp.Connection12) -> None:
    try:
        connection.disconnect()
    except (stomp.exception.StompException, OSError):
        pass  # already gone; nothing left to release
