"""Which driver the chooser picks, and the kind cluster's shape (no cluster needed)."""

from __future__ import annotations

import pytest
import yaml

from tools import cluster
from tools.cluster.kind import CONFIG, KindDriver
from tools.cluster.local.driver import LocalDriver
from tools.errors import SetupError


def test_kind_config_has_one_control_plane_and_two_workers() -> None:
    roles = [node["role"] for node in yaml.safe_load(CONFIG.read_text())["nodes"]]
    assert roles == ["control-plane", "worker", "worker"]


@pytest.mark.parametrize(("requested", "expected"), [("kind", KindDriver), ("local", LocalDriver)])
def test_env_override_picks_the_driver(
    monkeypatch: pytest.MonkeyPatch, requested: str, expected: type
) -> None:
    monkeypatch.setenv(cluster.DRIVER_ENV, requested)
    assert isinstance(cluster.choose_driver(), expected)


def test_unknown_driver_name_is_a_setup_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cluster.DRIVER_ENV, "minikube")
    with pytest.raises(SetupError, match="minikube"):
        cluster.choose_driver()


@pytest.mark.parametrize(
    ("working", "expected"), [({"docker", "kind"}, KindDriver), ({"kind"}, LocalDriver), (set(), LocalDriver)]
)
def test_without_override_kind_needs_both_docker_and_kind(
    monkeypatch: pytest.MonkeyPatch, working: set[str], expected: type
) -> None:
    monkeypatch.delenv(cluster.DRIVER_ENV, raising=False)
    monkeypatch.setattr(cluster, "succeeds", lambda args: args[0] in working)
    assert isinstance(cluster.choose_driver(), expected)


@pytest.mark.parametrize("requested", ["kind", "local"])
def test_the_chosen_kubeconfig_is_the_chosen_drivers(monkeypatch: pytest.MonkeyPatch, requested: str) -> None:
    monkeypatch.setenv(cluster.DRIVER_ENV, requested)
    assert cluster.chosen_kubeconfig() == cluster.choose_driver().kubeconfig


def test_without_kind_docker_is_not_probed(monkeypatch: pytest.MonkeyPatch) -> None:
    """`docker info` takes tens of milliseconds (more with a daemon): no pod task waits for it in vain."""
    probed: list[str] = []
    monkeypatch.delenv(cluster.DRIVER_ENV, raising=False)
    monkeypatch.setattr(cluster, "succeeds", lambda args: probed.append(args[0]) or False)
    assert cluster.chosen_kubeconfig() == cluster.KUBECONFIGS["local"]
    assert probed == ["kind"]
