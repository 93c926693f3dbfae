"""The tasks that are thin wiring over tools (refresh, cluster.status, images.build / prune,
toolchain), run through invoke's parser with the tool behind them stood in: what they pass on,
what they print, and that a failure ends in a non-zero exit with the message."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

import tasks.cluster
import tasks.deploy
import tasks.images
import tasks.toolchain
from tests.unit.task_runner import Invoke, invoke  # noqa: F401 (the fixture)
from tests.unit.task_stand_ins import Builds, Driver, Engine
from tools.cluster.driver import ClusterStatus


def test_refresh_refreshes_the_selected_stack(
        invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = Engine()
    monkeypatch.setattr(tasks.deploy, "pulumi_stack", engine)
    monkeypatch.setenv("INVOKE_NEWS_TRACKER_STACK", "ci")
    assert invoke("refresh").code == 0
    assert engine.calls == [("refresh", "ci")]


def test_refresh_fails_with_the_engines_message(invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = Engine(failing={"refresh": "pulumi refresh failed: no cluster"})
    monkeypatch.setattr(tasks.deploy, "pulumi_stack", engine)
    done = invoke("refresh")
    assert (done.code, done.err.strip()) == (1, "error: pulumi refresh failed: no cluster")


@pytest.mark.parametrize(("nodes", "code"), [({"node1": True}, 0), ({"node1": False}, 1), ({}, 1)])
def test_cluster_status_prints_the_report_and_exits_1_unless_ready(
        invoke: Invoke, monkeypatch: pytest.MonkeyPatch, nodes: dict[str, bool], code: int) -> None:
    report = ClusterStatus("local", {"apiserver": True, "kubelet": True}, nodes)
    monkeypatch.setattr(tasks.cluster, "choose_driver", lambda: Driver(report=report))
    done = invoke("cluster.status")
    assert (done.code, done.out) == (code, report.describe() + "\n")


def test_images_build_builds_the_named_images_or_all(invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    builds = Builds()
    monkeypatch.setattr(tasks.images, "image_builds", builds)
    assert invoke("images.build", "--name", "news-api", "--name", "activemq").out == (
        "news-api\t/cache/news-api.tar\nactivemq\t/cache/activemq.tar\n")
    assert invoke("images.build").out.count("\n") == 3
    done = invoke("images.build", "--name", "nginx")
    assert (done.code, done.err.strip()) == (1, "error: unknown image(s) nginx")
    assert builds.asked == [["news-api", "activemq"], [], ["nginx"]]


def test_images_prune_names_each_removed_layer(invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tasks.images, "image_builds", Builds())
    assert invoke("images.prune").out == "removed /cache/layers/old1\nremoved /cache/layers/old2\n"


@dataclass
class Chosen:
    bin_dir: Path | None

    def report(self) -> str:
        return "pulumi CLI           cached build /cache/pulumi"


@pytest.mark.parametrize(("bin_dir", "code"), [(Path("/cache/bin"), 0), (None, 1)])
def test_toolchain_reports_and_fails_while_a_piece_is_missing(
        invoke: Invoke, monkeypatch: pytest.MonkeyPatch, bin_dir: Path | None, code: int) -> None:
    asked: list[tuple[Path, bool]] = []
    monkeypatch.setattr(tasks.toolchain, "pulumi_stack", Engine())
    monkeypatch.setattr(tasks.toolchain.toolchains, "resolve_toolchain",
                        lambda home, build: asked.append((home, build)) or Chosen(bin_dir))
    done = invoke("toolchain")
    assert done.code == code
    assert done.out.startswith("pulumi CLI           cached build /cache/pulumi\n")
    assert ("bin dir (first on PATH): /cache/bin" in done.out) == (code == 0)
    assert asked == [(Engine.PULUMI_HOME, True)]
