"""Where a no-op `up` spends its time: `python -m bench.profile_up [STACK]` (default: bench).

Runs tools.stack.up in this process, as `invoke up` does, and prints a timeline: imports, the
cluster probe, every Pulumi CLI command the Automation API runs (with its duration), the first
line of each engine phase (refresh, update), when the provider process appears, and when the
inline program starts and ends. The stack must already be deployed, so the `up` changes nothing.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

STARTED = time.monotonic()
_marks: list[tuple[float, str]] = []


def mark(what: str, at: float | None = None) -> None:
    _marks.append(((at if at is not None else time.monotonic()) - STARTED, what))


def _timed(owner: Any, name: str, label: Callable[..., str]) -> None:
    """Wrap owner.name so each call is marked with its start and duration."""
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        begun = time.monotonic()
        try:
            return original(*args, **kwargs)
        finally:
            mark(f"{label(*args, **kwargs)}: {time.monotonic() - begun:.2f} s", begun)

    setattr(owner, name, wrapper)


def _watch_provider(stop: threading.Event) -> None:
    """Mark when a provider process first shows up under this process."""
    from bench.measure import children, rss_bytes

    def descendants() -> list[int]:
        tree, found, pending = children(), [], [os.getpid()]
        while pending:
            pid = pending.pop()
            found.append(pid)
            pending += tree.get(pid, [])
        return found

    seen: set[str] = set()
    while not stop.is_set():
        for pid in descendants():
            name, _ = rss_bytes(pid)
            if name.startswith("pulumi") and name not in seen:
                seen.add(name)
                mark(f"process {name} running")
        time.sleep(0.02)


def profile(stack: str) -> list[tuple[float, str]]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from pulumi import automation as auto
    from pulumi.automation import _cmd

    from tools import stack as pulumi_stack
    mark("imports done (tools.stack, pulumi)")

    _timed(pulumi_stack, "require_reachable", lambda *a, **k: "cluster probe (kubectl get --raw /readyz)")
    _timed(_cmd.PulumiCommand, "__init__", lambda *a, **k: "pulumi version (the SDK's version check)")
    _timed(_cmd.PulumiCommand, "run",
           lambda self, args, *a, **k: "pulumi " + " ".join(x for x in args if not x.startswith("--")
                                                            or x in ("--refresh", "--create"))[:60])
    program = pulumi_stack._run_program

    def timed_program() -> None:
        mark("inline program starts")
        program()
        mark("inline program registered everything")

    pulumi_stack._run_program = timed_program
    phases = ("Refreshing", "Updating", "Resources:", "Duration:")

    original_up = auto.Stack.up

    def up(self: auto.Stack, *args: Any, on_output: Callable[[str], None] | None = None, **kwargs: Any) -> Any:
        def output(line: str) -> None:
            if any(line.strip().startswith(p) for p in phases):
                mark(f"engine says: {line.strip()[:50]}")
        return original_up(self, *args, on_output=output, **kwargs)

    auto.Stack.up = up  # type: ignore[method-assign]
    stop = threading.Event()
    watcher = threading.Thread(target=_watch_provider, args=(stop,), daemon=True)
    watcher.start()
    mark("up starts")
    pulumi_stack.up(stack)
    mark("up done")
    stop.set()
    return sorted(_marks)


def main(argv: list[str]) -> int:
    for at, what in profile(argv[0] if argv else "bench"):
        print(f"{at:6.2f} s  {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
