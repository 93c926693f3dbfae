"""The watch that stops an operation waiting on a NotReady node or a missing image, without a
cluster: kubectl is a stand-in that answers with the nodes and pods a test gives it."""
from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import pytest

from tools import wait_watch
from tools.engine_signals import Interruption
from tools.errors import SetupError


def node(name: str, ready: str, reason: str = "KubeletReady") -> dict[str, Any]:
    return {"metadata": {"name": name},
            "status": {"conditions": [{"type": "Ready", "status": ready, "reason": reason}]}}


def pod(name: str, waiting: str | None = None, ready: str = "False") -> dict[str, Any]:
    statuses = [{"state": {"waiting": {"reason": waiting, "message": "image not present"}}}] if waiting else []
    return {"metadata": {"name": name}, "spec": {"nodeName": "n1"},
            "status": {"phase": "Pending", "conditions": [{"type": "Ready", "status": ready}],
                       "containerStatuses": statuses}}


class AnsweringKubectl:
    """Answers `get nodes` and `get pods` from a script of states, one per poll (the last repeats)."""

    def __init__(self, states: Sequence[tuple[list[dict[str, Any]], list[dict[str, Any]]]]) -> None:
        self.states, self.polls = list(states), 0
        self.asked: list[str] = []

    def json(self, *args: str) -> Any:
        kind = args[1]
        self.asked.append(kind)
        nodes, pods = self.states[min(self.polls, len(self.states) - 1)]
        if kind == "nodes":
            return {"items": nodes}
        self.polls += 1
        return {"items": pods}


class FailingKubectl:
    def json(self, *args: str) -> Any:
        raise SetupError("kubectl get nodes failed: connection refused")


def test_a_notready_node_and_a_pod_without_its_image_are_hopeless_with_their_fix() -> None:
    kubectl = AnsweringKubectl([([node("n1", "Unknown", "NodeStatusUnknown")],
                                 [pod("api-pod", "ErrImageNeverPull"), pod("job-pod", "ContainerCreating")])])
    lines = wait_watch.hopeless(kubectl, pods_too=True)  # type: ignore[arg-type]
    assert lines == ["node n1 is NotReady (NodeStatusUnknown): run `invoke cluster.up`",
                     "pod api-pod: ErrImageNeverPull: image not present: run `invoke images.load`"]


def test_pods_still_starting_on_a_ready_node_are_not_hopeless_and_down_asks_only_for_nodes() -> None:
    kubectl = AnsweringKubectl([([node("n1", "True")], [pod("api-pod", "ContainerCreating")])])
    assert wait_watch.hopeless(kubectl, pods_too=True) == []  # type: ignore[arg-type]
    kubectl = AnsweringKubectl([([node("n1", "True")], [pod("api-pod", "ErrImageNeverPull")])])
    assert wait_watch.hopeless(kubectl, pods_too=False) == []  # type: ignore[arg-type]
    assert kubectl.asked == ["nodes"]


def test_a_cluster_that_does_not_answer_is_left_to_the_engine() -> None:
    assert wait_watch.hopeless(FailingKubectl(), pods_too=True) == []  # type: ignore[arg-type]


def stops_seen(states: Sequence[tuple[list[dict[str, Any]], list[dict[str, Any]]]], polls: int) -> list[str]:
    kubectl, stopped, pause = AnsweringKubectl(states), [], threading.Event()
    with wait_watch.stopping_hopeless_waits(kubectl, stopped.append, every=0.01):  # type: ignore[arg-type]
        while kubectl.polls < polls and not stopped:
            pause.wait(0.01)
        pause.wait(0.05)  # time for a second stop, which must not come
    return stopped


def test_the_same_hopeless_state_twice_in_a_row_stops_once() -> None:
    down = ([node("n1", "Unknown")], [])
    assert stops_seen([down], polls=6) == ["node n1 is NotReady (KubeletReady): run `invoke cluster.up`"]


def test_a_state_that_changes_between_polls_never_stops() -> None:
    flapping = [([node("n1", "Unknown")], []), ([node("n1", "True")], [])] * 5
    assert stops_seen(flapping, polls=10) == []


def test_interruption_stop_sends_the_engine_one_sigint_and_keeps_the_first_reason(
        monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[int] = []
    interruption = Interruption("owner")
    monkeypatch.setattr(interruption, "forward", sent.append)
    interruption.stop("node n1 is NotReady")
    interruption.stop("pod x: ErrImageNeverPull")
    assert interruption.stopped_because == "node n1 is NotReady"
    assert len(sent) == 1


class DeletingKubectl:
    """Records each kubectl call; `delete` of the pod named `refuses` fails like an API error."""

    def __init__(self, refuses: str = "") -> None:
        self.calls: list[tuple[str, ...]] = []
        self.refuses = refuses

    def output(self, *args: str) -> str:
        self.calls.append(args)
        if self.refuses and self.refuses in args:
            raise SetupError("kubectl delete failed")
        return ""


def test_only_the_pods_stopped_on_for_a_missing_image_are_deleted() -> None:
    why = "\n".join([
        "node n2 is NotReady (KubeletNotReady): run `invoke cluster.up`",
        "pod newsapi-pod: ErrImageNeverPull: image not present: run `invoke images.load`",
        "pod newsproducer-pod: waits for node n2, which is NotReady: run `invoke cluster.up`",
        "pod activemq-pod: ImagePullBackOff: Back-off pulling image: run `invoke images.load`",
    ])
    kubectl = DeletingKubectl(refuses="activemq-pod")
    removed = wait_watch.remove_pods_missing_images(kubectl, why)  # type: ignore[arg-type]
    assert removed == ["newsapi-pod"]
    assert [call[:3] for call in kubectl.calls] == [("delete", "pod", "newsapi-pod"), ("delete", "pod", "activemq-pod")]
