"""Starting and stopping the cluster's host processes, each with a PID file and a log file.

Every process is started with the environment marker NEWS_TRACKER_CLUSTER=<state dir>, which
its children (containerd's shims) inherit. A PID file is trusted only if the process it names
still carries that marker, so a stale PID file (after a reboot or a killed run) never makes us
signal an unrelated process; and processes that have no PID file of their own (shims) are
found by the same marker.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tools.cluster.local.layout import Layout
from tools.errors import SetupError
from tools.proc import process_start_time

MARKER = "NEWS_TRACKER_CLUSTER"
LOG_TAIL_LINES = 25
STOP_GRACE_SECONDS = 3.0
"""Enough for a clean exit; the API server may take longer draining watches, and has no state to lose."""
READY_POLL_SECONDS = 0.25
"""Between two rounds of readiness probes (TLS handshakes): often enough, and light on the two cores
the starting components need."""


@dataclass(frozen=True)
class Process:
    """A component to run: its name (PID and log file stem), command line and readiness probe."""

    name: str
    argv: Sequence[str]
    ready: Callable[[], bool]
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Started:
    """A process this run started, with the handle that tells when it exits."""

    process: Process
    child: subprocess.Popen[bytes]


def start(state: Layout, process: Process) -> Started:
    """Start `process` in its own session, logging to logs/<name>.log, PID in pids/<name>.pid.

    The log is appended to, so what a crashed run wrote is still there after a restart."""
    state.logs.mkdir(parents=True, exist_ok=True)
    state.pids.mkdir(parents=True, exist_ok=True)
    with log_file(state, process.name).open("ab") as log:
        child = subprocess.Popen(
            list(process.argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **process.env, MARKER: str(state.root)},
            start_new_session=True,
        )
    pid_file(state, process.name).write_text(f"{child.pid}\n")
    return Started(process, child)


def wait_ready(state: Layout, started: Iterable[Started], timeout: float) -> None:
    """Wait until every process answers its probe; raise naming the log of one that died or hung."""
    waiting = list(started)
    deadline = time.monotonic() + timeout
    while waiting:
        for each in list(waiting):
            if each.child.poll() is not None:
                raise _start_failure(
                    state, each.process.name, f"exited during start-up (exit {each.child.returncode})"
                )
            if each.process.ready():
                waiting.remove(each)
        if waiting and time.monotonic() > deadline:
            raise _start_failure(state, waiting[0].process.name, f"not ready after {timeout:.0f}s")
        if waiting:
            time.sleep(READY_POLL_SECONDS)


def running(state: Layout, name: str) -> bool:
    """True when the PID file of `name` names a live process of this cluster."""
    pid = _read_pid(pid_file(state, name))
    return pid is not None and _is_ours(state, pid)


def started_at(state: Layout, name: str) -> float:
    """When the running process `name` started (seconds since the epoch); 0 if it is not running."""
    pid = _read_pid(pid_file(state, name))
    started = process_start_time(pid) if pid is not None and _is_ours(state, pid) else None
    return started or 0.0


def stop(state: Layout, names: Sequence[str]) -> None:
    """SIGTERM the named processes (in that order), then SIGKILL those still there after a grace period."""
    pids = []
    for name in names:
        path = pid_file(state, name)
        pid = _read_pid(path)
        if pid is not None and _is_ours(state, pid):
            _signal(pid, signal.SIGTERM)
            pids.append(pid)
        path.unlink(missing_ok=True)
    if not _wait_gone(pids, STOP_GRACE_SECONDS):
        for pid in pids:
            _signal(pid, signal.SIGKILL)
        _wait_gone(pids, STOP_GRACE_SECONDS)


def kill_remaining(state: Layout) -> list[int]:
    """SIGKILL every process still carrying this cluster's marker (shims, strays); return PIDs."""
    stray = [pid for pid in _all_pids() if _is_ours(state, pid)]
    for pid in stray:
        _signal(pid, signal.SIGKILL)
    _wait_gone(stray, STOP_GRACE_SECONDS)
    return stray


def other_clusters(state: Layout) -> set[str]:
    """State dirs of local clusters from other clones that have processes running on this machine."""
    roots = {_cluster_of(pid) for pid in _all_pids()}
    return {root for root in roots if root is not None and root != str(state.root)}


def log_file(state: Layout, name: str) -> Path:
    return state.logs / f"{name}.log"


def pid_file(state: Layout, name: str) -> Path:
    return state.pids / f"{name}.pid"


def _start_failure(state: Layout, name: str, what: str) -> SetupError:
    log = log_file(state, name)
    lines = log.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:] if log.is_file() else []
    tail = "\n".join(f"  | {line}" for line in lines) or "  (empty)"
    return SetupError(f"{name} {what}; its log is {log}. Last lines:\n{tail}")


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _is_ours(state: Layout, pid: int) -> bool:
    return _cluster_of(pid) == str(state.root)


def _cluster_of(pid: int) -> str | None:
    """The state dir in the process's marker, or None if it has none (or is gone)."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return None
    prefix = f"{MARKER}=".encode()
    return next((entry[len(prefix) :].decode() for entry in environ if entry.startswith(prefix)), None)


def _all_pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit() and int(entry) != os.getpid()]


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _wait_gone(pids: Sequence[int], timeout: float) -> bool:
    """Wait for the processes to exit (reaping our own children); True if they all did."""
    deadline = time.monotonic() + timeout
    while True:
        alive = [pid for pid in pids if _alive(pid)]
        if not alive:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        if reaped == pid:
            return False
    except ChildProcessError:
        pass  # not our child: look at /proc
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False
