"""The broker as tools.activemq configures it (the same configuration as the broker image):
a login per role from the environment; the admin's alone opens the web console, the publisher
may only send to the news queue and the consumer only read it; admin/admin is gone."""
from __future__ import annotations

import json
import uuid
from contextlib import AbstractContextManager

import pytest
import requests
import stomp
import stomp.exception

from apps.newsbus.broker import BrokerUnavailable, StompBroker
from tests.integration.conftest import Broker
from tests.news_apps import stomp_session, wait_until

pytestmark = pytest.mark.integration


def test_the_console_accepts_the_configured_login_only(broker: Broker) -> None:
    console = f"http://127.0.0.1:{broker.listen.console}/admin/queues.jsp"
    wait_until(lambda: serves(console), "the web console, which starts after the broker")

    assert requests.get(console, auth=broker.logins["admin"], timeout=30).status_code == 200
    for login in (broker.logins["publisher"], broker.logins["consumer"], ("admin", "admin")):
        assert requests.get(console, auth=login, timeout=30).status_code == 401, login[0]
    assert requests.get(console, timeout=30).status_code == 401


@pytest.mark.parametrize("login", [("admin", "admin"), ("system", "manager"), (None, None)])
def test_stomp_refuses_the_default_and_anonymous_logins(broker: Broker,
                                                        login: tuple[str | None, str | None]) -> None:
    connection = stomp.Connection12([("127.0.0.1", broker.listen.stomp)])
    with pytest.raises(stomp.exception.ConnectFailedException):
        connection.connect(*login, wait=True)
    assert not connection.is_connected()


def session(broker: Broker, role: str, queue: str = "news-queue") -> AbstractContextManager[StompBroker]:
    # A refused request is known at its timeout (the ERROR frame does not wake the waiter): short.
    return stomp_session(broker.listen.stomp, broker.logins[role], queue, timeout=3.0)


def test_what_the_publisher_sends_the_consumer_reads(broker: Broker) -> None:
    body = json.dumps({"url": f"https://news.example.com/roles/{uuid.uuid4().hex}"})
    with session(broker, "publisher") as publisher:
        publisher.publish([body])
    received: list[str] = []
    with session(broker, "consumer") as consumer:
        consumer.subscribe(received.append)  # takes it off the queue: the other tests' api never sees it
        wait_until(lambda: body in received, "the consumer to receive the publisher's message")


def test_the_publisher_may_not_read_the_queue_nor_write_elsewhere(broker: Broker) -> None:
    with session(broker, "publisher") as publisher, \
            pytest.raises(BrokerUnavailable, match=r"not authorized to read from: queue://news-queue"):
        publisher.subscribe(lambda body: None)
    # Refused as the SEND's ERROR or as its COMMIT's, whichever the broker answers first.
    with session(broker, "publisher", f"other-{uuid.uuid4().hex}") as elsewhere, \
            pytest.raises(BrokerUnavailable, match=r"the broker refused the published batch"):
        elsewhere.publish(["not for this queue"])


def test_the_consumer_may_not_write_the_queue(broker: Broker) -> None:
    # ActiveMQ answers a refused SEND to an existing queue in a transaction by failing its COMMIT.
    with session(broker, "consumer") as consumer, \
            pytest.raises(BrokerUnavailable, match=r"the broker refused the published batch"):
        consumer.publish(["a consumer's message"])


def serves(url: str) -> bool:
    try:
        requests.get(url, timeout=5)
    except requests.ConnectionError:
        return False
    return True
