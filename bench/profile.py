"""Where `up` or `down` spends its time: `python -m bench.profile [up|down] [STACK]` (default:
up on the bench stack).

Runs tools.stack.up or .destroy in this process, as `invoke up` / `invoke down` do, and prints a
timeline: imports, the cluster probe, every Pulumi CLI command the Automation API runs (with its
duration), each engine line about a phase or a resource step (e.g. `deleting` / `deleted` of each
object), when the provider process appears, and when the inline program starts and ends. Profile
`up` on a deployed stack to see a no-op up; `down` on a deployed one to see a teardown.
"""
from __future__ import annotations

import os
import re
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


#: Engine lines worth a mark: phases, and each resource step's start and end.
ENGINE_LINES = re.compile(r"^\s*(Refreshing|Updating|Destroying|Resources:|Duration:)|"
                          r"\b(creating|created|updating|updated|deleting|deleted|replacing|replaced)\b")


def profile(operation: str, stack: str) -> list[tuple[float, str]]:
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
    engine_method = {"up": "up", "down": "destroy"}[operation]
    original = getattr(auto.Stack, engine_method)

    def marking_output(self: auto.Stack, *args: Any, on_output: Callable[[str], None] | None = None,
                       **kwargs: Any) -> Any:
        def output(line: str) -> None:
            if ENGINE_LINES.search(line):
                mark(f"engine says: {' '.join(line.split())[:70]}")
        return original(self, *args, on_output=output, **kwargs)

    setattr(auto.Stack, engine_method, marking_output)
    stop = threading.Event()
    watcher = threading.Thread(target=_watch_provider, args=(stop,), daemon=True)
    watcher.start()
    mark(f"{operation} starts")
    getattr(pulumi_stack, engine_method)(stack)
    mark(f"{operation} done")
    stop.set()
    return sorted(_marks)


def main(argv: list[str]) -> int:
    operation = argv[0] if argv and argv[0] in ("up", "down") else "up"
    stack = next((a for a in argv if a not in ("up", "down")), "bench")
    for at, what in profile(operation, stack):
        print(f"{at:6.2f} s  {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
