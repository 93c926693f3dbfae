"""Decoding a queue message's JSON within limits, so what the api stores it can always serve.

Python's json module accepts NaN and Infinity (and turns 1e999 into inf), which json.dumps then
writes back as invalid JSON; a body nested a thousand deep raises RecursionError; and the broker
accepts frames of many megabytes. Each is refused here with a reason the caller logs.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Limits:
    #: An article (NewsAPI's shape) is a few KiB; this leaves room for long content.
    max_bytes: int = 256 * 1024
    #: Arrays and objects inside one another: an article has 2 (its `source`).
    max_depth: int = 16


class Rejected(ValueError):
    """The message cannot be stored; the text says why."""


def decode(body: str, limits: Limits) -> Any:
    """The JSON document in `body`, or Rejected."""
    if len(body) > limits.max_bytes or len(body.encode()) > limits.max_bytes:
        raise Rejected(f"larger than {limits.max_bytes} bytes")
    try:
        document = json.loads(body, parse_constant=_refuse_constant, parse_float=_finite)
    except Rejected:
        raise
    except RecursionError:
        raise Rejected(f"nested deeper than {limits.max_depth}") from None
    except ValueError:
        raise Rejected("not JSON") from None
    if _deeper_than(document, limits.max_depth):
        raise Rejected(f"nested deeper than {limits.max_depth}")
    return document


def _refuse_constant(name: str) -> float:
    raise Rejected(f"holds {name}, which JSON has no number for")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise Rejected(f"holds {text}, beyond a float's range")
    return number


def _deeper_than(document: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` deep; without recursion."""
    pending = [(document, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, (dict, list)):
            if depth + 1 > limit:
                return True
            items = value.values() if isinstance(value, dict) else value
            pending.extend((item, depth + 1) for item in items)
    return False
