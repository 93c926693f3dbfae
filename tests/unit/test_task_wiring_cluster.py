"""The tasks that drive the cluster (cluster.up / down / reset, images.load), run through invoke's
parser with both drivers stood in where tools.cluster finds them: so each test also sees which
driver the task's choice fell on (NEWS_TRACKER_CLUSTER_DRIVER, else kind where Docker and kind
work, else local), what it asked of it, what it printed, and how a failure ends."""
from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import pytest

import tasks.images
from tests.unit.task_runner import Invoke, invoke  # noqa: F401 (the fixture)
from tests.unit.task_stand_ins import Builds, Driver
from tools import cluster


@pytest.fixture()
def drivers(monkeypatch: pytest.MonkeyPatch) -> dict[str, Driver]:
    """A stand-in for each driver tools.cluster knows, by name. The variable is unset and nothing
    is probed: Docker and kind count as missing unless a test says otherwise."""
    made = {name: Driver(name) for name in cluster.DRIVERS}
    stand_ins = ModuleType("cluster_driver_stand_ins")
    for name, (_, class_name) in cluster.DRIVERS.items():
        setattr(stand_ins, class_name, lambda driver=made[name]: driver)
        monkeypatch.setitem(cluster.DRIVERS, name, (stand_ins.__name__, class_name))
    monkeypatch.setitem(sys.modules, stand_ins.__name__, stand_ins)
    monkeypatch.delenv(cluster.DRIVER_ENV, raising=False)
    monkeypatch.setattr(cluster, "succeeds", lambda argv: False)
    return made


@pytest.fixture()
def builds(monkeypatch: pytest.MonkeyPatch) -> Builds:
    stand_in = Builds()
    monkeypatch.setattr(tasks.images, "image_builds", stand_in)
    return stand_in


def kubeconfig_line(driver: str) -> str:
    return f"{Driver(driver).kubeconfig}\n"


@pytest.mark.parametrize(("task", "calls", "out"), [
    ("cluster.up", [("up",)], kubeconfig_line("kind")),
    ("cluster.down", [("down",)], ""),
    ("cluster.reset", [("down",), ("up",)], kubeconfig_line("kind")),
])
def test_cluster_tasks_drive_the_driver_the_variable_names(
        invoke: Invoke, monkeypatch: pytest.MonkeyPatch, drivers: dict[str, Driver],
        task: str, calls: list[tuple[str]], out: str) -> None:
    """kind although Docker is missing: the variable overrides the probe."""
    monkeypatch.setenv(cluster.DRIVER_ENV, "kind")
    done = invoke(task)
    assert (done.code, done.out, done.err) == (0, out, "")
    assert (drivers["kind"].calls, drivers["local"].calls) == (calls, [])


@pytest.mark.parametrize(("working", "chosen"), [({"docker", "kind"}, "kind"), ({"kind"}, "local")])
def test_without_the_variable_cluster_up_takes_kind_only_where_docker_and_kind_work(
        invoke: Invoke, monkeypatch: pytest.MonkeyPatch, drivers: dict[str, Driver],
        working: set[str], chosen: str) -> None:
    monkeypatch.setattr(cluster, "succeeds", lambda argv: argv[0] in working)
    assert invoke("cluster.up").out == kubeconfig_line(chosen)
    assert {name: driver.calls for name, driver in drivers.items()} == {
        name: [("up",)] if name == chosen else [] for name in drivers}


@pytest.mark.parametrize("task", ["cluster.up", "cluster.down", "cluster.reset", "images.load"])
def test_an_unknown_driver_name_fails_before_anything_is_done(
        invoke: Invoke, monkeypatch: pytest.MonkeyPatch, drivers: dict[str, Driver], builds: Builds,
        task: str) -> None:
    """images.load included: its builds take minutes, to no end with no cluster to load into."""
    monkeypatch.setenv(cluster.DRIVER_ENV, "minikube")
    done = invoke(task)
    assert (done.code, done.out, done.err) == (
        1, "", "error: NEWS_TRACKER_CLUSTER_DRIVER='minikube' is not a cluster driver; use one of: kind, local\n")
    assert (builds.asked, drivers["kind"].calls, drivers["local"].calls) == ([], [], [])


@pytest.mark.parametrize(("task", "failing", "calls"), [
    ("cluster.up", "up", [("up",)]),
    ("cluster.down", "down", [("down",)]),
    ("cluster.reset", "down", [("down",)]),
    ("cluster.reset", "up", [("down",), ("up",)]),
])
def test_a_driver_failure_ends_in_exit_1_with_its_message_alone(
        invoke: Invoke, drivers: dict[str, Driver], task: str, failing: str, calls: list[tuple[str]]) -> None:
    """No kubeconfig printed for a cluster that did not come up, and no up after a failed down."""
    drivers["local"].failing = {failing: "kubelet did not start: see /state/local/kubelet.log"}
    done = invoke(task)
    assert (done.code, done.out, done.err) == (1, "", "error: kubelet did not start: see /state/local/kubelet.log\n")
    assert drivers["local"].calls == calls


def test_images_load_loads_the_archives_of_the_named_images_or_all(
        invoke: Invoke, drivers: dict[str, Driver], builds: Builds) -> None:
    named = invoke("images.load", "--name", "news-api", "--name", "activemq")
    assert (named.code, named.out, named.err) == (0, "loaded: news-api, activemq\n", "")
    assert invoke("images.load").out == "loaded: activemq, news-job, news-api\n"
    assert builds.asked == [["news-api", "activemq"], []]
    assert drivers["local"].calls == [("load_images", [Builds.archive("news-api"), Builds.archive("activemq")]),
                                      ("load_images", [Builds.archive(name) for name in Builds.KNOWN])]


@pytest.mark.parametrize(("names", "failing", "message", "loads"), [
    (["nginx"], {}, "unknown image(s) nginx", []),
    ([], {"load_images": "ctr import failed: no space left on device"},
     "ctr import failed: no space left on device", [[Builds.archive(name) for name in Builds.KNOWN]]),
])
def test_images_load_failures_end_in_exit_1_with_the_message_and_nothing_reported_loaded(
        invoke: Invoke, drivers: dict[str, Driver], builds: Builds,
        names: list[str], failing: dict[str, str], message: str, loads: list[list[Path]]) -> None:
    drivers["local"].failing = failing
    done = invoke("images.load", *(arg for name in names for arg in ("--name", name)))
    assert (done.code, done.out, done.err) == (1, "", f"error: {message}\n")
    assert drivers["local"].calls == [("load_images", archives) for archives in loads]
