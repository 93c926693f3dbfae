"""Operations an interrupted update left pending in the stack's checkpoint, and how they are
resolved so that the next update converges by itself.

The engine records each create, update or delete it starts, and drops the record when it ends.
A CLI stopped mid-operation leaves the record: the next `up` only warns about it and creates
again, and a pending *create* is copied into every later checkpoint for ever. A refresh with
"clear pending creates" drops them all and re-reads the rest from the cluster. Dropping a
pending create is safe when the object has a fixed name: if the interrupted create did make it,
the next `up` applies the same name again (server-side apply upserts) instead of making a twin.
An auto-named object would be duplicated, so that case stops with the way out.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tools.errors import SetupError

PROVIDER_TYPE_PREFIX = "pulumi:providers:"


def pending(deployment: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    """The pending operations of an exported deployment (empty for a new stack)."""
    return list((deployment or {}).get("pending_operations") or [])


def describe(operations: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(f"{op.get('type', '?')} {op.get('resource', {}).get('urn', '?').rsplit('::', 1)[-1]}"
                     for op in operations)


def check_safe_to_clear(operations: Sequence[Mapping[str, Any]]) -> None:
    """Raise unless every pending create is of a provider or of an object with a fixed name."""
    unnamed = [
        op["resource"].get("urn", "?") for op in operations
        if op.get("type") == "creating"
        and not op["resource"].get("type", "").startswith(PROVIDER_TYPE_PREFIX)
        and not (op["resource"].get("inputs", {}).get("metadata") or {}).get("name")
    ]
    if unnamed:
        raise SetupError(
            "an interrupted update left pending creates of auto-named objects, which a new create "
            f"would duplicate: {', '.join(unnamed)}. Import each one that exists in the cluster with "
            "`pulumi refresh --import-pending-creates URN ID`, or drop them with "
            "`pulumi refresh --clear-pending-creates`")
