"""Run the invoke tasks exactly as a user types them, against the ci stack."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tools.kube import Kubectl
from tools.paths import REPO
from tools.target import cluster_target

INVOKE = str(REPO / ".venv" / "bin" / "invoke")


def env_of(stack: str) -> dict[str, str]:
    """The tasks' environment for `stack`."""
    return {**os.environ, "INVOKE_NEWS_TRACKER_STACK": stack, "PYTHONUNBUFFERED": "1"}


#: The ci stack's, which most live tests act on.
ENV = env_of("ci")


def invoke(*args: str, timeout: float = 900, check: bool = True, stack: str = "ci") -> subprocess.CompletedProcess[str]:
    done = subprocess.run([INVOKE, *args], cwd=REPO, env=env_of(stack), capture_output=True, text=True,
                          timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"invoke {' '.join(args)} exited {done.returncode}\n"
                             f"--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}")
    return done


def outputs(stack: str = "ci") -> dict[str, Any]:
    return json.loads(invoke("outputs", stack=stack).stdout)


def kubectl(stack: str = "ci") -> Kubectl:
    """Read-only cluster state for assertions, through the same kubectl seam as the tasks."""
    return Kubectl(cluster_target(stack), outputs(stack)["namespace"])


def kubectl_json(*args: str, stack: str = "ci") -> Any:
    return kubectl(stack).json(*args)


@contextmanager
def watching(pod: str) -> Iterator[list[dict[str, Any]]]:
    """Every state the pod passes through while the block runs (kubectl get --watch).

    The output is drained while the block runs: a pod's states fill a pipe's 64 KiB quickly (a
    two-container pod in four states), and a kubectl blocked on a full pipe reports no more."""
    process = kubectl().popen(["get", "pod", pod, "--watch", "-o", "json"], stdout=subprocess.PIPE)
    assert process.stdout is not None
    chunks: list[str] = []
    reader = threading.Thread(target=lambda: chunks.extend(process.stdout), daemon=True)  # type: ignore[arg-type]
    reader.start()
    states: list[dict[str, Any]] = []
    try:
        yield states
    finally:
        process.terminate()
        process.wait(timeout=10)
        reader.join(timeout=10)
        text = "".join(chunks)
        decoder, position = json.JSONDecoder(), 0
        while (start := text.find("{", position)) != -1:
            try:
                state, position = decoder.raw_decode(text, start)
            except json.JSONDecodeError:
                break  # the state kubectl was writing when it was stopped
            states.append(state)


def wait_for(predicate: Any, what: str, timeout: float = 180, interval: float = 2) -> Any:
    """Poll until `predicate()` is truthy; fail with `what` when it never is."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


@contextmanager
def port_forward(*args: str) -> Iterator[int]:
    """`invoke port-forward ...` in the background; yields the local port once it forwards."""
    process = subprocess.Popen([INVOKE, "port-forward", *args], cwd=REPO, env=ENV, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        assert process.stdout is not None
        seen = []
        for line in process.stdout:
            seen.append(line)
            match = re.search(r"Forwarding from (\S+):(\d+)", line)
            if match and match.group(1) not in ("127.0.0.1", "[::1]"):
                raise AssertionError(f"port-forward listens on {match.group(1)}, not on loopback only: {line}")
            if match and match.group(1) == "127.0.0.1":
                yield int(match.group(2))
                return
        raise AssertionError(f"port-forward ended before forwarding:\n{''.join(seen)}")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
