"""This project's tasks against plain kubectl on the same pods, on one cluster, sides in turn.

One run: from nothing, N rounds of (our deploy, our teardown, kubectl's deploy, kubectl's
teardown); then, with our stack deployed, N rounds each of no-op `up`, `preview` against
`kubectl diff`, each pod task against its kubectl command, and graceful deletes of every pod
(together, then `up` recreates them); finally our teardown. The bench stack has a namespace of its
own, so neither the live tests' ci stack nor a user's dev stack is touched.
"""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.measure import BenchError, Stats, timed, timed_together, timed_with_peak_rss
from bench.plain import PlainKubectl, manifests_in
from bench.report import Row
from tools.kube import Kubectl
from tools.paths import REPO
from tools.target import cluster_target, stack_config

INVOKE = str(REPO / ".venv" / "bin" / "invoke")
#: The live tests deploy and delete the ci stack's pods: a bench there would race them.
FORBIDDEN_STACKS = {"ci"}
#: "A small fraction of its grace period": a pod that ignores SIGTERM takes the whole of it.
GRACEFUL_FRACTION = 0.25


class Ours:
    """Our tasks as a user types them, on the bench's stack."""

    def __init__(self, stack: str) -> None:
        self.env = {**os.environ, "INVOKE_NEWS_TRACKER_STACK": stack}

    def command(self, *args: str) -> list[str]:
        return [INVOKE, *args]

    def timed(self, *args: str) -> float:
        return timed(self.command(*args), self.env)

    def outputs(self) -> dict[str, Any]:
        done = subprocess.run(self.command("outputs"), cwd=REPO, env=self.env, capture_output=True,
                              text=True)
        if done.returncode != 0:
            raise BenchError(f"invoke outputs failed:\n{done.stderr[-2000:]}")
        return json.loads(done.stdout)


def _stats(rounds: int, measure: Callable[[], float]) -> Stats:
    return Stats(tuple(measure() for _ in range(rounds)))


def _display(command: Sequence[str]) -> str:
    """A command line as a user would type it (kubectl without the seam's flags)."""
    words = list(command)
    if "--namespace" in words:
        words = ["kubectl", *words[words.index("--namespace") + 2:]]
    else:
        words = ["invoke", *words[1:]]
    words = ["manifests/" if w.endswith("/manifests") else w for w in words]  # the bench's copy
    return " ".join(w for w in words if not w.startswith("/"))


class SideBySide:
    """One bench run on one stack; `run()` returns the rows in the issue's order."""

    def __init__(self, stack: str, rounds: int, workdir: Path) -> None:
        if stack in FORBIDDEN_STACKS:
            raise BenchError(f"the {stack} stack belongs to the live tests; bench the `bench` stack "
                             "(or `dev`) instead")
        namespace = stack_config(stack).get("news-tracker:namespace")
        if not namespace:
            raise BenchError(f"Pulumi.{stack}.yaml sets no news-tracker:namespace")
        self.rounds = rounds
        self.ours = Ours(stack)
        self.kubectl = Kubectl(cluster_target(stack), namespace)
        self.plain = PlainKubectl(self.kubectl, manifests_in(namespace, workdir))

    def run(self) -> list[Row]:
        self._clear()
        rows = self._deploy_and_teardown()
        self.ours.timed("up")
        try:
            rows += [self._noop_up(), self._preview(), *self._pod_tasks(), *self._graceful_deletes()]
        finally:
            self.ours.timed("down")
        return rows

    def _clear(self) -> None:
        """Nothing of ours or of kubectl's in the namespace before the first round."""
        subprocess.run(self.ours.command("down"), cwd=REPO, env=self.ours.env, capture_output=True)
        timed(self.kubectl.command("delete", "namespace", self.kubectl.namespace, "--ignore-not-found",
                                   "--wait"))

    def _plain_deploy(self) -> float:
        return (timed(self.plain.create_namespace())
                + sum(timed(command, stdin=login) for command, login in self.plain.create_secrets())
                + timed(self.plain.apply()) + timed(self.plain.wait_ready()))

    def _deploy_and_teardown(self) -> list[Row]:
        up, down, plain_up, plain_down, rss = [], [], [], [], []
        for _ in range(self.rounds):
            seconds, peak = timed_with_peak_rss(self.ours.command("up"), self.ours.env)
            up.append(seconds)
            rss.append(peak / 2**20)
            down.append(self.ours.timed("down"))
            plain_up.append(self._plain_deploy())
            plain_down.append(timed(self.plain.delete()))
        plain_up_command = ("kubectl create namespace + create secret (x3) + apply -f manifests/ -R + "
                            "wait --for=condition=Ready pod --all")
        deploy = Row("deploy to all Ready", "invoke up", Stats(tuple(up)), plain_up_command,
                     Stats(tuple(plain_up)), target="ratio <= 1.10")
        teardown = Row("teardown", "invoke down", Stats(tuple(down)), _display(self.plain.delete()),
                       Stats(tuple(plain_down)), target="<= 5 s and ratio <= 1.2")
        memory = Row("peak RSS of engine + provider during up", "invoke up", Stats(tuple(rss)),
                     unit="MiB")
        return [_judged(deploy, deploy.ratio is not None and deploy.ratio <= 1.10),
                _judged(teardown, teardown.ours.median <= 5 and (teardown.ratio or 0) <= 1.2),
                memory]

    def _noop_up(self) -> Row:
        stats = _stats(self.rounds, lambda: self.ours.timed("up"))
        return Row("no-op up", "invoke up", stats, target="<= 3.5 s", met=stats.median <= 3.5)

    def _preview(self) -> Row:
        ours, plain = [], []
        for _ in range(self.rounds):
            ours.append(self.ours.timed("preview"))
            # kubectl diff exits 1 when the live objects differ from the files (Pulumi's fields).
            plain.append(timed(self.plain.diff(), ok_codes=(0, 1)))
        return Row("preview", "invoke preview", Stats(tuple(ours)), _display(self.plain.diff()),
                   Stats(tuple(plain)))

    def _pod_tasks(self) -> list[Row]:
        pods = self.ours.outputs()["pods"]
        api, broker = pods["api"]["name"], pods["broker"]["name"]
        pairs = {
            "pods": (("pods",), ("get", "pods", "-o", "wide", "-l", "app.kubernetes.io/part-of=news-tracker")),
            "ip": (("ip", api), ("get", "pod", api, "-o", "jsonpath={.status.podIP}")),
            "logs": (("logs", broker), ("logs", broker, "-c", pods["broker"]["containers"][0])),
            "describe": (("describe", api), ("describe", "pod", api)),
        }
        rows = []
        for name, (task, kubectl_args) in pairs.items():
            ours, plain = [], []
            for _ in range(self.rounds):
                ours.append(self.ours.timed(*task))
                plain.append(timed(self.kubectl.command(*kubectl_args)))
            row = Row(f"pod task `{name}`", f"invoke {' '.join(task)}", Stats(tuple(ours)),
                      _display(self.kubectl.command(*kubectl_args)), Stats(tuple(plain)),
                      target="ratio <= 2")
            rows.append(_judged(row, (row.ratio or 0) <= 2))
        return rows

    def _graceful_deletes(self) -> list[Row]:
        """Every pod deleted gracefully at once, each timed against its own grace period."""
        grace = {pod["metadata"]["name"]: pod["spec"]["terminationGracePeriodSeconds"]
                 for pod in self.kubectl.json("get", "pods")["items"]}
        names = sorted(grace)
        samples: dict[str, list[float]] = {name: [] for name in names}
        for _ in range(self.rounds):
            seconds = timed_together([self.ours.command("delete-pod", name) for name in names],
                                     self.ours.env)
            for name, value in zip(names, seconds):
                samples[name].append(value)
            self.ours.timed("up")
        rows = []
        for name in names:
            row = Row(f"graceful delete `{name}`", f"invoke delete-pod {name}", Stats(tuple(samples[name])),
                      "terminationGracePeriodSeconds", Stats((float(grace[name]),) * self.rounds),
                      target=f"ratio <= {GRACEFUL_FRACTION}")
            rows.append(_judged(row, (row.ratio or 1) <= GRACEFUL_FRACTION))
        return rows


def _judged(row: Row, met: bool) -> Row:
    return dataclasses.replace(row, met=met)


def side_by_side(stack: str, rounds: int) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="news-tracker-bench-") as workdir:
        return SideBySide(stack, rounds, Path(workdir)).run()
