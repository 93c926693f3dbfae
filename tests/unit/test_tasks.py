"""The task surface a user sees: every task listed with one line of help."""
from __future__ import annotations

import json
import subprocess
import sys

from tools.paths import REPO

ROOT_TASKS = {"up", "down", "preview", "refresh", "outputs", "pods", "describe", "ip", "logs",
              "exec", "port-forward", "delete-pod", "restart-container", "ping", "manifests",
              "toolchain", "env", "doctor", "cluster.up", "cluster.down", "cluster.status", "images.build",
              "images.load", "ci.preview", "ci.deploy", "tour", "timeline"}


def test_invoke_list_shows_every_task_with_help() -> None:
    listing = subprocess.run([sys.executable, "-m", "invoke", "--list", "--list-format", "json"],
                             cwd=REPO, capture_output=True, text=True, check=True).stdout
    root = json.loads(listing)
    tasks = {t["name"]: t["help"] for t in root["tasks"]}
    tasks |= {f"{sub['name']}.{t['name']}": t["help"] for sub in root["collections"] for t in sub["tasks"]}
    assert ROOT_TASKS <= tasks.keys()
    assert all(tasks[name] for name in ROOT_TASKS)


def test_loading_the_tasks_freezes_what_was_imported() -> None:
    """The collector skips invoke's and the tasks' objects at exit (30 ms of a pod task)."""
    frozen = subprocess.run([sys.executable, "-c", "import gc, tasks; print(gc.get_freeze_count())"],
                            cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert int(frozen) > 0
