"""invoke tour and invoke timeline against a deployed stack of their own (issue 15).

The `tour` stack (Pulumi.tour.yaml, namespace news-tour) leaves the ci stack's pods alone, so the
module runs inside test_post.py's steady-state window (conftest.py): one `invoke up` for the
module, the tour one step at a time (`invoke tour --step N`, no terminal), each step's printed
kubectl commands run again here and compared with what the tour showed, what it said changed
compared with the pods as kubectl sees them, then a graceful delete of the broker pod recorded by
`invoke timeline --follow --svg`, and `invoke down`. Every wait is bounded.
"""
from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
import threading
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.live.tasks_runner import INVOKE, env_of, invoke, kubectl_json, outputs, wait_for
from tools import tour
from tools.cluster import kubectl_command
from tools.paths import REPO
from tools.target import cluster_target

pytestmark = pytest.mark.live

#: What changes between two runs of the same command: ages ("45s", "3m2s", "(12s ago)").
AGE = re.compile(r"\b\d+(?:\.\d+)?(?:ms|s|m|h|d)(?:\d+(?:s|m|h))?\b")
OMITTED = re.compile(re.escape(tour.OMITTED).replace(r"\{\}", r"\d+"))
SECONDS: dict[str, float] = {}
#: The pods as the module's `up` left them: what the tour must come back to.
START: dict[str, tour.PodState] = {}
STACK = "tour"


@dataclass
class Told:
    """One step as the tour printed it."""
    title: str
    commands: list[tuple[str, list[str]]] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def parse(stdout: str) -> Told:
    (header,) = re.findall(r"^\[\d+/\d+\] (.*)$", stdout, re.M)
    told = Told(header)
    for line in stdout.split(header, 1)[1].splitlines():
        if line.startswith("  $ "):
            told.commands.append((line[4:], []))
        elif line.startswith("  changed: "):
            told.changed.append(line[len("  changed: "):])
        elif line.startswith("  # "):
            told.notes.append(line[4:])
        elif line.startswith("    ") and told.commands:
            told.commands[-1][1].append(line[4:])
    return told


def normal(line: str) -> str:
    return " ".join(AGE.sub("AGE", line).split())


def same_output(shown: list[str], output: str, command: str) -> None:
    """Every line the tour showed is in the command's output now (ages aside); a line the tour
    cut short starts one; its [... N lines] marks are the tour's own."""
    lines = [normal(line) for line in output.splitlines()]
    for line in shown:
        if OMITTED.fullmatch(line):
            continue
        if line.endswith(tour.CUT):
            assert any(candidate.startswith(normal(line[:-len(tour.CUT)])) for candidate in lines), (command, line)
        else:
            assert normal(line) in lines, f"{command}\nshown: {line!r}\nnow:\n{output[-3000:]}"


def pods_now() -> dict[str, tour.PodState]:
    return tour.pod_states(kubectl_json("get", "pods", stack=STACK)["items"])


def argv(typed: str) -> list[str]:
    """A printed command as this machine runs it: `kubectl` is the cluster's kubectl."""
    words = shlex.split(typed.removesuffix(" &"))
    return [*kubectl_command(), *words[1:]] if words[0] == "kubectl" else words


def run(typed: str) -> str:
    return subprocess.run(argv(typed), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=60, stdin=subprocess.DEVNULL).stdout


def check_forward(typed: str, then: tuple[str, list[str]]) -> None:
    """The printed port-forward, run here in the background, serves the printed curl as shown."""
    process = subprocess.Popen(argv(typed), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        assert "Forwarding from 127.0.0.1:" in process.stdout.readline()
        same_output(then[1], run(then[0]), then[0])
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def deployed() -> Iterator[dict[str, Any]]:
    invoke("up", timeout=300, stack=STACK)
    START.update(pods_now())
    try:
        yield outputs(STACK)
    finally:
        invoke("down", timeout=300, stack=STACK)


@pytest.mark.parametrize("number", range(1, len(tour.STEPS) + 1))
def test_01_each_tour_step_prints_commands_that_give_what_it_reported(deployed: dict[str, Any], number: int) -> None:
    names = {pod["name"] for pod in deployed["pods"].values()}
    before = pods_now()
    started = time.monotonic()
    done = invoke("tour", "--step", str(number), timeout=300, stack=STACK)
    SECONDS[f"step {number}"] = time.monotonic() - started
    told, after = parse(done.stdout), pods_now()
    assert told.title == tour.STEPS[number - 1].title
    # What the tour said changed is what kubectl sees changed (new pods, IPs, restart counts)...
    assert told.changed == (tour.changes(before, after) or ["nothing"])
    # ...and the stack is as it was: the same pods, every one Ready.
    assert set(after) == names and all(state.ready for state in after.values()), after
    prefix = f"kubectl --kubeconfig {cluster_target(STACK).kubeconfig} --namespace {deployed['namespace']} "
    commands = iter(told.commands)
    for typed, shown in commands:
        if typed.startswith(f"INVOKE_NEWS_TRACKER_STACK={STACK} invoke up"):
            assert shown[-1].startswith("changes: {"), shown
            continue
        assert typed.startswith(prefix), typed
        verb, *rest = typed[len(prefix):].split()
        assert {word.removeprefix("pod/") for word in rest} & names or rest[:1] == ["pods"], typed
        if verb == "port-forward":
            check_forward(typed, next(commands))
        elif verb in ("get", "describe", "logs") or (verb == "exec" and "kill 1" not in typed):
            same_output(shown, run(typed), typed)
        else:  # delete, kill 1: not again; their effect is in `changed`, checked above
            assert verb in ("delete", "exec"), typed
    if number == 7:
        assert told.changed == [f"{deployed['pods']['api']['name']}/{deployed['pods']['api']['containers'][0]}: "
                                "restarts 0 -> 1"]
    if number == 8:
        assert sum("a new pod, IP " in line for line in told.changed) == 2, told.changed
    if number == len(tour.STEPS):  # back where it started: a pod it made again counts from 0
        for name, state in after.items():
            start = START[name]
            assert state.restarts == (start.restarts if state.uid == start.uid else
                                      tuple((container, 0) for container, _ in start.restarts)), (name, state)
        assert START[deployed["pods"]["broker"]["name"]].uid == after[deployed["pods"]["broker"]["name"]].uid
        print(f"tour steps: {sum(SECONDS.values()):.0f} s in all: " +
              ", ".join(f"{k} {v:.0f} s" for k, v in SECONDS.items()))


def rows(table: str) -> list[tuple[float, str, str, str]]:
    found = [re.match(r"^\s+([+-]\d+\.\d)s\s+(\S+)\s+(\S+)\s*(.*)$", line) for line in table.splitlines()]
    return [(float(m.group(1)), m.group(2), m.group(3), m.group(4)) for m in found if m]


def test_02_timeline_of_a_graceful_delete_shows_start_ready_sigterm_exit_in_order(
        deployed: dict[str, Any], tmp_path: Path) -> None:
    broker = deployed["pods"]["broker"]
    pod = kubectl_json("get", "pod", broker["name"], stack=STACK)
    created = datetime.fromisoformat(pod["metadata"]["creationTimestamp"].replace("Z", "+00:00"))
    grace = pod["spec"]["terminationGracePeriodSeconds"]
    chart = tmp_path / "broker.svg"
    follow = subprocess.Popen([INVOKE, "timeline", broker["name"], "--follow", "--svg", str(chart)], cwd=REPO,
                              env=env_of(STACK), text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              start_new_session=True)  # its kubectl too is stopped at the end
    printed: list[str] = []
    reader = threading.Thread(target=lambda: printed.extend(follow.stdout or ()), daemon=True)
    reader.start()
    try:
        wait_for(lambda: printed, "invoke timeline --follow to start watching", timeout=30, interval=0.2)
        assert printed[0].startswith(f"following {broker['name']}"), printed
        deleted = datetime.now(timezone.utc)
        invoke("delete-pod", broker["name"], timeout=grace + 30, stack=STACK)
        follow.wait(timeout=60)
        reader.join(timeout=10)
    finally:
        with contextlib.suppress(ProcessLookupError):  # gone already when it ended by itself
            os.killpg(follow.pid, signal.SIGKILL)
        follow.wait(timeout=10)
    table = "".join(printed)
    assert follow.returncode == 0, table
    marks = rows(table)
    sigterm_at = (deleted - created).total_seconds()
    ready = [i for i, (_, lane, kind, _) in enumerate(marks) if (lane, kind) == ("pod", "ready")]
    assert len(ready) == 1, table
    for container, code in zip(broker["containers"], (143, 0)):  # the JVM on SIGTERM, the sidecar's trap
        mine = {kind: (i, seconds, detail) for i, (seconds, lane, kind, detail) in enumerate(marks) if lane == container}
        order = [mine[kind][0] for kind in ("started", "SIGTERM", "exit")]
        assert order[0] < ready[0] < order[1] < order[2], table
        assert 0 <= mine["started"][1] < 60 and marks[ready[0]][0] < 120, table
        assert abs(mine["SIGTERM"][1] - sigterm_at) < 5, (sigterm_at, table)
        assert 0 <= mine["exit"][1] - mine["SIGTERM"][1] < grace / 2, table
        assert mine["exit"][2].startswith(f"exit {code}"), table
    assert re.search(rf"^\s+[+]\S+\s+pod\s+delete\s+graceful, SIGKILL after {grace} s$", table, re.M), table
    svg = ElementTree.parse(chart).getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    lanes = {e.get("id") for e in svg.iter() if (e.get("id") or "").startswith("lane-")}
    assert lanes == {f"lane-{c}" for c in broker["containers"]}
    # Once the pod is gone, its events still tell the kill; the status (exit codes) went with it.
    # The kubelet keeps probing readiness while a container stops: a failed probe may come after.
    gone = invoke("timeline", broker["name"], stack=STACK).stdout
    assert [kind for _, lane, kind, _ in rows(gone)
            if lane == broker["containers"][0] and kind != "probe-failed"][-1] == "SIGTERM", gone
    assert "no readiness, no exit codes" in gone
