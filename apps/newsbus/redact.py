"""Masks passwords in every log record the apps write, stomp.py's included.

stomp.py 9 masks `passcode: x` in the frames it logs at DEBUG, but CONNECT frames carry
`passcode:x` (no space), so LOG_LEVEL=DEBUG printed the broker password. We do not rely on a
library's masking: a filter on each of the root logger's handlers sees every record that reaches
them (child loggers propagate to the root), and rewrites its text before any handler formats it.
"""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping

MASK = "********"

#: The environment variables that hold secrets (config.py reads them); their values are masked
#: wherever they appear, also without a `password` key before them.
SECRET_VARIABLES = ("ACTIVEMQ_PASSWORD", "NEWSAPI_KEY")
#: A shorter value is masked only after a key (below): masking "x" everywhere garbles every line.
MIN_LITERAL_LENGTH = 6

# `passcode:x`, `passcode: x`, `password=x`, `'passcode': 'x'`, `"password": "x"`: the key, then
# the value up to a quote, blank, separator or a backslash that starts an escape in a repr (as in
# `passcode:x\n'` inside a logged list of bytes); `\\` (an escaped backslash) is part of the value.
_KEY_VALUE = re.compile(
    r"""(?P<key>pass(?:code|word|wd)['"]?\s*[:=]\s*['"]?)(?:\\\\|[^\s'",;&\\}\])])+""",
    re.IGNORECASE)


def _spellings(secret: str) -> set[str]:
    """The secret as text, and as a str, bytes or JSON repr would show it inside a log line."""
    return {secret, repr(secret)[1:-1], repr(secret.encode())[2:-1], json.dumps(secret)[1:-1]}


class RedactingFilter(logging.Filter):
    """Rewrites a record's message (and its formatted traceback) with passwords masked.

    Attached to handlers, not loggers: a logger's own filters do not see records that propagate
    from its children (stomp.py logs as `stomp.py`)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        spellings = {s for secret in secrets if len(secret) >= MIN_LITERAL_LENGTH
                     for s in _spellings(secret)}
        self._literals = sorted(spellings, key=len, reverse=True)  # a longer spelling first

    def redact(self, text: str) -> str:
        for literal in self._literals:
            text = text.replace(literal, MASK)
        return _KEY_VALUE.sub(lambda match: match["key"] + MASK, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format: the handler's error report would print msg and args raw
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def secrets_in(env: Mapping[str, str]) -> list[str]:
    """The values of SECRET_VARIABLES that are set, as config.py reads them (stripped)."""
    return [env[name].strip() for name in SECRET_VARIABLES if env.get(name, "").strip()]


def redact_handlers(logger: logging.Logger, secrets: Iterable[str] = ()) -> RedactingFilter:
    """Put one RedactingFilter on each of `logger`'s handlers; returns it."""
    redacting = RedactingFilter(secrets)
    for handler in logger.handlers:
        handler.addFilter(redacting)
    return redacting
