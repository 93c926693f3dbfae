"""The news api's message limits against a real ActiveMQ broker, at LOG_LEVEL=DEBUG: messages
that are oversized, carry NaN or nest too deep are dropped with a warning, the queue moves on to
the next one, what is served stays valid JSON, and the password is never in the log."""
from __future__ import annotations

import json
import uuid

import pytest
import requests

from apps.newsbus.broker import StompBroker
from apps.newsbus.config import BrokerConfig
from tests.integration.conftest import Broker
from tests.news_apps import AppProcess, wait_until

pytestmark = pytest.mark.integration


def test_bad_messages_are_dropped_with_a_warning_and_the_next_is_served(broker: Broker) -> None:
    api = AppProcess("apps.news_api", {
        **broker.client_env("consumer"), "NEWS_API_BIND": "127.0.0.1", "NEWS_API_PORT": "0",
        "NEWS_API_MAX_MESSAGE_BYTES": "2048", "LOG_LEVEL": "DEBUG"})
    try:
        url = api.wait_for_line(r"serving on (http://\S+)")[1]
        wait_until(lambda: requests.get(f"{url}/readyz", timeout=5).status_code == 200, "the subscription")
        good = f"https://news.example.com/limits/{uuid.uuid4().hex}"
        publisher = StompBroker(BrokerConfig(*broker.logins["publisher"], "127.0.0.1", broker.listen.stomp))
        publisher.connect()
        try:
            publisher.publish([
                '{"url": "https://news.example.com/nan", "title": NaN}',
                json.dumps({"url": "https://news.example.com/big", "content": "x" * 4096}),
                '{"url": "https://news.example.com/deep", "source": ' + "[" * 5000 + "]" * 5000 + "}",
                json.dumps({"url": good, "title": "kept"})])
        finally:
            publisher.close()

        wait_until(lambda: good in requests.get(f"{url}/news/getAll", timeout=5).text, "the good article")
        served = requests.get(f"{url}/news/getAll", timeout=5).text
    finally:
        assert api.stop() == 0

    urls = {article["url"] for article in json.loads(served, parse_constant=_refuse)}
    assert good in urls and not urls & {f"https://news.example.com/{bad}" for bad in ("nan", "big", "deep")}
    dropped = [line for line in api.lines if "WARNING" in line and "dropped a message" in line]
    assert len(dropped) == 3, api.log
    assert "passcode:********" in api.log  # stomp.py's DEBUG frame, masked
    assert not [password for password in broker.passwords() if password in api.log]


def _refuse(name: str) -> None:
    raise AssertionError(f"invalid JSON served: {name}")
