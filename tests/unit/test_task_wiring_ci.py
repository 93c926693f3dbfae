"""The tasks the CI pipelines run (ci.preview, ci.deploy), through invoke's parser with the engine
stood in: which stack they work on, what they print and add to the CI page's summary
(GITHUB_STEP_SUMMARY), and that a failure ends in exit 1 with the message alone."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import tasks.ci
from tests.unit.task_runner import Invoke, invoke  # noqa: F401 (the fixture)
from tests.unit.task_stand_ins import Engine

PODS = {role: {"name": f"{role}-pod", "ip": f"10.244.1.{n}", "containers": [role], "ports": [8080]}
        for n, role in enumerate(("broker", "job", "api"), start=2)}
EARLIER = "- an earlier step's line\n"


@pytest.fixture()
def summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The CI page's summary file, holding an earlier step's line; the ci stack selected."""
    path = tmp_path / "step-summary.md"
    path.write_text(EARLIER)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(path))
    monkeypatch.setenv("INVOKE_NEWS_TRACKER_STACK", "ci")
    return path


def engine_for(monkeypatch: pytest.MonkeyPatch, **behaviour: Any) -> Engine:
    engine = Engine(**behaviour)
    monkeypatch.setattr(tasks.ci, "pulumi_stack", engine)
    return engine


def pods_json(pods: dict[str, Any]) -> str:
    return json.dumps(pods, indent=2, sort_keys=True) + "\n"


def test_ci_preview_previews_the_selected_stack_and_adds_the_changes_to_the_summary(
        invoke: Invoke, monkeypatch: pytest.MonkeyPatch, summary: Path) -> None:
    engine = engine_for(monkeypatch, changes={"same": 4, "create": 1})
    done = invoke("ci.preview")
    assert (done.code, done.out, done.err) == (0, "preview (ci): create=1, same=4\n", "")
    assert summary.read_text() == EARLIER + "- preview (ci): create=1, same=4\n"
    assert engine.calls == [("preview", "ci")]


def test_ci_deploy_deploys_the_selected_stack_and_prints_its_pods(
        invoke: Invoke, monkeypatch: pytest.MonkeyPatch, summary: Path) -> None:
    engine = engine_for(monkeypatch, changes={"update": 1, "same": 3}, outputs={"namespace": "news", "pods": PODS})
    done = invoke("ci.deploy")
    assert (done.code, done.out, done.err) == (0, "deploy (ci): same=3, update=1\n" + pods_json(PODS), "")
    assert summary.read_text() == EARLIER + "- deploy (ci): same=3, update=1\n"
    assert engine.calls == [("up", "ci"), ("outputs", "ci")]


def test_without_a_ci_page_the_changes_are_only_printed(
        invoke: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("INVOKE_NEWS_TRACKER_STACK", raising=False)
    monkeypatch.chdir(tmp_path)
    engine_for(monkeypatch, changes={"same": 5})
    assert invoke("ci.preview").out == "preview (dev): same=5\n"
    assert list(tmp_path.iterdir()) == []


NO_IP = {**PODS, "job": {**PODS["job"], "ip": None}}


@pytest.mark.parametrize(("task", "behaviour", "calls", "summed", "message"), [
    ("ci.preview", {"failing": {"preview": "pulumi preview failed; the diagnostics are above"}},
     [("preview", "ci")], "", "pulumi preview failed; the diagnostics are above"),
    ("ci.deploy", {"failing": {"up": "the cluster at https://127.0.0.1:6443 does not answer"}},
     [("up", "ci")], "", "the cluster at https://127.0.0.1:6443 does not answer"),
    ("ci.deploy", {"changes": {"same": 7}, "outputs": {"pods": NO_IP}},
     [("up", "ci"), ("outputs", "ci")], "deploy (ci): same=7", "a deployed pod has no IP: see `invoke pods`"),
], ids=["preview fails", "up fails", "a pod without an IP"])
def test_a_failure_ends_in_exit_1_with_its_message_alone(
        invoke: Invoke, monkeypatch: pytest.MonkeyPatch, summary: Path, task: str, behaviour: dict[str, Any],
        calls: list[tuple[str, str]], summed: str, message: str) -> None:
    """A failed operation adds nothing to the summary; a deploy that ran is summed up, its pods
    printed, and then fails for the pod without an IP."""
    engine = engine_for(monkeypatch, **behaviour)
    done = invoke(task)
    out = f"{summed}\n{pods_json(NO_IP)}" if summed else ""
    assert (done.code, done.out, done.err) == (1, out, f"error: {message}\n")
    assert summary.read_text() == EARLIER + (f"- {summed}\n" if summed else "")
    assert engine.calls == calls
