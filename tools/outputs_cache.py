"""Stack outputs kept in the state directory, so pod tasks answer without starting the engine.

Reading outputs through the Pulumi engine costs a second or more per task; a pod task needs only
the namespace and the pod and container names. `up` writes them here and `down` removes them.
Each copy records the size and mtime of the stack's checkpoint file in the backend when it was
written, so any other engine operation on the stack (a refresh, `pulumi` from a terminal, an
interrupted `up`) makes it stale, and the next task reads the outputs through the engine again.

Pod IPs are left out: a pod recreated by the kubelet or by `delete-pod` gets a new one, so tasks
always ask the cluster for an IP.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tools import file_backend
from tools.paths import PULUMI_STATE

BACKEND = PULUMI_STATE / "backend"
CACHE_DIR = PULUMI_STATE / "outputs"


def _stamp(stack: str) -> list[int] | None:
    path = file_backend.checkpoint(stack, BACKEND)
    if path is None:
        return None
    status = path.stat()
    return [status.st_size, status.st_mtime_ns]


def _path(stack: str) -> Path:
    return CACHE_DIR / f"{stack}.json"


def without_ips(values: dict[str, Any]) -> dict[str, Any]:
    """The outputs with every pod's `ip` removed (the cluster is asked for IPs)."""
    pods = {role: {key: value for key, value in pod.items() if key != "ip"}
            for role, pod in values.get("pods", {}).items()}
    return {**values, "pods": pods} if "pods" in values else dict(values)


def save(stack: str, values: dict[str, Any]) -> None:
    """Keep `values` (plain, no secrets) for `stack`, stamped with its checkpoint as it is now."""
    stamp = _stamp(stack)
    if stamp is None:
        return
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    partial = _path(stack).with_suffix(".partial")
    partial.write_text(json.dumps({"checkpoint": stamp, "outputs": without_ips(values)}))
    os.replace(partial, _path(stack))


def load(stack: str) -> dict[str, Any] | None:
    """The kept outputs of `stack`, or None when there are none or the stack changed since."""
    try:
        kept = json.loads(_path(stack).read_text())
    except (OSError, ValueError):
        return None
    return kept["outputs"] if kept.get("checkpoint") == _stamp(stack) else None


def forget(stack: str) -> None:
    _path(stack).unlink(missing_ok=True)
