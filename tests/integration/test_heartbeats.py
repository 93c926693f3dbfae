"""STOMP heart-beats between the apps' Broker seam and the real broker: a connection that is
quiet after traffic (when ActiveMQ is silent longest) stays up, the broker keeping the very same
connection; and a broker that stops answering without closing its socket is noticed in seconds."""
from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator

import pytest

from apps.newsbus.broker import BROKER_HEARTBEAT_MS, BROKER_SILENCE_FACTOR, StompBroker
from apps.newsbus.config import BrokerConfig
from tests.broker_console import stomp_connections
from tests.integration.conftest import Broker
from tests.news_apps import wait_until

pytestmark = pytest.mark.integration

#: After the broker has been silent this long, stomp.py gives up on it.
SILENCE_WINDOW = BROKER_HEARTBEAT_MS / 1000 * BROKER_SILENCE_FACTOR
#: Each quiet spell outlasts that window, so only the broker's heart-beats can keep the connection.
QUIET_SECONDS = SILENCE_WINDOW + 2
LOST = ("heartbeat timeout", "lost the connection")


@pytest.fixture
def client(broker: Broker) -> Iterator[StompBroker]:
    config = BrokerConfig(broker.user, broker.password, "127.0.0.1", broker.listen.stomp,
                          f"heartbeats-{uuid.uuid4().hex}")
    session = StompBroker(config)
    session.connect()
    try:
        yield session
    finally:
        session.close()


def test_a_connection_quiet_after_each_batch_stays_up(broker: Broker, client: StompBroker,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    console, login = f"http://127.0.0.1:{broker.listen.console}", (broker.user, broker.password)
    wait_until(lambda: serves(console, login), "the broker's console, which starts after the broker")
    caplog.set_level(logging.INFO)
    before = stomp_connections(console, login)

    for batch in range(4):
        client.publish([f'{{"batch": {batch}}}'])  # the broker answers with a RECEIPT, then is quiet
        time.sleep(QUIET_SECONDS)
        assert client.is_connected(), f"lost after batch {batch}:\n{caplog.text}"

    # A reconnect would show as a new connection; one of an earlier test may close meanwhile.
    after = stomp_connections(console, login)
    assert after - before == set(), f"new connections: {after - before}"
    assert after & before, "the client's connection is gone"
    assert not [r.getMessage() for r in caplog.records if r.getMessage().startswith(LOST)]


def test_a_broker_that_stops_answering_is_noticed_within_seconds(broker: Broker, client: StompBroker,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    # stomp.py gives a new connection one extra window before it counts the broker's beats.
    time.sleep(SILENCE_WINDOW)
    broker.freeze()
    try:
        frozen = time.monotonic()
        wait_until(lambda: not client.is_connected(), "the client to notice the silent broker",
                   timeout=SILENCE_WINDOW + 5)
        noticed = time.monotonic() - frozen
    finally:
        broker.thaw()
    # At most one window after the broker's last beat, which came before the freeze.
    assert noticed < SILENCE_WINDOW + 1, noticed
    lost = f"lost the connection to 127.0.0.1:{broker.listen.stomp}"  # from stomp.py's I/O thread
    wait_until(lambda: lost in caplog.text, "the seam to log the lost connection", timeout=5)


def serves(console: str, login: tuple[str, str]) -> bool:
    try:
        stomp_connections(console, login)
    except Exception:  # noqa: BLE001 (not up yet: refused, 503, no agent)
        return False
    return True
