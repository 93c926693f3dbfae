"""Keeping the Pulumi CLI and its plugins from outliving the task that started them.

The Automation API starts the CLI as a plain child; the CLI starts each plugin (the Kubernetes
provider) in a process group of its own and stops it only when the CLI itself ends normally.
A CLI killed with SIGKILL, or one whose parent died, leaves its plugins running for ever (ppid 1,
~100 MB each). So every engine process carries OWNER_ENV=<pid>:<start ticks> of the task that
started it (the workspace environment reaches the CLI, which passes it on to its plugins), and:

- `stop_run` ends the current task's leftovers once its operation returned, whatever happened;
- `reap_orphans` ends those of tasks that are gone (called before each operation);
- a watchdog (`python -m tools.engine_processes <pid>`, in a session of its own so no signal
  meant for the task reaches it) waits for the task to die and then reaps, so even a task killed
  with SIGKILL leaves no engine process behind.
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence

from tools.paths import REPO
from tools.proc import all_pids, environ_value, is_running, start_ticks
from tools.progress import say

OWNER_ENV = "NEWS_TRACKER_ENGINE_OWNER"
CLI_GRACE_SECONDS = 10.0
"""After SIGINT the CLI cancels, writes its checkpoint and stops its plugins (5 s for them)."""
PLUGIN_GRACE_SECONDS = 3.0
WATCH_INTERVAL_SECONDS = 0.5


def owner_id(pid: int | None = None) -> str:
    """This process's (or `pid`'s) identity as an owner: pid and start time, robust to pid reuse."""
    pid = os.getpid() if pid is None else pid
    return f"{pid}:{start_ticks(pid)}"


def owner_alive(owner: str) -> bool:
    pid, _, ticks = owner.partition(":")
    return pid.isdigit() and is_running(int(pid)) and str(start_ticks(int(pid))) == ticks


def processes_of(owner: str) -> list[int]:
    """Engine processes (CLI, plugins) started on behalf of `owner`."""
    return [pid for pid in all_pids() if environ_value(pid, OWNER_ENV) == owner]


def stop_processes(pids: Sequence[int]) -> None:
    """SIGINT (the CLI cancels cleanly on it, plugins exit), then SIGKILL what is still there."""
    for sig, grace in ((signal.SIGINT, CLI_GRACE_SECONDS), (signal.SIGKILL, PLUGIN_GRACE_SECONDS)):
        alive = [pid for pid in pids if _alive(pid)]
        for pid in alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while any(_alive(pid) for pid in alive) and time.monotonic() < deadline:
            time.sleep(0.1)


def stop_run(owner: str) -> None:
    """End whatever engine processes of this task are still running (normally none)."""
    left = processes_of(owner)
    if left:
        say(f"stopping {len(left)} engine process(es) left by this task: {', '.join(map(str, left))}")
        stop_processes(left)


def reap_orphans() -> None:
    """End engine processes whose task is gone (a task killed outright, a crash)."""
    orphans: dict[str, list[int]] = {}
    for pid in all_pids():
        owner = environ_value(pid, OWNER_ENV)
        if owner is not None and not owner_alive(owner):
            orphans.setdefault(owner, []).append(pid)
    for owner, pids in orphans.items():
        say(f"stopping engine processes left by a task that is gone (pid {owner.split(':')[0]}): "
            f"{', '.join(map(str, pids))}")
        stop_processes(pids)


@contextlib.contextmanager
def owned_run() -> Iterator[dict[str, str]]:
    """For one stack operation: the environment entry that marks its engine processes; a
    watchdog for the case this process is killed; and the cleanup when the operation ends."""
    owner = owner_id()
    # no output: the task's stdout may be a pipe whose reader died with the task (EPIPE)
    watchdog = subprocess.Popen([sys.executable, "-m", "tools.engine_processes", owner],
                                cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        yield {OWNER_ENV: owner}
    finally:
        stop_run(owner)
        watchdog.terminate()
        watchdog.wait()


def _alive(pid: int) -> bool:
    """Alive and not a zombie; reaps it if it is our own exited child."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    return is_running(pid)


def _watch(owner: str) -> None:
    """Wait for the owner to end; then stop what it left. Exits quietly on SIGTERM (owner done)."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while owner_alive(owner):
        time.sleep(WATCH_INTERVAL_SECONDS)
    reap_orphans()


if __name__ == "__main__":
    _watch(sys.argv[1])
