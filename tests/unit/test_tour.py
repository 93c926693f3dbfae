"""invoke tour against a stand-in kubectl that keeps three recorded pods (fixtures/tour) and
changes them as the real cluster would: `kill 1` adds a restart, a delete removes a pod, `up`
makes it again with a new uid and IP."""
from __future__ import annotations

import copy
import io
import json
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tools import tour
from tools.errors import SetupError
from tools.kube import Kubectl
from tools.target import ClusterTarget

FIXTURES = Path(__file__).parent / "fixtures" / "tour"
OUTPUTS = json.loads((FIXTURES / "outputs.json").read_text())
BROKER_LOG = "".join(f"INFO | line {n}\n" for n in range(40)).replace(
    "line 20\n", "Apache ActiveMQ 6.1.4 (localhost, ID:activemq-pod-1) started\n")


class FakeKubectl:
    """Answers the kubectl commands the tour runs from a list of pods it keeps; logs each call."""

    def __init__(self) -> None:
        self.pods: list[dict[str, Any]] = json.loads((FIXTURES / "pods.json").read_text())["items"]
        self.deleted: list[dict[str, Any]] = []
        self.calls: list[list[str]] = []
        self.made = 0

    def pod(self, name: str) -> dict[str, Any]:
        return next(p for p in self.pods if p["metadata"]["name"] == name)

    def up(self) -> list[str]:
        for gone in self.deleted:
            self.made += 1
            again = copy.deepcopy(gone)
            again["metadata"]["uid"] = f"new-{self.made}"
            again["status"]["podIP"] = f"10.244.0.{30 + self.made}"
            for status in again["status"]["containerStatuses"]:
                status["restartCount"] = 0
            self.pods.append(again)
        made, self.deleted = len(self.deleted), []
        return [f'changes: {{"create": {made}, "same": 5}}']

    def run(self, argv: Sequence[str], timeout: float) -> tuple[int, str]:
        if argv[0] == "curl":
            self.calls.append(list(argv))
            return 0, "401\n"
        args = list(argv[argv.index("--namespace") + 2:])
        self.calls.append(args)
        verb, rest = args[0], args[1:]
        if args[:2] == ["get", "pods"] and "json" in args:
            return 0, json.dumps({"items": self.pods})
        if verb == "get":
            rows = [f"{p['metadata']['name']}   1/1   Running   "
                    f"{p['status']['containerStatuses'][0]['restartCount']}   3m   {p['status']['podIP']}   ntk-local"
                    for p in self.pods if len(rest) < 2 or p["metadata"]["name"] == rest[1] or rest[1] == "-o"]
            if any(a.startswith("jsonpath={.status.podIP}") for a in args):
                return 0, self.pod(rest[1])["status"]["podIP"]
            if any(a.startswith("jsonpath={.spec.containers") for a in args):
                return 0, " ".join(c["name"] for c in self.pod(rest[1])["spec"]["containers"])
            return 0, "NAME   READY   STATUS   RESTARTS   AGE   IP   NODE\n" + "\n".join(rows) + "\n"
        if verb == "describe":
            return 0, (FIXTURES / "describe-newsapi.txt").read_text()
        if verb == "logs":
            return 0, BROKER_LOG
        if verb == "delete":
            self.deleted.append(self.pod(rest[1]))
            self.pods.remove(self.deleted[-1])
            return 0, f'pod "{rest[1]}" deleted\n'
        if verb == "exec" and args[-1] == "kill 1":
            self.pod(rest[0])["status"]["containerStatuses"][0]["restartCount"] += 1
            return 137, "command terminated with exit code 137\n"
        if verb == "exec":
            return 0, '{"status": "alive"}' if "/healthz" in args[-1] else "401\n"
        raise AssertionError(f"unexpected kubectl {args}")

    def start(self, argv: Sequence[str]) -> subprocess.Popen[str]:
        self.calls.append(list(argv[argv.index("--namespace") + 2:]))
        port = argv[-1].split(":")[0]
        return subprocess.Popen(["sh", "-c", f"echo 'Forwarding from 127.0.0.1:{port} -> 8161'; exec sleep 30"],
                                stdout=subprocess.PIPE, text=True)


@pytest.fixture
def kube(tmp_path: Path) -> Kubectl:
    (tmp_path / "kubeconfig").write_text("")
    return Kubectl(ClusterTarget(tmp_path / "kubeconfig", None), "news-ci")


def run_tour(kube: Kubectl, fake: FakeKubectl, only: int | None = None, pause: bool = False) -> str:
    out = io.StringIO()
    tour.Tour(kube, OUTPUTS, fake.up, "ci", shell=fake, out=out).run(only=only, pause=pause)
    return out.getvalue()


def steps(text: str) -> dict[int, str]:
    parts = re.split(r"^\[(\d+)/\d+\] ", text, flags=re.M)
    return {int(number): body for number, body in zip(parts[1::2], parts[2::2])}


def test_the_whole_tour_prints_each_command_as_typed_with_its_output_and_what_changed(kube: Kubectl) -> None:
    fake = FakeKubectl()
    text = run_tour(kube, fake, pause=True)  # no terminal here: --pause runs straight through
    told = steps(text)
    assert sorted(told) == list(range(1, len(tour.STEPS) + 1))
    typed = re.findall(r"^  \$ (.*)$", text, re.M)
    kubectl = [line for line in typed if line.startswith("kubectl ")]
    assert all(line.startswith(f"kubectl --kubeconfig {kube.target.kubeconfig} --namespace news-ci ") for line in kubectl)
    assert "kubectl --kubeconfig {} --namespace news-ci exec activemq-pod -c activemq -- curl -sS -m 10 " \
           "http://10.244.0.14:8080/healthz".format(kube.target.kubeconfig) in typed
    assert re.search(r"^    \{\"status\": \"alive\"\}$", told[3], re.M)
    for unchanged in (1, 2, 3, 4, 5, 6, 9):
        assert re.findall(r"^  changed: (.*)$", told[unchanged], re.M) == ["nothing"], told[unchanged]
    assert re.findall(r"^  changed: (.*)$", told[7], re.M) == ["newsapi-pod/newsapi: restarts 0 -> 1"]
    assert re.findall(r"^  changed: (.*)$", told[8], re.M) == [
        "newsapi-pod: a new pod, IP 10.244.0.14 -> 10.244.0.31",
        "newsapi-pod/newsapi: restarts 1 -> 0",
        "newsproducer-pod: a new pod, IP 10.244.0.13 -> 10.244.0.32"]
    assert "  $ INVOKE_NEWS_TRACKER_STACK=ci invoke up\n    changes: {\"create\": 2, \"same\": 5}" in told[8]
    assert "  # took " in told[8] and "  # exit 137: the session ended with the container" in told[7]
    assert re.search(r"^the tour \(9 steps\) took \d+ s; the pods: activemq-pod Ready, newsapi-pod Ready, "
                     r"newsproducer-pod Ready$", text, re.M)


def test_port_forward_runs_in_the_background_while_curl_uses_it(kube: Kubectl) -> None:
    fake = FakeKubectl()
    told = steps(run_tour(kube, fake, only=6))[6]
    forward = re.search(r"^  \$ kubectl .* port-forward pod/activemq-pod (\d+):8161 &$", told, re.M)
    assert forward, told
    port = forward.group(1)
    assert f"    Forwarding from 127.0.0.1:{port} -> 8161\n  $ curl -sS -o /dev/null -w '%{{http_code}}\\n' -m 10 " \
           f"http://127.0.0.1:{port}/admin/\n    401\n  # port-forward stopped" in told


def test_one_step_alone_and_a_step_out_of_range(kube: Kubectl) -> None:
    fake = FakeKubectl()
    assert sorted(steps(run_tour(kube, fake, only=3))) == [3]
    assert [call[0] for call in fake.calls] == ["get", "exec", "get"]  # snapshot, the step, snapshot
    with pytest.raises(SetupError, match="no step 10: the tour has steps 1 to 9"):
        run_tour(kube, fake, only=10)


def test_the_tour_wants_every_pod_ready_before_it_starts(kube: Kubectl) -> None:
    fake = FakeKubectl()
    fake.pod("newsapi-pod")["status"]["conditions"][0]["status"] = "False"
    with pytest.raises(SetupError, match=r"newsapi-pod: ready=False.*run `invoke up` first"):
        run_tour(kube, fake)
    fake.pods.pop()
    with pytest.raises(SetupError, match="every pod Ready"):
        run_tour(kube, fake)


def test_describe_keeps_identity_ip_port_readiness_restarts_and_marks_what_it_left_out() -> None:
    shown = tour.described((FIXTURES / "describe-newsapi.txt").read_text())
    assert shown == ["Name:             newsapi-pod", "Namespace:        news-ci", "[... 2 lines]",
                     "Node:             ntk-local/10.0.2.15", "[... 4 lines]", "Status:           Running",
                     "IP:               10.244.0.14", "[... 2 lines]", "Containers:", "  newsapi:", "[... 3 lines]",
                     "    Port:           8080/TCP (http)", "[... 3 lines]", "    Ready:          True",
                     "    Restart Count:  0", "[... 12 lines]"]


def test_logs_keep_their_first_and_last_lines_and_the_ones_that_matter() -> None:
    shown = tour.log_lines(r"ActiveMQ .* started")(BROKER_LOG)
    assert shown == ["INFO | line 0", "INFO | line 1", "[... 18 lines]",
                     "INFO | Apache ActiveMQ 6.1.4 (localhost, ID:activemq-pod-1) started", "[... 17 lines]",
                     "INFO | line 38", "INFO | line 39"]
    assert tour.whole("x" * 200 + "\n") == ["x" * tour.LINE_WIDTH + tour.CUT]


def test_changes_name_new_pods_ips_nodes_readiness_and_restarts() -> None:
    before = {"a": tour.PodState("1", "10.0.0.1", "n1", True, (("c", 0),)),
              "b": tour.PodState("2", "10.0.0.2", "n1", True, (("d", 2),))}
    after = {"a": tour.PodState("9", "10.0.0.9", "n2", False, (("c", 0),)),
             "c": tour.PodState("3", "10.0.0.3", "n1", True, ())}
    assert tour.changes(before, after) == ["b: gone", "c: new, IP 10.0.0.3",
                                           "a: a new pod, IP 10.0.0.1 -> 10.0.0.9, node n1 -> n2, ready True -> False"]
    assert tour.changes(before, before) == []
