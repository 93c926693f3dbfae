"""The STOMP seam says "lost the connection" exactly once for a connection the broker ended, in
whichever order stomp.py's receiver thread and the app's own close() get to it, and never for a
session the app ends itself. stomp.py is stood in for by a connection whose socket can drop
before its listeners are told, as the real one's receiver loop does."""
from __future__ import annotations

import logging
from typing import Any

import pytest

from apps.newsbus import broker as seam
from apps.newsbus.broker import StompBroker
from apps.newsbus.config import BrokerConfig

LOST = "lost the connection to activemq:61613"


class StandInConnection:
    """Connection12's surface that StompBroker uses, with the socket's end under the test's control."""

    made: list[StandInConnection] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.listener: Any = None
        self.socket_open = False
        self.told = False
        StandInConnection.made.append(self)

    def set_listener(self, name: str, listener: Any) -> None:
        self.listener = listener

    def connect(self, user: str, password: str, wait: bool) -> None:
        self.socket_open = True
        self.listener.on_connected(None)

    def is_connected(self) -> bool:
        return self.socket_open

    def drop(self) -> None:
        """The broker went away: the socket is gone, the listeners not told yet."""
        self.socket_open = False

    def tell_listeners(self) -> None:
        if not self.told:
            self.told = True
            self.listener.on_disconnected()

    def disconnect(self) -> None:
        self.socket_open = False
        self.tell_listeners()


@pytest.fixture
def session(monkeypatch: pytest.MonkeyPatch) -> StompBroker:
    StandInConnection.made.clear()
    monkeypatch.setattr(seam.stomp, "Connection12", StandInConnection)
    broker = StompBroker(BrokerConfig("news-consumer", "unused", "activemq", 61613, "news-queue"))
    broker.connect()
    return broker


def said_lost(caplog: pytest.LogCaptureFixture) -> int:
    return sum(record.getMessage() == LOST for record in caplog.records)


def test_the_app_closing_first_after_the_socket_dropped_still_says_it_lost_the_connection(
        session: StompBroker, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    (connection,) = StandInConnection.made
    connection.drop()
    assert not session.is_connected()
    session.close()  # before stomp.py's receiver loop told its listeners
    connection.tell_listeners()
    assert said_lost(caplog) == 1


def test_the_receiver_thread_telling_first_says_it_once(session: StompBroker,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    (connection,) = StandInConnection.made
    connection.drop()
    connection.tell_listeners()
    session.close()
    assert said_lost(caplog) == 1


def test_a_session_the_app_ends_itself_is_not_lost(session: StompBroker,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    session.close()
    assert said_lost(caplog) == 0
