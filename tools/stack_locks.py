"""Stack locks of the file backend, and how a stale one is told from a live one.

The Pulumi CLI takes a lock file per update (`.pulumi/locks/organization/<project>/<stack>/
<uuid>.json`, with a `.json.attrs` beside it) holding its pid, user, host and start time, and
removes it when the update ends. A CLI that was killed (SIGKILL, or SIGPIPE once the process
reading its output died) leaves the file behind, and every later update then fails with "the
stack is currently locked". The CLI itself never decides that a lock is stale; this module does,
conservatively: a lock is stale only when it was taken on this machine, by this user, and its
pid is gone, is not a Pulumi CLI, or was started after the lock (the pid was reused). A lock of
a live process, of another user or of another host is never touched.
"""
from __future__ import annotations

import json
import os
import pwd
import socket
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from tools.errors import SetupError
from tools.proc import process_exe, process_start_time

PID_REUSE_SLACK_SECONDS = 2.0
"""The lock's timestamp is taken just after the CLI started; a process started later than that
(beyond clock granularity) cannot be the one that took it."""


@dataclass(frozen=True)
class Lock:
    """One lock file and what it says about its holder."""
    path: Path
    pid: int
    username: str
    hostname: str
    taken: datetime

    def describe(self) -> str:
        since = self.taken.astimezone(timezone.utc)
        return f"pid {self.pid} on {self.hostname} (user {self.username}, since {since:%Y-%m-%d %H:%M:%S} UTC)"


def lock_dir(backend: Path, project: str, stack: str) -> Path:
    return backend / ".pulumi" / "locks" / "organization" / project / stack


def locks(backend: Path, project: str, stack: str) -> list[Lock]:
    """The stack's lock files; an unreadable one is reported, never guessed about."""
    found = []
    for path in sorted(lock_dir(backend, project, stack).glob("*.json")):
        try:
            content = json.loads(path.read_text())
            found.append(Lock(path, int(content["pid"]), str(content["username"]),
                              str(content["hostname"]), _parse_time(str(content["timestamp"]))))
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise SetupError(f"cannot read the stack lock {path} ({error}); if no `invoke` task is "
                             "running on this stack, delete that file and its .attrs twin") from None
    return found


def is_stale(lock: Lock) -> bool:
    """True only for a lock taken here, by us, whose process is no longer the CLI that took it."""
    if lock.hostname != socket.gethostname() or lock.username != pwd.getpwuid(os.getuid()).pw_name:
        return False
    exe = process_exe(lock.pid)
    if exe is None or Path(exe).name != "pulumi":
        return True
    started = process_start_time(lock.pid)
    return started is None or started > lock.taken.timestamp() + PID_REUSE_SLACK_SECONDS


def clear_stale(backend: Path, project: str, stack: str) -> list[Lock]:
    """Delete the stale locks of the stack (and their .attrs); return them. Live ones stay."""
    stale = [lock for lock in locks(backend, project, stack) if is_stale(lock)]
    for lock in stale:
        lock.path.unlink(missing_ok=True)
        lock.path.with_name(lock.path.name + ".attrs").unlink(missing_ok=True)
    return stale


def _parse_time(text: str) -> datetime:
    """RFC 3339 with up to nanoseconds (Go's time format) -> an aware datetime."""
    head, dot, rest = text.partition(".")
    if dot:
        digits = "".join(ch for ch in rest if ch.isdigit())
        zone = rest[len(digits):]
        text = f"{head}.{digits[:6]}{zone}"
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
