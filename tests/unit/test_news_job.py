"""The news job against a fake broker (the STOMP seam), plus its sources and its SIGTERM."""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from apps.news_api.server import send_json
from apps.news_job.job import JobConfig, NewsJob
from apps.news_job.sources import SAMPLE_FILE, FileSource, NewsApiSource, SourceError, source_from_env
from apps.newsbus.config import BrokerConfig, ConfigError
from apps.newsbus.lifecycle import Shutdown
from apps.newsbus.retry import Backoff
from tests.news_apps import AppProcess, free_port, serving
from tests.unit.fake_broker import FakeBroker

SAMPLE = json.loads(SAMPLE_FILE.read_text())["articles"]
BROKER = BrokerConfig(user="news", password="secret-password")
#: Tiny delays: the tests exercise the retry logic, not the clock.
QUICK = Backoff(initial=0.001, maximum=0.002)


def make_job(broker: FakeBroker, shutdown: Shutdown | None = None, interval: int = 0,
             broker_wait: int = 300, source: FileSource = FileSource(SAMPLE_FILE)) -> NewsJob:
    config = JobConfig(BROKER, interval_seconds=interval, broker_wait_seconds=broker_wait)
    return NewsJob(config, source, broker, shutdown or Shutdown(), QUICK)


def test_once_publishes_every_article_as_its_own_message_and_exits_0(
        caplog: pytest.LogCaptureFixture) -> None:
    broker = FakeBroker()
    caplog.set_level(logging.INFO)

    assert make_job(broker).run() == 0

    assert [json.loads(body) for body in broker.published] == SAMPLE
    assert f"published {len(SAMPLE)} articles to /queue/news-queue" in caplog.messages
    assert not broker.is_connected()


def test_it_waits_for_a_broker_that_is_not_up_yet(caplog: pytest.LogCaptureFixture) -> None:
    broker = FakeBroker(refuse_connects=3)

    assert make_job(broker).run() == 0

    assert broker.connects == 4
    assert len(broker.published) == len(SAMPLE)
    assert sum("retrying in" in message for message in caplog.messages) == 3


def test_it_gives_up_with_exit_1_once_the_broker_wait_is_over(caplog: pytest.LogCaptureFixture) -> None:
    broker = FakeBroker(refuse_connects=1)

    assert make_job(broker, broker_wait=0).run() == 1

    assert broker.published == []
    assert any("giving up" in message for message in caplog.messages)


def test_a_batch_interrupted_by_a_lost_connection_is_sent_again_after_reconnecting() -> None:
    broker = FakeBroker(fail_publishes=1)

    assert make_job(broker).run() == 0

    assert broker.connects == 2
    assert len(broker.published) == len(SAMPLE)


def test_the_ready_file_exists_while_the_last_batch_reached_the_broker(tmp_path: Path) -> None:
    """The pod's readiness probe: a job that cannot log in (a rotated password) is not Ready."""
    ready = tmp_path / "ready"
    config = JobConfig(BROKER, broker_wait_seconds=0, ready_file=ready)
    assert NewsJob(config, FileSource(SAMPLE_FILE), FakeBroker(), Shutdown(), QUICK).run() == 0
    assert ready.is_file()
    assert NewsJob(config, FileSource(SAMPLE_FILE), FakeBroker(refuse_connects=1), Shutdown(), QUICK).run() == 1
    assert not ready.exists()
    assert JobConfig.from_env({"ACTIVEMQ_USER": "u", "ACTIVEMQ_PASSWORD": "p",
                               "NEWS_JOB_READY_FILE": str(ready)}).ready_file == ready
    assert JobConfig.from_env({"ACTIVEMQ_USER": "u", "ACTIVEMQ_PASSWORD": "p"}).ready_file is None


def test_an_unreadable_source_fails_the_run_with_exit_1(tmp_path: Path) -> None:
    broken = tmp_path / "articles.json"
    broken.write_text("{not json")

    assert make_job(FakeBroker(), source=FileSource(broken)).run() == 1


def test_with_an_interval_it_publishes_until_shutdown_then_exits_0(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    broker, shutdown = FakeBroker(), Shutdown()
    job = make_job(broker, shutdown, interval=3600)
    codes: list[int] = []
    worker = threading.Thread(target=lambda: codes.append(job.run()))
    worker.start()
    try:
        while not broker.published and worker.is_alive():
            worker.join(0.01)
    finally:
        shutdown.request("SIGTERM")
        worker.join(10)

    assert codes == [0]
    assert len(broker.published) == len(SAMPLE)
    assert "stopped on SIGTERM" in caplog.messages


def test_sigterm_stops_the_process_with_exit_0_while_it_waits_for_the_broker() -> None:
    job = AppProcess("apps.news_job", {
        "ACTIVEMQ_HOST": "127.0.0.1", "ACTIVEMQ_STOMP_PORT": str(free_port()),
        "ACTIVEMQ_USER": "news", "ACTIVEMQ_PASSWORD": "secret-password"})
    job.wait_for_line(r"retrying in")

    assert job.stop() == 0
    assert "stopped on SIGTERM" in job.log
    assert "secret-password" not in job.log


def test_a_bad_setting_exits_2_naming_the_variable() -> None:
    job = AppProcess("apps.news_job", {"ACTIVEMQ_USER": "news", "ACTIVEMQ_PASSWORD": "x",
                                       "NEWS_JOB_INTERVAL_SECONDS": "soon"})

    assert job.wait() == 2
    assert "NEWS_JOB_INTERVAL_SECONDS='soon': expected a whole number" in job.log


def test_config_from_env_reads_the_pods_variables_and_hides_the_password() -> None:
    config = JobConfig.from_env({
        "ACTIVEMQ_HOST": "activemq.develop", "ACTIVEMQ_STOMP_PORT": "61613",
        "ACTIVEMQ_QUEUE": "news-queue", "ACTIVEMQ_USER": "news", "ACTIVEMQ_PASSWORD": "hunter2",
        "NEWS_JOB_INTERVAL_SECONDS": "30"})

    assert config.interval_seconds == 30
    assert config.broker.destination == "/queue/news-queue"
    assert config.broker.host == "activemq.develop"
    assert "hunter2" not in repr(config)


def test_the_broker_login_is_required() -> None:
    with pytest.raises(ConfigError, match="ACTIVEMQ_PASSWORD is not set"):
        BrokerConfig.from_env({"ACTIVEMQ_USER": "news"})


def test_the_sample_file_is_the_default_source() -> None:
    assert source_from_env({}) == FileSource(SAMPLE_FILE)
    assert source_from_env({"NEWS_SOURCE_FILE": "/etc/news-job/articles.json"}) == \
        FileSource(Path("/etc/news-job/articles.json"))


def test_the_sample_articles_have_the_posts_fields_and_example_urls() -> None:
    fields = {"source", "author", "title", "description", "url", "urlToImage", "publishedAt", "content"}
    assert 3 <= len(SAMPLE) <= 5
    for article in SAMPLE:
        assert set(article) == fields
        assert urlsplit(article["url"]).hostname.split(".")[-2] == "example"


def test_newsapi_url_selects_the_endpoint_and_needs_a_key() -> None:
    with pytest.raises(ConfigError, match="NEWSAPI_KEY is not set"):
        source_from_env({"NEWSAPI_URL": "http://127.0.0.1:1/v2/everything"})
    source = source_from_env({"NEWSAPI_URL": "http://127.0.0.1:1/v2/everything", "NEWSAPI_KEY": "k3y"})
    assert source == NewsApiSource("http://127.0.0.1:1/v2/everything", "technology", "k3y")
    assert "k3y" not in repr(source)


class FakeNewsApi(BaseHTTPRequestHandler):
    """NewsAPI's /v2/everything: articles for the right X-Api-Key, its error shape otherwise."""
    requests: list[dict[str, list[str]]] = []

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        FakeNewsApi.requests.append(parse_qs(url.query))
        if url.path != "/v2/everything" or self.headers.get("X-Api-Key") != "k3y":
            send_json(self, HTTPStatus.UNAUTHORIZED, {"status": "error", "code": "apiKeyInvalid",
                                                   "message": "Your API key is invalid."})
        else:
            send_json(self, HTTPStatus.OK, {"status": "ok", "totalResults": 1, "articles": SAMPLE[:1]})

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def newsapi() -> Iterator[str]:
    FakeNewsApi.requests = []
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), FakeNewsApi)) as url:
        yield f"{url}/v2/everything"


def test_the_newsapi_source_sends_the_key_header_and_the_query(newsapi: str) -> None:
    articles = NewsApiSource(newsapi, "kubernetes", "k3y").fetch()

    assert articles == SAMPLE[:1]
    assert FakeNewsApi.requests[0]["q"] == ["kubernetes"]


def test_a_newsapi_error_is_reported_with_its_message(newsapi: str) -> None:
    with pytest.raises(SourceError, match="HTTP 401: Your API key is invalid"):
        NewsApiSource(newsapi, "kubernetes", "wrong").fetch()
