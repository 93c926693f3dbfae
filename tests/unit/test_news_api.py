"""The news api against a fake broker (the STOMP seam): its store, its HTTP endpoints, its
subscription that survives a broker restart, and its SIGTERM."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
import requests

from apps.news_api.app import ApiConfig, serve
from apps.news_api.articles import FIELDS, ArticleStore, parse
from apps.news_api.consumer import QueueConsumer
from apps.news_api.server import make_server
from apps.newsbus.config import BrokerConfig, ConfigError
from apps.newsbus.lifecycle import Shutdown
from apps.newsbus.retry import Backoff
from tests.news_apps import AppProcess, free_port, serving, wait_until
from tests.unit.fake_broker import FakeBroker

QUICK = Backoff(initial=0.001, maximum=0.002)


def article(url: str, title: str = "a title") -> dict[str, object]:
    return {"source": {"id": None, "name": "Example"}, "author": None, "title": title,
            "description": "", "url": url, "urlToImage": None,
            "publishedAt": "2024-05-01T00:00:00Z", "content": ""}


def test_an_article_received_again_replaces_the_stored_one() -> None:
    store = ArticleStore(capacity=10)
    store.add(article("https://example.com/a", "first"))
    store.add(article("https://example.com/a", "second"))

    assert [a["title"] for a in store.all()] == ["second"]


def test_past_capacity_the_least_recently_received_is_evicted() -> None:
    store = ArticleStore(capacity=2)
    for url in ("https://example.com/a", "https://example.com/b", "https://example.com/a",
                "https://example.com/c"):
        store.add(article(url))

    assert [a["url"] for a in store.all()] == ["https://example.com/a", "https://example.com/c"]


def test_parse_keeps_the_posts_fields_and_drops_what_cannot_be_stored() -> None:
    parsed = parse(json.dumps({**article("https://example.com/a"), "extra": 1}))

    assert parsed is not None and list(parsed) == list(FIELDS)
    assert parse(json.dumps({"url": "https://example.com/b"})) == {
        **dict.fromkeys(FIELDS), "url": "https://example.com/b"}
    assert parse("not json") is None
    assert parse(json.dumps({"title": "no url"})) is None
    assert parse(json.dumps(["a", "list"])) is None


@pytest.fixture
def store() -> ArticleStore:
    return ArticleStore(capacity=10)


@pytest.fixture
def server(store: ArticleStore) -> Iterator[tuple[str, threading.Event]]:
    subscribed = threading.Event()
    with serving(make_server(store, subscribed, "127.0.0.1", 0)) as url:
        yield url, subscribed


def test_get_all_returns_the_stored_articles(server: tuple[str, threading.Event],
                                             store: ArticleStore) -> None:
    url, _ = server
    store.add(article("https://example.com/a"))

    response = requests.get(f"{url}/news/getAll", timeout=5)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == [article("https://example.com/a")]


def test_readyz_is_503_until_subscribed_while_healthz_is_200(server: tuple[str, threading.Event]) -> None:
    url, subscribed = server

    assert requests.get(f"{url}/healthz", timeout=5).status_code == 200
    assert requests.get(f"{url}/readyz", timeout=5).status_code == 503
    subscribed.set()
    assert requests.get(f"{url}/readyz", timeout=5).status_code == 200


def test_the_index_lists_the_endpoints_and_unknown_paths_are_404(server: tuple[str, threading.Event]) -> None:
    url, _ = server

    index = requests.get(f"{url}/", timeout=5).json()
    missing = requests.get(f"{url}/news/nope", timeout=5)

    assert set(index["endpoints"]) == {"/news/getAll", "/healthz", "/readyz"}
    assert index["articles"] == 0
    assert missing.status_code == 404 and "/news/getAll" in missing.json()["endpoints"]


@pytest.fixture
def consumer(store: ArticleStore,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[QueueConsumer, FakeBroker]]:
    monkeypatch.setattr("apps.news_api.consumer.CHECK_SECONDS", 0.01)  # a lost connection is seen at once
    broker, shutdown = FakeBroker(refuse_connects=2), Shutdown()
    running = QueueConsumer(broker, store, shutdown, QUICK)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    try:
        yield running, broker
    finally:
        shutdown.request("test over")
        thread.join(10)
    assert not thread.is_alive() and not broker.is_connected()


def test_the_consumer_subscribes_once_the_broker_accepts_and_stores_what_arrives(
        consumer: tuple[QueueConsumer, FakeBroker], store: ArticleStore) -> None:
    running, broker = consumer

    wait_until(running.subscribed.is_set, "the subscription")
    broker.publish([json.dumps(article("https://example.com/a")), "garbage"])

    assert broker.connects == 3
    assert [a["url"] for a in store.all()] == ["https://example.com/a"]


def test_after_a_lost_connection_the_consumer_resubscribes(
        consumer: tuple[QueueConsumer, FakeBroker], store: ArticleStore) -> None:
    running, broker = consumer
    wait_until(running.subscribed.is_set, "the subscription")

    broker.lose_connection()
    broker.queued.append(  # a queue keeps what arrives while nobody is subscribed
        json.dumps(article("https://example.com/while-away")))
    wait_until(lambda: broker.connects == 4 and running.subscribed.is_set(), "a new subscription")

    assert [a["url"] for a in store.all()] == ["https://example.com/while-away"]


def test_serve_stops_on_shutdown_with_exit_0(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    shutdown = Shutdown()
    config = ApiConfig(BrokerConfig("news", "secret"), bind="127.0.0.1", port=0)
    codes: list[int] = []
    worker = threading.Thread(target=lambda: codes.append(serve(config, FakeBroker(), shutdown, QUICK)))
    worker.start()
    wait_until(lambda: any("subscribed" in m for m in caplog.messages), "the subscription")

    shutdown.request("SIGTERM")
    worker.join(10)

    assert codes == [0]
    assert "stopping on SIGTERM" in caplog.messages and "stopped" in caplog.messages


def test_sigterm_stops_the_process_with_exit_0() -> None:
    api = AppProcess("apps.news_api", {
        "ACTIVEMQ_HOST": "127.0.0.1", "ACTIVEMQ_STOMP_PORT": str(free_port()),
        "ACTIVEMQ_USER": "news", "ACTIVEMQ_PASSWORD": "secret-password",
        "NEWS_API_BIND": "127.0.0.1", "NEWS_API_PORT": "0"})
    url = api.wait_for_line(r"serving on (http://\S+)")[1]

    assert requests.get(f"{url}/healthz", timeout=5).status_code == 200
    assert requests.get(f"{url}/readyz", timeout=5).status_code == 503
    assert api.stop() == 0
    assert "stopping on SIGTERM" in api.log
    assert "secret-password" not in api.log


def test_config_from_env_reads_the_pods_variables() -> None:
    config = ApiConfig.from_env({"ACTIVEMQ_USER": "news", "ACTIVEMQ_PASSWORD": "hunter2",
                                 "NEWS_API_PORT": "8080", "NEWS_API_MAX_ARTICLES": "50"})

    assert (config.bind, config.port, config.max_articles) == ("0.0.0.0", 8080, 50)
    assert "hunter2" not in repr(config)
    with pytest.raises(ConfigError, match="NEWS_API_MAX_ARTICLES=0: must be >= 1"):
        ApiConfig.from_env({"ACTIVEMQ_USER": "news", "ACTIVEMQ_PASSWORD": "x",
                            "NEWS_API_MAX_ARTICLES": "0"})
