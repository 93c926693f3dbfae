"""Process lifecycle: one log format, and a shutdown request that SIGTERM or SIGINT sets.

Kubernetes sends SIGTERM and waits the pod's grace period before SIGKILL; both apps wait on the
Shutdown instead of sleeping, so they stop within a second or two and exit 0.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from apps.newsbus.config import ConfigError
from apps.newsbus.redact import redact_handlers, secrets_in

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def run_process(app: Callable[[Shutdown], int], name: str) -> int:
    """The process around an app: logging at LOG_LEVEL with passwords masked, SIGTERM/SIGINT
    requesting shutdown, and exit code 2 with a one-line message for a bad setting; otherwise the
    app's exit code."""
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO").upper(), format=LOG_FORMAT)
    redact_handlers(logging.getLogger(), secrets_in(os.environ))
    shutdown = Shutdown()
    shutdown.on_signals(signal.SIGTERM, signal.SIGINT)
    try:
        return app(shutdown)
    except ConfigError as error:
        logging.getLogger(name).error("configuration: %s", error)
        return 2


class Shutdown:
    """A stop request that threads can wait on."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._woken: set[threading.Event] = set()
        self.reason = ""

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    def request(self, reason: str) -> None:
        with self._lock:
            if not self._event.is_set():
                self.reason = reason
            self._event.set()
            for event in self._woken:
                event.set()

    @contextmanager
    def waking(self, event: threading.Event) -> Iterator[None]:
        """While the block runs, a shutdown request sets `event` too: a wait on something else
        (the broker's answer) ends at once instead of running out its timeout."""
        with self._lock:
            self._woken.add(event)
            if self._event.is_set():
                event.set()
        try:
            yield
        finally:
            with self._lock:
                self._woken.discard(event)

    def wait(self, timeout: float | None = None) -> bool:
        """Sleep up to `timeout` seconds; True as soon as shutdown is requested."""
        return self._event.wait(timeout)

    def on_signals(self, *signals: signal.Signals) -> None:
        """Request shutdown when one of `signals` arrives (call from the main thread)."""
        for number in signals:
            signal.signal(number, self._handle)

    def _handle(self, number: int, _frame: FrameType | None) -> None:
        # The handler runs on the main thread between two bytecodes, possibly while that thread
        # holds the Event's internal lock inside wait(); setting it from another thread cannot
        # deadlock.
        threading.Thread(target=self.request, args=(signal.Signals(number).name,),
                         name="shutdown").start()
