"""Every validation error, with its text: bad input fails the preview before anything is applied."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from components.pod import Container, Port, Resources, validate_pod
from components.validation import ConfigError
from tests.unit.program_under_mocks import PROJECT, STACK_SECRETS, run_program
from tools.paths import REPO

SMALL = Resources(cpu_request="1m", memory_request="1Mi", memory_limit="2Mi")


def container(name: str, *ports: int, image: str = "localhost/x:1") -> Container:
    return Container(name=name, image=image, resources=SMALL,
                     ports=tuple(Port(f"p{n}", n) for n in ports))


def config_error(config: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as raised:
        run_program({**STACK_SECRETS, **config})
    return str(raised.value)


def test_two_containers_declaring_one_port_are_both_named() -> None:
    with pytest.raises(ConfigError) as raised:
        validate_pod("newsapi-pod", [container("newsapi", 8080), container("proxy", 9090, 8080)], 10)
    assert str(raised.value) == (
        "pod 'newsapi-pod': port 8080 is declared more than once (containers 'newsapi' and "
        "'proxy' both declare it); containers in one pod share the pod's IP and port space")


def test_one_container_declaring_a_port_twice() -> None:
    with pytest.raises(ConfigError, match=r"port 61613 is declared more than once \(container "
                                          r"'activemq' declares it twice\)"):
        validate_pod("activemq-pod", [container("activemq", 61613, 61613)], 10)


def test_duplicate_container_names() -> None:
    with pytest.raises(ConfigError, match="pod 'p': container name 'a' is used twice"):
        validate_pod("p", [container("a"), container("a")], 10)


@pytest.mark.parametrize("port", [0, 65536, -1])
def test_container_port_out_of_range(port: int) -> None:
    with pytest.raises(ConfigError, match=rf"pod 'p' container 'c': port 'p{port}': port {port} "
                                          r"is out of range \(1-65535\)"):
        validate_pod("p", [container("c", port)], 10)


def test_negative_grace_period_in_a_pod() -> None:
    with pytest.raises(ConfigError, match=r"pod 'p': terminationGracePeriodSeconds: grace period -5 "
                                          r"must be a whole number of seconds >= 0"):
        validate_pod("p", [container("c")], -5)


@pytest.mark.parametrize(("image", "message"), [
    ("", "the image reference is empty"),
    ("   ", "the image reference is empty"),
    ("Bad Image!!", "'Bad Image!!' is not a valid image reference"),
    ("localhost/UPPER/case:1", "'localhost/UPPER/case:1' is not a valid image reference"),
    ("busybox", "'busybox' is not pinned; give a version tag (not 'latest') or a sha256 digest"),
    ("erhancetin/activemq:latest", "'erhancetin/activemq:latest' is not pinned"),
    ("localhost/x:1\n", "'localhost/x:1\\n' is not a valid image reference"),
])
def test_bad_image_references(image: str, message: str) -> None:
    assert message in config_error({"broker": {"image": image}})
    assert "pod 'activemq-pod' container 'activemq': image: " in config_error({"broker": {"image": image}})


@pytest.mark.parametrize("image", ["localhost/news-tracker/news-api:0.1.0", "registry:5000/a/b:1.2",
                                   "busybox@sha256:" + "a" * 64])
def test_good_image_references(image: str) -> None:
    validate_pod("p", [container("c", image=image)], 0)


def test_api_port_out_of_range_names_the_key() -> None:
    assert config_error({"api": {"port": 70000}}) == (
        "news-tracker:api.port: port 70000 is out of range (1-65535)")


def test_negative_grace_period_names_the_key() -> None:
    assert config_error({"job": {"gracePeriodSeconds": -1}}) == (
        "news-tracker:job.gracePeriodSeconds: grace period -1 must be a whole number of seconds >= 0")


def test_unknown_top_level_key_suggests_the_known_one() -> None:
    assert config_error({"brokr": {}}) == "news-tracker:brokr: unknown config key; did you mean 'broker'?"


def test_unknown_nested_key_suggests_the_known_one() -> None:
    assert config_error({"job": {"intervalSecond": 5}}) == (
        "news-tracker:job.intervalSecond: unknown config key; did you mean 'intervalSeconds'?")


def test_unknown_key_without_a_close_match_lists_the_known_ones() -> None:
    assert config_error({"api": {"zzz": 1}}) == (
        "news-tracker:api.zzz: unknown config key; known keys: gracePeriodSeconds, image, "
        "maxArticles, port")


def test_mistyped_value() -> None:
    assert config_error({"job": {"intervalSeconds": "ten"}}) == (
        "news-tracker:job.intervalSeconds: expected int, got 'ten'")
    assert config_error({"broker": {"persistence": {"enabled": "yes"}}}) == (
        "news-tracker:broker.persistence.enabled: expected bool, got 'yes'")


def test_value_outside_a_fixed_set() -> None:
    assert config_error({"job": {"source": "rss"}}) == (
        "news-tracker:job.source: 'rss' is not one of 'file', 'newsapi'")


def test_invalid_namespace_name() -> None:
    assert config_error({"namespace": "Develop_1"}).startswith(
        "news-tracker:namespace: 'Develop_1' is not a valid name")


def test_missing_articles_file_names_the_key() -> None:
    assert config_error({"job": {"articlesFile": "no/such/file.json"}}).startswith(
        "news-tracker:job.articlesFile: 'no/such/file.json' is not a file")


def test_newsapi_source_without_its_key_is_reported() -> None:
    with pytest.raises(pulumi.ConfigMissingError, match="news-tracker:newsapiKey"):
        run_program({**STACK_SECRETS, "job": {"source": "newsapi"}})


@pytest.mark.parametrize("key", sorted(STACK_SECRETS))
def test_a_missing_broker_password_is_reported(key: str) -> None:
    with pytest.raises(pulumi.ConfigMissingError, match=f"news-tracker:{key}"):
        run_program({k: v for k, v in STACK_SECRETS.items() if k != key})


def test_ready_timeout_below_ten_seconds_is_refused() -> None:
    assert config_error({"readyTimeoutSeconds": 5}) == "news-tracker:readyTimeoutSeconds: 5 must be >= 10"


@pytest.mark.parametrize(("config", "message"), [
    ({"namespace": "default"}, "news-tracker:namespace: 'default' is reserved"),
    ({"namespace": "kube-system"}, "news-tracker:namespace: 'kube-system' is reserved"),
    ({"environment": ""}, "news-tracker:environment: '' is not a valid label value"),
    ({"environment": "prod env"}, "news-tracker:environment: 'prod env' is not a valid label value"),
    ({"broker": {"user": ""}}, "news-tracker:broker.user: '' is not a valid login"),
    ({"broker": {"user": "admin:x"}}, "news-tracker:broker.user: 'admin:x' is not a valid login"),
    ({"broker": {"user": "${ACTIVEMQ_PASSWORD}"}}, "news-tracker:broker.user: '${ACTIVEMQ_PASSWORD}' is not"),
    ({"broker": {"publisherUser": "job user"}}, "news-tracker:broker.publisherUser: 'job user' is not a valid login"),
    ({"broker": {"consumerUser": ""}}, "news-tracker:broker.consumerUser: '' is not a valid login"),
    ({"broker": {"publisherUser": "newsadmin"}},
     "news-tracker:broker.publisherUser: 'newsadmin' is already broker.user; each role needs a login of its own"),
    ({"broker": {"publisherUser": "news", "consumerUser": "news"}},
     "news-tracker:broker.consumerUser: 'news' is already broker.publisherUser"),
    ({"broker": {"persistence": {"size": "lots"}}},
     "news-tracker:broker.persistence.size: 'lots' is not a positive storage quantity"),
    ({"broker": {"persistence": {"size": "0Mi"}}},
     "news-tracker:broker.persistence.size: '0Mi' is not a positive storage quantity"),
    ({"broker": {"persistence": {"size": "256MB"}}},
     "news-tracker:broker.persistence.size: '256MB' is not a positive storage quantity"),
    ({"broker": {"persistence": {"storageClass": "Fast_SSD"}}},
     "news-tracker:broker.persistence.storageClass: 'Fast_SSD' is not a valid name"),
    ({"broker": {"persistence": {"storageClass": ""}}},
     "news-tracker:broker.persistence.storageClass: '' is not a valid name"),
    ({"job": {"intervalSeconds": 10_000_000_000}},
     "news-tracker:job.intervalSeconds: 10000000000 must be 0 (publish once) to 86400 (a day)"),
    ({"job": {"intervalSeconds": -1}}, "news-tracker:job.intervalSeconds: -1 must be 0 (publish once)"),
    ({"api": {"port": 80}}, "news-tracker:api.port: port 80 is privileged"),
    ({"job": {"articlesFile": "/etc/hostname"}},
     "news-tracker:job.articlesFile: '/etc/hostname' is outside the project directory"),
    ({"job": {"articlesFile": "../outside.json"}},
     "news-tracker:job.articlesFile: '../outside.json' is outside the project directory"),
    ({"job": {"articlesFile": "README.md"}},
     "news-tracker:job.articlesFile: 'README.md' is not a NewsAPI-shaped articles file"),
    ({"job": {"articlesFile": "Pulumi.yaml"}},
     "news-tracker:job.articlesFile: 'Pulumi.yaml' is not a NewsAPI-shaped articles file"),
    ({"job": {"newsapiUrl": "newsapi.org/v2/everything"}},
     "news-tracker:job.newsapiUrl: 'newsapi.org/v2/everything' is not an http(s) URL"),
    ({"job": {"query": " "}}, "news-tracker:job.query: ' ' is empty"),
    ({"renderDirectory": "/tmp/out"}, "news-tracker:renderDirectory: '/tmp/out' must be a directory inside"),
    ({"renderDirectory": "."}, "news-tracker:renderDirectory: '.' must be a directory inside"),
])
def test_values_the_cluster_or_the_apps_would_refuse(config: dict[str, Any], message: str) -> None:
    assert config_error(config).startswith(message)


@pytest.mark.parametrize("config", [
    {"namespace": "kubernetes-news"},
    {"environment": "Staging.2"},
    {"broker": {"user": "news.admin-1", "persistence": {"enabled": True, "size": "1.5Gi",
                                                          "storageClass": "local-path.example.com"}}},
    {"job": {"intervalSeconds": 86400}},
    {"api": {"port": 1024}},
    {"job": {"source": "newsapi", "articlesFile": "README.md", "newsapiUrl": "http://newsapi.test:8080/v2"},
     "newsapiKey": "k"},
    {"renderDirectory": "manifests-under-test"},
])
def test_values_at_the_edges_are_accepted(config: dict[str, Any]) -> None:
    run_program({**STACK_SECRETS, **config})


def test_a_bad_value_fails_before_any_resource_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """Preview and up run the same program: an error before the first registration applies nothing."""
    registered: list[str] = []
    original = pulumi.CustomResource.__init__

    def recording(self: pulumi.CustomResource, t: str, name: str, *args: Any, **kwargs: Any) -> None:
        registered.append(name)
        original(self, t, name, *args, **kwargs)

    monkeypatch.setattr(pulumi.CustomResource, "__init__", recording)
    config_error({"job": {"articlesFile": "README.md"}})
    assert registered == []


def committed_stack_config(path: Path) -> dict[str, Any]:
    """The project's keys of a Pulumi.<stack>.yaml, as run_program takes them (secrets left out)."""
    config = yaml.safe_load(path.read_text()).get("config") or {}
    return {key.partition(":")[2]: value for key, value in config.items()
            if key.startswith(f"{PROJECT}:") and not (isinstance(value, dict) and "secure" in value)}


@pytest.mark.parametrize("path", sorted(REPO.glob("Pulumi.*.yaml")), ids=lambda path: path.name)
def test_every_committed_stack_config_validates(path: Path) -> None:
    run = run_program({**STACK_SECRETS, "newsapiKey": "k", **committed_stack_config(path)})
    assert run.outputs["namespace"] == committed_stack_config(path)["namespace"]
