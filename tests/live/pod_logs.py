"""A container's log lines since a moment, each with the time the container runtime received it
(`kubectl logs --timestamps`), so tests can say when something was logged, not just that it was."""
from __future__ import annotations

import re
from datetime import datetime

from tests.live.tasks_runner import kubectl


def logged_since(pod: str, container: str, since: datetime) -> list[tuple[datetime, str]]:
    """(when, text) of every line `container` of `pod` wrote since `since` (an aware datetime; the
    API server reads it to the whole second)."""
    log = kubectl().output("logs", pod, "--container", container, "--timestamps",
                           f"--since-time={since.isoformat()}")
    lines = []
    for line in log.splitlines():
        stamp, _, text = line.partition(" ")
        # RFC 3339 with nanoseconds and Z; datetime takes microseconds at most.
        stamp = re.sub(r"(\.\d{6})\d*", r"\1", stamp).replace("Z", "+00:00")
        lines.append((datetime.fromisoformat(stamp), text))
    return lines
