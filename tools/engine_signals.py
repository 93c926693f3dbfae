"""Ctrl-C (SIGINT) and SIGTERM during a stack operation: let the engine stop cleanly.

Left alone, Python dies on the signal (or on KeyboardInterrupt closes the CLI's pipes), and the
CLI, still cancelling, is killed by SIGPIPE before it writes its checkpoint and removes its lock.
Here the task stays alive instead: the CLI gets exactly one SIGINT (the first signal means
"cancel": finish the operations in flight, write the checkpoint, release the lock, stop the
plugins), and the task waits for it to exit, then says how to continue. A terminal's Ctrl-C
reaches the CLI itself (same process group), and the CLI says so on its output; the task
forwards the signal only when the CLI did not get it (SIGTERM sent to the task's pid alone, as a
CI timeout does). A second signal is passed on as such: the CLI then terminates at once.
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import FrameType

from tools.engine_processes import processes_of
from tools.proc import parent_pid
from tools.progress import say

CANCELLING = "received; cancelling"
"""What the CLI prints when a first SIGINT or SIGTERM reached it."""
FORWARD_AFTER_SECONDS = 1.0
SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass
class Interruption:
    """The signals received while the operation ran, and an output hook that notices the CLI's
    own "cancelling" line."""
    owner: str
    received: list[str] = field(default_factory=list)
    engine_cancelling: threading.Event = field(default_factory=threading.Event)
    stopped_because: str = ""

    def stop(self, why: str) -> None:
        """Cancel the engine as a first Ctrl-C would, for a reason the task will report."""
        if not self.stopped_because:
            self.stopped_because = why
            say(f"stopping the engine cleanly: it waits for what cannot happen by itself:\n{why}")
            self.forward(signal.SIGINT)

    def watch_output(self, printer: Callable[[str], None]) -> Callable[[str], None]:
        def on_output(line: str) -> None:
            if CANCELLING in line:
                self.engine_cancelling.set()
            printer(line)
        return on_output

    def happened(self) -> str:
        """The signals this task received, or that the engine was signalled directly; "" if neither."""
        if self.received:
            return ", ".join(self.received)
        return "the engine was signalled" if self.engine_cancelling.is_set() else ""

    def forward(self, sig: signal.Signals) -> None:
        """Send `sig` to the CLI (the engine processes that are this task's children)."""
        for pid in processes_of(self.owner):
            if parent_pid(pid) == os.getpid():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)

    def _forward_unless_cancelling(self) -> None:
        if not self.engine_cancelling.wait(FORWARD_AFTER_SECONDS):
            self.forward(signal.SIGINT)


@contextlib.contextmanager
def stopping_cleanly(owner: str) -> Iterator[Interruption]:
    """While the block runs, SIGINT/SIGTERM cancel the engine instead of killing this task."""
    interruption = Interruption(owner)

    def on_signal(number: int, _frame: FrameType | None) -> None:
        name = signal.Signals(number).name
        interruption.received.append(name)
        if len(interruption.received) == 1:
            say(f"{name} received: stopping the engine cleanly (it finishes what is in flight, "
                "writes its checkpoint and releases the stack lock); send it again to terminate at once")
            threading.Thread(target=interruption._forward_unless_cancelling, daemon=True).start()
        else:
            say(f"{name} received again: terminating the engine")
            interruption.forward(signal.SIGINT)

    previous = {sig: signal.signal(sig, on_signal) for sig in SIGNALS}
    try:
        yield interruption
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
