"""The news pipeline against a real ActiveMQ broker: job -> queue -> api -> GET /news/getAll."""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.integration.conftest import Broker
from tests.news_apps import REPO, AppProcess, wait_until

pytestmark = pytest.mark.integration

SAMPLE = json.loads((REPO / "apps/news_job/sample-articles.json").read_text())["articles"]


class Api:
    def __init__(self, broker: Broker) -> None:
        self.process = AppProcess("apps.news_api", {
            **broker.client_env("consumer"), "NEWS_API_BIND": "127.0.0.1", "NEWS_API_PORT": "0"})
        self.url = self.process.wait_for_line(r"serving on (http://\S+)")[1]

    def articles(self) -> list[dict[str, object]]:
        articles: list[dict[str, object]] = requests.get(f"{self.url}/news/getAll", timeout=5).json()
        return articles

    def urls(self) -> set[object]:
        return {article["url"] for article in self.articles()}

    def ready(self) -> bool:
        return requests.get(f"{self.url}/readyz", timeout=5).status_code == 200


@pytest.fixture
def api(broker: Broker) -> Iterator[Api]:
    running = Api(broker)
    try:
        yield running
    finally:
        running.process.stop()
    assert not [password for password in broker.passwords() if password in running.process.log]


def run_job(broker: Broker, **env: str) -> AppProcess:
    """The job once, to completion."""
    job = AppProcess("apps.news_job", {**broker.client_env("publisher"), "NEWS_JOB_INTERVAL_SECONDS": "0", **env})
    job.wait()
    assert not [password for password in broker.passwords() if password in job.log]
    return job


def one_article_file(directory: Path) -> tuple[Path, str]:
    url = f"https://news.example.com/test/{uuid.uuid4().hex}"
    article = {**SAMPLE[0], "url": url, "title": f"integration {url}"}
    path = directory / "articles.json"
    path.write_text(json.dumps({"status": "ok", "articles": [article]}))
    return path, url


def test_the_job_publishes_the_sample_file_and_the_api_serves_it(broker: Broker, api: Api) -> None:
    wait_until(api.ready, "the api to subscribe")

    job = run_job(broker)

    assert job.process.returncode == 0, job.log
    assert f"published {len(SAMPLE)} articles to /queue/news-queue" in job.log
    wait_until(lambda: {a["url"] for a in SAMPLE} <= api.urls(), "the sample articles in /news/getAll")
    served = {article["url"]: article for article in api.articles()}
    assert served[SAMPLE[0]["url"]] == SAMPLE[0]
    assert api.process.stop() == 0
    assert "stopping on SIGTERM" in api.process.log


def test_articles_published_while_the_api_is_down_reach_it_when_it_subscribes(
        broker: Broker, tmp_path: Path) -> None:
    source, url = one_article_file(tmp_path)
    assert run_job(broker, NEWS_SOURCE_FILE=str(source)).process.returncode == 0

    api = Api(broker)
    try:
        wait_until(lambda: url in api.urls(), "the article queued before the api started")
    finally:
        api.process.stop()


def test_the_api_resubscribes_after_the_broker_restarts(broker: Broker, api: Api,
                                                        tmp_path: Path) -> None:
    wait_until(api.ready, "the api to subscribe")

    broker.stop()
    wait_until(lambda: not api.ready(), "/readyz to report the lost subscription")
    broker.start()
    wait_until(api.ready, "the api to subscribe again")

    source, url = one_article_file(tmp_path)
    assert run_job(broker, NEWS_SOURCE_FILE=str(source)).process.returncode == 0
    wait_until(lambda: url in api.urls(), "an article published after the restart")
    assert "lost the connection to 127.0.0.1:" in api.process.log
    assert "subscribing again at" in api.process.log


def test_a_wrong_password_is_refused_and_not_logged(broker: Broker) -> None:
    user, password = broker.logins["publisher"]
    wrong = f"not-{password}"
    job = run_job(broker, ACTIVEMQ_PASSWORD=wrong, NEWS_JOB_BROKER_WAIT_SECONDS="0")

    assert job.process.returncode == 1
    assert f"refused the login: User name [{user}] or password is invalid" in job.log
    assert wrong not in job.log
