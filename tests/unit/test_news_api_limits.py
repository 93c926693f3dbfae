"""The news api's limits: idle connections time out, connection threads are bounded (503 past
the bound), and queue messages that are too large, non-finite or too deep are dropped with a
warning, so what it serves is always valid JSON."""
from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from apps.news_api.app import ApiConfig, serve
from apps.news_api.articles import ArticleStore, parse
from apps.news_api.message_json import Limits
from apps.news_api.server import make_server
from apps.newsbus.config import BrokerConfig
from apps.newsbus.lifecycle import Shutdown
from apps.newsbus.retry import Backoff
from tests.news_apps import serving, wait_until
from tests.unit.fake_broker import FakeBroker

URL = "https://example.com/a"


def body(**fields: object) -> str:
    return json.dumps({"url": URL, "title": "t", **fields}, ensure_ascii=False)


def strict_json(text: str) -> object:
    """json.loads that refuses NaN and Infinity, as browsers and most other parsers do."""
    def refuse(name: str) -> None:
        raise ValueError(f"not JSON: {name}")
    return json.loads(text, parse_constant=refuse)


def served_url(caplog: pytest.LogCaptureFixture) -> str:
    """The base URL that serve() logs once it listens."""
    def logged() -> str | None:
        return next((m.split()[2] for m in caplog.messages if m.startswith("serving on")), None)
    wait_until(logged, "the server")
    return str(logged())


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"])
def test_a_message_with_a_non_finite_number_is_dropped_with_a_warning(
        number: str, caplog: pytest.LogCaptureFixture) -> None:
    message = body().replace('"t"', number)

    assert parse(message) is None
    assert any(number.lstrip("-") in m and "dropped a message" in m for m in caplog.messages)


@pytest.mark.parametrize("depth", [16, 100_000])  # inside the article's object: 17 and more
def test_a_message_nested_too_deep_is_dropped_with_a_warning(
        depth: int, caplog: pytest.LogCaptureFixture) -> None:
    message = body()[:-1] + ', "source": ' + "[" * depth + "]" * depth + "}"

    assert parse(message) is None  # 100 000 deep: the json module's RecursionError, caught
    assert "dropped a message: nested deeper than 16" in caplog.messages


def test_a_message_within_the_limits_is_kept() -> None:
    limits = Limits(max_bytes=len(body(content="é" * 40).encode()))
    nested = body()[:-1] + ', "source": ' + "[" * 15 + "]" * 15 + "}"  # 16 deep in all

    assert parse(body(content="é" * 40), limits) is not None
    assert parse(nested) is not None


def test_a_message_over_the_size_limit_is_dropped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    limits = Limits(max_bytes=len(body(content="é" * 40).encode()) - 1)  # é: 2 bytes, 1 character

    assert parse(body(content="é" * 40), limits) is None
    assert f"dropped a message: larger than {limits.max_bytes} bytes" in caplog.messages


def test_what_the_api_serves_stays_valid_json_whatever_arrives(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    broker, shutdown = FakeBroker(), Shutdown()
    config = ApiConfig(BrokerConfig("news", "secret"), bind="127.0.0.1", port=0,
                       limits=Limits(max_bytes=200))
    worker = threading.Thread(target=serve, args=(config, broker, shutdown, Backoff(0.001, 2, 0.002)))
    worker.start()
    try:
        url = served_url(caplog)
        wait_until(lambda: any(m.startswith("subscribed") for m in caplog.messages), "the subscription")
        broker.publish([body(score="NaN").replace('"NaN"', "NaN"), "[" * 50_000, body(content="x" * 300),
                        body()])

        served = strict_json(requests.get(f"{url}/news/getAll", timeout=5).text)
    finally:
        shutdown.request("test over")
        worker.join(10)

    assert [article["url"] for article in served] == [URL]  # type: ignore[union-attr,index]
    assert len([m for m in caplog.messages if m.startswith("dropped a message")]) == 3


@pytest.fixture
def idle_clients() -> Iterator[list[socket.socket]]:
    """Connections that a test opens and never sends on; closed afterwards."""
    clients: list[socket.socket] = []
    yield clients
    for client in clients:
        client.close()


def open_idle(url: str, clients: list[socket.socket]) -> socket.socket:
    port = int(url.rsplit(":", 1)[1])
    client = socket.create_connection(("127.0.0.1", port), timeout=10)
    clients.append(client)
    return client


def test_a_silent_connection_is_closed_after_the_timeout(idle_clients: list[socket.socket]) -> None:
    with serving(make_server(ArticleStore(10), threading.Event(), "127.0.0.1", 0, timeout=0.1)) as url:
        idle = open_idle(url, idle_clients)
        started = time.monotonic()

        assert idle.recv(1024) == b""  # closed by the server, without an answer
        assert time.monotonic() - started < 5


def test_past_the_bound_connections_get_503_and_threads_stay_bounded(
        idle_clients: list[socket.socket], caplog: pytest.LogCaptureFixture) -> None:
    server = make_server(ArticleStore(10), threading.Event(), "127.0.0.1", 0, max_connections=3,
                         timeout=30)
    with serving(server) as url:
        threads_before = threading.active_count()
        for _ in range(3):
            open_idle(url, idle_clients)
        wait_until(lambda: threading.active_count() == threads_before + 3, "3 connection threads")
        started = time.monotonic()
        for _ in range(200):
            open_idle(url, idle_clients)

        busy = requests.get(f"{url}/healthz", timeout=5)
        assert (busy.status_code, busy.json()) == (503, {"status": "busy"})
        # A burst is queued, not dropped (a dropped SYN is retried after 1 s, again and again).
        assert time.monotonic() - started < 5
        assert threading.active_count() == threads_before + 3
        assert caplog.messages.count(
            "all 3 connection slots are busy: answering 503 until one frees") == 1

        idle_clients.pop(0).close()  # a slot comes back once its connection ends
        wait_until(lambda: requests.get(f"{url}/healthz", timeout=5).status_code == 200, "a free slot")


def test_serve_stops_on_shutdown_while_connections_are_held_open(
        idle_clients: list[socket.socket], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    shutdown = Shutdown()
    config = ApiConfig(BrokerConfig("news", "secret"), bind="127.0.0.1", port=0, max_connections=2)
    codes: list[int] = []
    worker = threading.Thread(target=lambda: codes.append(serve(config, FakeBroker(), shutdown)))
    worker.start()
    url = served_url(caplog)
    for _ in range(5):
        open_idle(url, idle_clients)

    started = time.monotonic()
    shutdown.request("SIGTERM")
    worker.join(10)

    assert codes == [0] and time.monotonic() - started < 5


def test_config_from_env_reads_the_limits() -> None:
    config = ApiConfig.from_env({"ACTIVEMQ_USER": "news", "ACTIVEMQ_PASSWORD": "x",
                                 "NEWS_API_MAX_CONNECTIONS": "8", "NEWS_API_TIMEOUT_SECONDS": "3",
                                 "NEWS_API_MAX_MESSAGE_BYTES": "4096"})
    defaults = ApiConfig.from_env({"ACTIVEMQ_USER": "news", "ACTIVEMQ_PASSWORD": "x"})

    assert (config.max_connections, config.timeout_seconds, config.limits) == (8, 3, Limits(4096))
    assert (defaults.max_connections, defaults.timeout_seconds, defaults.limits) == (64, 10, Limits())
