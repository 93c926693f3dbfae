"""The offline-built images run in a real container runtime, without a cluster: the apps import
their pinned packages as the unprivileged user, and the three containers carry the post's
pipeline (job -> broker -> api) when they share one network namespace, as in a pod.

Needs root, containerd, ctr and runc (apt-get install containerd runc) and the images' build
inputs (debootstrap, the Debian mirror, PyPI, Maven Central; a first build takes a few minutes,
later ones reuse the cache)."""
from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from apps.images import ACTIVEMQ_LOG_FILE, ACTIVEMQ_VERSION, IMAGES
from tests.integration.conftest import generated_logins
from tests.integration.containerd import Containerd
from tests.news_apps import wait_until
from tools.activemq import login_env
from tools.images.build import build

pytestmark = pytest.mark.integration
#: Bounds the broker's start (about 15 s on 2 cores), as a failure guard only.
BROKER_START_SECONDS = 180.0
SAMPLE = json.loads(Path(__file__).resolve().parents[2].joinpath(
    "apps/news_job/sample-articles.json").read_text())


@pytest.fixture(scope="module")
def containerd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Containerd]:
    missing = [tool for tool in ("containerd", "ctr", "runc") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} missing: apt-get install containerd runc")
    if os.geteuid() != 0:
        pytest.skip("a containerd of its own needs root")
    runtime = Containerd(tmp_path_factory.mktemp("containerd"))
    try:
        for archive in build().values():
            runtime.import_archive(archive)
        yield runtime
    finally:
        runtime.stop()


@pytest.fixture(scope="module")
def logins() -> dict[str, tuple[str, str]]:
    return generated_logins()


def client_env(logins: dict[str, tuple[str, str]], role: str) -> dict[str, str]:
    user, password = logins[role]
    return {"ACTIVEMQ_USER": user, "ACTIVEMQ_PASSWORD": password, "ACTIVEMQ_HOST": "127.0.0.1"}


@pytest.fixture(scope="module")
def broker_container(containerd: Containerd, logins: dict[str, tuple[str, str]]) -> str:
    """A running broker container, once its log says the web console (started last) is up."""
    containerd.start(IMAGES["activemq"], "broker", env=login_env(logins))
    wait_until(lambda: "WebConsole available" in containerd.exec("broker", "cat", ACTIVEMQ_LOG_FILE).stdout,
               f"the broker's console line in {ACTIVEMQ_LOG_FILE}", timeout=BROKER_START_SECONDS)
    return "broker"


@pytest.mark.parametrize("name", ["news-job", "news-api"])
def test_app_image_has_its_packages_and_runs_unprivileged(containerd: Containerd, name: str) -> None:
    result = containerd.run(IMAGES[name], f"check-{name}", "python3", "-c",
                            "import os, requests, stomp; print(os.getuid(), os.getgid(),"
                            " requests.__version__, stomp.__version__)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["10001", "10001", "2.34.2", "9.0.0"]


def test_broker_without_a_login_refuses_to_start(containerd: Containerd) -> None:
    result = containerd.run(IMAGES["activemq"], "broker-without-login")
    assert result.returncode != 0


def test_broker_runs_unprivileged_and_logs_where_a_sidecar_reads(
        containerd: Containerd, broker_container: str) -> None:
    log = containerd.exec(broker_container, "cat", ACTIVEMQ_LOG_FILE).stdout
    assert f"Apache ActiveMQ {ACTIVEMQ_VERSION}" in log
    assert containerd.exec(broker_container, "id", "-u").stdout.strip() == "10001"


def test_job_broker_and_api_carry_articles_in_one_network_namespace(
        containerd: Containerd, broker_container: str, logins: dict[str, tuple[str, str]]) -> None:
    containerd.start(IMAGES["news-api"], "api", env=client_env(logins, "consumer"), netns_of=broker_container)
    job = containerd.run(IMAGES["news-job"], "job", env=client_env(logins, "publisher"), netns_of=broker_container)
    assert job.returncode == 0, job.stdout + job.stderr

    # What the post does from inside the broker's container: bash, then curl the api.
    def served() -> list[dict[str, object]]:
        answer = containerd.exec(broker_container, "/bin/bash", "-c",
                                 "curl -s http://127.0.0.1:8080/news/getAll")
        return json.loads(answer.stdout) if answer.returncode == 0 and answer.stdout else []

    wait_until(lambda: len(served()) == len(SAMPLE["articles"]), "the api to serve the job's articles")
    assert {article["url"] for article in served()} == {article["url"] for article in SAMPLE["articles"]}


def test_console_needs_the_admins_login_from_the_environment(
        containerd: Containerd, broker_container: str, logins: dict[str, tuple[str, str]]) -> None:
    def status(*credentials: str) -> str:
        return containerd.exec(broker_container, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                               *credentials, "http://127.0.0.1:8161/admin/").stdout

    assert status() == "401"
    assert status("-u", "admin:admin") == "401"
    assert status("-u", ":".join(logins["admin"])) == "200"
    assert status("-u", ":".join(logins["publisher"])) == "401"
