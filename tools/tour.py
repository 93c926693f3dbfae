"""The post's lesson replayed against the reader's own cluster: each step is data (what it
shows, the kubectl commands a reader types, built from the stack's real pod names, how their
output is trimmed, what puts the stack back), and one runner prints, for each step, every
command exactly as typed, its real output, and what changed in the pods (IPs, restarts).

Everything runs through `Shell`, so a unit test can stand in for kubectl; the kubectl argv comes
from tools.kube.Kubectl, so the printed command carries the stack's kubeconfig and namespace.
"""
from __future__ import annotations

import dataclasses
import json
import re
import shlex
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO

from tools.cluster import kubectl_command
from tools.errors import SetupError
from tools.kube import Kubectl

LINE_WIDTH = 150
#: The mark of lines the tour left out of an output, and of a line it cut short.
OMITTED = "[... {} lines]"
CUT = " [...]"
WAIT_SECONDS = 120
COMMAND_SECONDS = 60


class Shell(Protocol):
    """Runs a command to its end, or starts one to stop later: the seam unit tests replace."""

    def run(self, argv: Sequence[str], timeout: float) -> tuple[int, str]: ...

    def start(self, argv: Sequence[str]) -> subprocess.Popen[str]: ...


class Processes:
    """The real shell: stdout and stderr together, as a reader's terminal shows them."""

    def run(self, argv: Sequence[str], timeout: float) -> tuple[int, str]:
        try:
            done = subprocess.run(list(argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise SetupError(f"{shlex.join(argv)} did not end within {timeout:.0f} s") from None
        return done.returncode, done.stdout

    def start(self, argv: Sequence[str]) -> subprocess.Popen[str]:
        return subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                stdin=subprocess.DEVNULL)


@dataclass(frozen=True)
class PodState:
    """What a reader watches change: the pod's identity, IP, node, readiness, restarts."""
    uid: str
    ip: str
    node: str
    ready: bool
    restarts: tuple[tuple[str, int], ...]


def pod_states(items: Sequence[Mapping[str, Any]]) -> dict[str, PodState]:
    return {pod["metadata"]["name"]: PodState(
        uid=pod["metadata"]["uid"], ip=pod["status"].get("podIP", ""), node=pod["spec"].get("nodeName", ""),
        ready=any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", [])),
        restarts=tuple(sorted((s["name"], s["restartCount"]) for s in pod["status"].get("containerStatuses", []))))
        for pod in items}


def changes(before: Mapping[str, PodState], after: Mapping[str, PodState]) -> list[str]:
    """What changed between two snapshots, one line per fact, e.g.
    `newsapi-pod: a new pod, IP 10.244.0.6 -> 10.244.0.9` or `newsapi-pod/newsapi: restarts 0 -> 1`."""
    lines = [f"{name}: gone" for name in sorted(before.keys() - after.keys())]
    lines += [f"{name}: new, IP {after[name].ip}" for name in sorted(after.keys() - before.keys())]
    for name in sorted(before.keys() & after.keys()):
        old, new = before[name], after[name]
        facts = ["a new pod"] if old.uid != new.uid else []
        facts += [f"IP {old.ip} -> {new.ip}"] if old.ip != new.ip else []
        facts += [f"node {old.node} -> {new.node}"] if old.node != new.node else []
        facts += [f"ready {old.ready} -> {new.ready}"] if old.ready != new.ready else []
        lines += [f"{name}: {', '.join(facts)}"] if facts else []
        old_restarts = dict(old.restarts)
        lines += [f"{name}/{container}: restarts {old_restarts.get(container, 0)} -> {count}"
                  for container, count in new.restarts if old_restarts.get(container, 0) != count]
    return lines


# Trimming: real output, shortened where a reader would skim.

def _cut(line: str) -> str:
    return line if len(line) <= LINE_WIDTH else line[:LINE_WIDTH] + CUT


def _keep(lines: Sequence[str], wanted: Callable[[int, str], bool]) -> list[str]:
    """The wanted lines, each run of left-out lines replaced by one OMITTED line."""
    shown: list[str] = []
    skipped = 0
    for number, line in enumerate(lines):
        if wanted(number, line):
            if skipped:
                shown.append(OMITTED.format(skipped))
            shown.append(_cut(line))
            skipped = 0
        else:
            skipped += 1
    return shown + ([OMITTED.format(skipped)] if skipped else [])


def whole(text: str) -> list[str]:
    return [_cut(line) for line in text.rstrip("\n").splitlines()]


DESCRIBED = re.compile(r"^(Name|Namespace|Node|Status|IP|Containers|\s+Port|\s+Ready|\s+Restart Count):"
                       r"|^  [a-z0-9-]+:$")


def described(text: str) -> list[str]:
    """`kubectl describe pod`: identity, node, IP, and per container its port, readiness, restarts."""
    return _keep(text.rstrip("\n").splitlines(), lambda _, line: bool(DESCRIBED.match(line)))


def log_lines(pattern: str, head: int = 2, tail: int = 2, most: int = 3) -> Callable[[str], list[str]]:
    """A log: its first and last lines and the first `most` lines matching `pattern`."""
    def trim(text: str) -> list[str]:
        lines = text.rstrip("\n").splitlines()
        matching = [n for n, line in enumerate(lines) if re.search(pattern, line)][:most]
        keep = set(range(head)) | set(range(len(lines) - tail, len(lines))) | set(matching)
        return _keep(lines, lambda number, _: number in keep)
    return trim


# The steps' parts.

@dataclass(frozen=True)
class Kube:
    """A kubectl command as a reader types it (the kubeconfig and namespace are added)."""
    args: tuple[str, ...]
    trim: Callable[[str], list[str]] = whole
    timed: str = ""  # when set, the run's duration is reported with this text after it
    may_fail: bool = False  # `kill 1` ends the exec session with the container


@dataclass(frozen=True)
class Forward:
    """A kubectl port-forward kept running while `then` (a command on this machine) uses it."""
    args: tuple[str, ...]
    then: tuple[str, ...]


@dataclass(frozen=True)
class Restarted:
    """Waits, bounded, until `container` has restarted more than `before` times and its pod is
    Ready again."""
    pod: str
    container: str
    before: int


@dataclass(frozen=True)
class Up:
    """`invoke up`: the stack makes again what the step deleted."""


Action = Kube | Forward | Restarted | Up


@dataclass(frozen=True)
class Pods:
    """The stack's pods as the steps name them (from its outputs) and their state at the step."""
    broker: str
    broker_container: str
    sidecar: str
    console_port: int
    api: str
    api_container: str
    api_port: int
    job: str
    states: Mapping[str, PodState] = field(default_factory=dict)

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> Pods:
        broker, api, job = (values["pods"][role] for role in ("broker", "api", "job"))
        return cls(broker=broker["name"], broker_container=broker["containers"][0],
                   sidecar=broker["containers"][-1], console_port=int(broker["ports"]["console"]),
                   api=api["name"], api_container=api["containers"][0],
                   api_port=int(next(iter(api["ports"].values()))), job=job["name"])


@dataclass(frozen=True)
class Step:
    title: str
    shows: str
    actions: Callable[[Pods], list[Action]]


def _free_port(preferred: int) -> int:
    """The post's local port when it is free on this machine, else any free one."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            probe.bind(("127.0.0.1", 0))
            return int(probe.getsockname()[1])


STATUS_ONLY = ("-sS", "-o", "/dev/null", "-w", "%{http_code}\\n", "-m", "10")

STEPS: tuple[Step, ...] = (
    Step("Every pod has an IP of its own",
         "Each pod gets its own IP when it is created; `-o wide` shows it, with the node it runs on.",
         lambda p: [Kube(("get", "pods", "-o", "wide"))]),
    Step("describe: the api pod's IP, its container and port",
         "describe tells where the api listens: the pod's IP and its container's port.",
         lambda p: [Kube(("describe", "pod", p.api), trim=described)]),
    Step("Pod to pod by IP, no NAT between",
         "From inside the broker's container, curl the api pod at its IP: every pod reaches every other "
         "pod by IP, on any node.",
         lambda p: [Kube(("exec", p.broker, "-c", p.broker_container, "--", "curl", "-sS", "-m", "10",
                          f"http://{p.states[p.api].ip}:{p.api_port}/healthz"))]),
    Step("Logs per container, and the sidecar's",
         "A pod with two containers: `-c` picks one. The sidecar streams the broker's log file from a "
         "volume the two share: the helper-container pattern of the post.",
         lambda p: [Kube(("logs", p.broker, "-c", p.broker_container), trim=log_lines(r"ActiveMQ .* started")),
                    Kube(("logs", p.broker, "-c", p.sidecar), trim=log_lines(r"ActiveMQ .* started"))]),
    Step("exec: containers of one pod share localhost",
         "The sidecar has no console of its own: localhost:8161 inside it is the broker container's port, "
         "in the network the pod's containers share (401: the console wants the stack's login).",
         lambda p: [Kube(("exec", p.broker, "-c", p.sidecar, "--", "curl", *STATUS_ONLY,
                          f"http://localhost:{p.console_port}/admin/"))]),
    Step("port-forward to the broker console",
         "kubectl forwards a port of this machine to the pod's port, through the API server and the kubelet.",
         lambda p: [Forward(("port-forward", f"pod/{p.broker}", f"{(local := _free_port(p.console_port))}:"
                             f"{p.console_port}"), ("curl", *STATUS_ONLY, f"http://127.0.0.1:{local}/admin/"))]),
    Step("kill 1: the container restarts, the pod stays",
         "Killing PID 1 ends the container; the kubelet starts it again in the same pod: same name, same IP, "
         "one more restart. (Only a new pod counts from 0 again: the next step makes one.)",
         lambda p: [Kube(("exec", p.api, "-c", p.api_container, "--", "/bin/sh", "-c", "kill 1"), may_fail=True),
                    Restarted(p.api, p.api_container, dict(p.states[p.api].restarts)[p.api_container]),
                    Kube(("get", "pod", p.api, "-o", "wide"))]),
    Step("Graceful and forced delete; a new pod, a new IP",
         "A graceful delete sends SIGTERM and waits for the containers (SIGKILL after the grace period); "
         "`--grace-period=0 --force` removes the pod object at once. These are bare pods: nothing makes "
         "them again until `invoke up` does, each with a new IP.",
         lambda p: [Kube(("delete", "pod", p.api), timed="its containers stopped on SIGTERM"),
                    Kube(("delete", "pod", p.job, "--grace-period=0", "--force"), timed="not waiting for the kubelet"),
                    Up(),
                    Kube(("get", "pods", "-o", "wide"))]),
    Step("jsonpath: one field at a time",
         "The post's useful commands: an IP, the container names, pods sorted by node.",
         lambda p: [Kube(("get", "pod", p.broker, "-o", "jsonpath={.status.podIP}")),
                    Kube(("get", "pod", p.broker, "-o", "jsonpath={.spec.containers[*].name}")),
                    Kube(("get", "pods", "-o", "wide", "--sort-by=.spec.nodeName"))]),
)


class Tour:
    """Runs steps against one stack and prints them; `up` re-deploys the stack and returns the
    lines worth showing of what it printed."""

    def __init__(self, kubectl: Kubectl, values: Mapping[str, Any], up: Callable[[], list[str]],
                 stack: str, shell: Shell | None = None, out: TextIO | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.kubectl, self.pods, self.up, self.stack = kubectl, Pods.of(values), up, stack
        self.shell = shell or Processes()
        self.out = out or sys.stdout
        self.clock = clock

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def typed(self, argv: Sequence[str]) -> str:
        """A kubectl argv as a reader types it: `kubectl --kubeconfig ... --namespace ... ARGS`."""
        argv = list(argv)
        if "--kubeconfig" in argv:
            argv = ["kubectl", *argv[argv.index("--kubeconfig"):]]
        return shlex.join(argv)

    def snapshot(self) -> dict[str, PodState]:
        code, output = self.shell.run(self.kubectl.command(
            "get", "pods", "-l", "app.kubernetes.io/part-of=news-tracker", "-o", "json"), COMMAND_SECONDS)
        if code != 0:
            raise SetupError(f"kubectl get pods failed: {output.strip()}")
        return pod_states(json.loads(output)["items"])

    def preamble(self, states: Mapping[str, PodState]) -> None:
        expected = {self.pods.broker, self.pods.api, self.pods.job}
        if set(states) != expected or not all(state.ready for state in states.values()):
            raise SetupError(f"the tour needs the {self.stack} stack deployed with every pod Ready "
                             f"({', '.join(f'{n}: ready={s.ready}' for n, s in sorted(states.items())) or 'no pods'}): "
                             "run `invoke up` first")
        self.say(f"A tour of the {self.stack} stack's pods in {self.kubectl.namespace}, on the cluster of "
                 f"{self.kubectl.target.kubeconfig}.")
        local = kubectl_command()
        if local != ["kubectl"]:
            self.say(f"`kubectl` below is `{shlex.join(local)}` on this machine (any kubectl 1.33-1.35 will do).")

    def run(self, only: int | None = None, pause: bool = False) -> float:
        """Run every step (or step `only`, 1-based); returns the seconds taken."""
        if only is not None and not 1 <= only <= len(STEPS):
            raise SetupError(f"no step {only}: the tour has steps 1 to {len(STEPS)}")
        started = self.clock()
        states = self.snapshot()
        self.preamble(states)
        numbers = [only] if only is not None else list(range(1, len(STEPS) + 1))
        for position, number in enumerate(numbers):
            if pause and position and sys.stdin.isatty():
                input("\n(Enter: next step, Ctrl-C: stop) ")
            states = self.step(number, states)
        seconds = self.clock() - started
        what = f"step {only}" if only is not None else f"the tour ({len(STEPS)} steps)"
        self.say(f"\n{what} took {seconds:.0f} s; the pods: " +
                 ", ".join(f"{name} {'Ready' if s.ready else 'NOT Ready'}" for name, s in sorted(states.items())))
        return seconds

    def step(self, number: int, before: dict[str, PodState]) -> dict[str, PodState]:
        step = STEPS[number - 1]
        self.say(f"\n[{number}/{len(STEPS)}] {step.title}")
        self.say(textwrap.fill(step.shows, width=100, initial_indent="  ", subsequent_indent="  "))
        for action in step.actions(dataclasses.replace(self.pods, states=before)):
            self.act(action)
        after = self.snapshot()
        for line in changes(before, after) or ["nothing"]:
            self.say(f"  changed: {line}")
        return after

    def note(self, text: str) -> None:
        """The tour's own remark, set apart from output as a shell comment."""
        self.say(f"  # {text}")

    def show(self, lines: Sequence[str]) -> None:
        for line in lines:
            self.say(f"    {line}".rstrip())

    def act(self, action: Action) -> None:
        if isinstance(action, Kube):
            argv = self.kubectl.command(*action.args)
            self.say(f"  $ {self.typed(argv)}")
            started = self.clock()
            code, output = self.shell.run(argv, COMMAND_SECONDS)
            self.show(action.trim(output))
            if code != 0 and not action.may_fail:
                raise SetupError(f"step failed: {self.typed(argv)} exited {code}")
            if code != 0:
                self.note(f"exit {code}: the session ended with the container")
            if action.timed:
                self.note(f"took {self.clock() - started:.1f} s: {action.timed}")
        elif isinstance(action, Forward):
            self.forward(action)
        elif isinstance(action, Restarted):
            self.restarted(action)
        else:
            self.say(f"  $ {'' if self.stack == 'dev' else f'INVOKE_NEWS_TRACKER_STACK={self.stack} '}invoke up")
            self.show(self.up())

    def forward(self, action: Forward) -> None:
        argv = self.kubectl.command(*action.args)
        self.say(f"  $ {self.typed(argv)} &")
        process = self.shell.start(argv)
        try:
            assert process.stdout is not None
            first = process.stdout.readline()
            if "Forwarding from" not in first:
                raise SetupError(f"port-forward did not start: {first.strip()}")
            self.show([first.rstrip("\n")])
            self.say(f"  $ {shlex.join(action.then)}")
            code, output = self.shell.run(action.then, COMMAND_SECONDS)
            self.show(whole(output))
        finally:
            process.terminate()
            process.wait(timeout=10)
        self.note("port-forward stopped")

    def restarted(self, action: Restarted) -> None:
        """Bounded wait for the restart the step caused, reported with how long it took."""
        started = self.clock()
        while self.clock() - started < WAIT_SECONDS:
            state = self.snapshot().get(action.pod)
            if state and state.ready and dict(state.restarts).get(action.container, 0) > action.before:
                self.note(f"the kubelet started {action.container} again, and {action.pod} is Ready "
                          f"after {self.clock() - started:.0f} s")
                return
            time.sleep(1)
        raise SetupError(f"{action.pod}: {action.container} was not running and Ready again "
                         f"within {WAIT_SECONDS} s")
