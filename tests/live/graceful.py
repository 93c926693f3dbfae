"""Graceful deletes as the live tests observe them: pods deleted together through `invoke
delete-pod`, each timed to the end of its delete, with the exit code of every container."""
from __future__ import annotations

import subprocess
import time
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from tests.live.tasks_runner import ENV, INVOKE, kubectl_json, watching
from tools.paths import REPO


@dataclass(frozen=True)
class Stopped:
    """One pod's graceful delete: how long `invoke delete-pod` took, against the pod's grace
    period, and each container's exit code (None for a container never seen terminated)."""
    pod: str
    seconds: float
    grace_period: int
    exit_codes: dict[str, int | None]


def _exit_codes(containers: list[str], states: list[dict[str, Any]]) -> dict[str, int | None]:
    codes: dict[str, int | None] = dict.fromkeys(containers)
    for state in states:
        for status in state["status"].get("containerStatuses", []):
            if "terminated" in status["state"]:
                codes[status["name"]] = status["state"]["terminated"]["exitCode"]
    return codes


def delete_gracefully(*pods: str) -> list[Stopped]:
    """Delete `pods` at once with their own grace periods, watching each until it is gone."""
    specs = {pod: kubectl_json("get", "pod", pod)["spec"] for pod in pods}
    with ExitStack() as stack:
        watched = {pod: stack.enter_context(watching(pod)) for pod in pods}
        started = time.monotonic()
        deletes = {pod: subprocess.Popen([INVOKE, "delete-pod", pod], cwd=REPO, env=ENV, text=True,
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                   for pod in pods}
        seconds: dict[str, float] = {}
        while len(seconds) < len(pods):
            for pod, process in deletes.items():
                if pod not in seconds and process.poll() is not None:
                    seconds[pod] = time.monotonic() - started
                    output = process.stdout.read() if process.stdout else ""
                    assert process.returncode == 0, f"invoke delete-pod {pod}: {output}"
            time.sleep(0.05)
    return [Stopped(pod, seconds[pod], specs[pod]["terminationGracePeriodSeconds"],
                    _exit_codes([c["name"] for c in specs[pod]["containers"]], watched[pod]))
            for pod in pods]
