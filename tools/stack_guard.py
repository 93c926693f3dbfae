"""What surrounds every stack operation so that an interrupted one never needs a manual step.

Before the operation: engine processes left by tasks that are gone are stopped, a stale lock of
the stack is cleared (with a message), a lock of a live process is reported as such, and
operations an interrupted update left pending are resolved. During it: Ctrl-C or SIGTERM stops
the engine cleanly (engine_signals). After it, however it ended: no engine process of this task
is left (engine_processes).
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from pulumi import automation as auto

from settings import PROJECT
from tools import file_backend, pending_operations, stack_locks
from tools.engine_processes import OWNER_ENV, owned_run, reap_orphans
from tools.engine_signals import Interruption, stopping_cleanly
from tools.errors import SetupError
from tools.progress import say


@contextlib.contextmanager
def guarded(selected: auto.Stack) -> Iterator[Interruption]:
    """Recover what an interrupted operation left, then run the block with clean interruption."""
    with owned_run() as marker:
        selected.workspace.env_vars = {**selected.workspace.env_vars, **marker}
        with stopping_cleanly(marker[OWNER_ENV]) as interruption:
            reap_orphans()
            clear_stale_locks(selected)
            remove_torn_attributes(selected)
            resolve_pending_operations(selected)
            yield interruption


def _backend(selected: auto.Stack) -> Path:
    return Path(selected.workspace.env_vars["PULUMI_BACKEND_URL"].removeprefix("file://"))


def clear_stale_locks(selected: auto.Stack) -> None:
    """Delete the stack's stale locks, saying so; stop with a clear message on a live one."""
    backend = _backend(selected)
    for lock in stack_locks.clear_stale(backend, PROJECT, selected.name):
        say(f"cleared a stale lock of stack {selected.name!r}: it was taken by {lock.describe()}, "
            "which is no longer running (an interrupted update)")
    live = stack_locks.locks(backend, PROJECT, selected.name)
    if live:
        raise SetupError(f"stack {selected.name!r} is being updated by " + "; ".join(
            lock.describe() for lock in live) + ": wait for it to finish, or stop it (Ctrl-C where it "
            "runs); its lock is never removed while that process lives")


def remove_torn_attributes(selected: auto.Stack) -> None:
    """Delete attribute files an engine killed mid-save left unreadable (no live lock: checked first)."""
    for attributes in file_backend.torn_attributes(_backend(selected)):
        attributes.unlink()
        say(f"removed {attributes.name}: an engine killed while saving left it unreadable; the checkpoint "
            "it describes is the last one saved whole")


def resolve_pending_operations(selected: auto.Stack) -> None:
    """Clear what an interrupted update left pending, re-reading the rest from the cluster."""
    operations = pending_operations.pending(selected.export_stack().deployment)
    if not operations:
        return
    pending_operations.check_safe_to_clear(operations)
    say(f"an interrupted update left {len(operations)} operation(s) pending "
        f"({pending_operations.describe(operations)}): refreshing the stack from the cluster")
    selected.refresh(clear_pending_creates=True, color="never")
