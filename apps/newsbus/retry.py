"""Retrying an attempt with bounded exponential backoff, interruptible by shutdown.

Pods start in any order and the broker restarts; a client that waits instead of crashing keeps
its pod out of CrashLoopBackOff and its logs readable.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from apps.newsbus.broker import BrokerUnavailable
from apps.newsbus.lifecycle import Shutdown

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    """Delays between attempts. The cap is short because a client is Ready only once it reached
    the broker: with 15 s, a broker ready just after an attempt kept its clients out of Ready for
    up to 15 s more, and `up` waited for them (the bench saw deploys of 16 to 35 s)."""
    initial: float = 0.5
    factor: float = 2.0
    maximum: float = 4.0

    def delays(self) -> Iterator[float]:
        """initial, initial*factor, ... capped at maximum, for ever."""
        delay = self.initial
        while True:
            yield delay
            delay = min(delay * self.factor, self.maximum)


def retry(attempt: Callable[[], None], what: str, shutdown: Shutdown, backoff: Backoff,
          give_up_after: float | None = None) -> bool:
    """Call `attempt` until it stops raising BrokerUnavailable.

    True once it succeeded; False when shutdown was requested or `give_up_after` seconds passed.
    """
    deadline = None if give_up_after is None else time.monotonic() + give_up_after
    delays = backoff.delays()
    number = 0
    while not shutdown.requested:
        number += 1
        try:
            attempt()
            return True
        except BrokerUnavailable as error:
            if shutdown.requested:  # stopping: there is no retry to announce
                return False
            delay = next(delays)
            if deadline is not None and time.monotonic() + delay > deadline:
                log.error("%s: giving up after %d attempts: %s", what, number, error)
                return False
            log.warning("%s: %s; retrying in %.1fs (attempt %d)", what, error, delay, number)
            shutdown.wait(delay)
    return False
