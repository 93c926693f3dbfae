"""The kind driver's command lines, and which driver the chooser picks (no cluster needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml

from tools import cluster
from tools.cluster.kind import CONFIG, KindDriver
from tools.cluster.local.driver import LocalDriver
from tools.errors import SetupError


class FakeRunner:
    """Records command lines and answers `kind get clusters` with the given cluster names."""

    def __init__(self, clusters: str = "") -> None:
        self.clusters = clusters
        self.calls: list[list[str]] = []

    def __call__(self, args: Sequence[str]) -> str:
        self.calls.append(list(args))
        return self.clusters if list(args[:3]) == ["kind", "get", "clusters"] else ""


def test_kind_up_creates_the_three_node_cluster_into_the_projects_kubeconfig(tmp_path: Path) -> None:
    runner = FakeRunner()
    KindDriver(run=runner, kubeconfig=tmp_path / "kubeconfig").up()
    assert runner.calls[-1] == [
        "kind",
        "create",
        "cluster",
        "--name",
        "news-tracker",
        "--config",
        str(CONFIG),
        "--kubeconfig",
        str(tmp_path / "kubeconfig"),
        "--wait",
        "120s",
    ]


def test_kind_up_on_an_existing_cluster_only_exports_its_kubeconfig(tmp_path: Path) -> None:
    runner = FakeRunner(clusters="other\nnews-tracker\n")
    KindDriver(run=runner, kubeconfig=tmp_path / "kubeconfig").up()
    assert not any(call[:3] == ["kind", "create", "cluster"] for call in runner.calls)
    assert runner.calls[-1][:3] == ["kind", "export", "kubeconfig"]


def test_kind_load_and_down_command_lines(tmp_path: Path) -> None:
    runner = FakeRunner()
    driver = KindDriver(run=runner, kubeconfig=tmp_path / "kubeconfig")
    driver.load_images([Path("/a.tar"), Path("/b.tar")])
    driver.down()
    assert runner.calls == [
        ["kind", "load", "image-archive", "/a.tar", "--name", "news-tracker"],
        ["kind", "load", "image-archive", "/b.tar", "--name", "news-tracker"],
        ["kind", "delete", "cluster", "--name", "news-tracker", "--kubeconfig", str(tmp_path / "kubeconfig")],
    ]


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
