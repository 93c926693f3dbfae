"""What the Pulumi file backend keeps on disk, read directly instead of through CLI runs.

The Automation API asks the CLI whether a stack exists (`stack select`), and after every `up`
for its outputs (`stack output`, twice) and its summary (`stack history`): four more CLI runs,
two seconds of a no-op `up` on two cores. The file backend has all of it in plain JSON files:
`.pulumi/stacks/<project>/<stack>.json` (the checkpoint) and
`.pulumi/history/<project>/<stack>/<stack>-<time>.history.json` (one per update). Anything this
module cannot read with certainty (a gzipped checkpoint, a secret output) returns None, and the
caller asks the CLI as before.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

#: The key Pulumi marks a secret value with in state files.
SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d"


def checkpoint(stack: str, backend: Path) -> Path | None:
    """The checkpoint file of `stack` in `backend`, if the stack exists there."""
    for path in sorted((backend / ".pulumi" / "stacks").glob(f"*/{stack}.json*")):
        if not path.name.endswith((".bak", ".attrs")):
            return path
    return None


def latest_deployment(stack: str, backend: Path) -> dict[str, Any] | None:
    """The checkpoint's latest deployment (resources, pending operations), or None when there is
    no checkpoint or it cannot be read without the CLI (compressed, or being written)."""
    path = checkpoint(stack, backend)
    if path is None or path.suffix != ".json":
        return None
    try:
        return json.loads(path.read_text()).get("checkpoint", {}).get("latest") or {}
    except (OSError, ValueError):
        return None


def stack_outputs(stack: str, backend: Path) -> dict[str, Any] | None:
    """The stack's outputs as plain values, or None when they cannot be read without the CLI."""
    latest = latest_deployment(stack, backend)
    if latest is None:
        return None
    roots = [r for r in latest.get("resources") or [] if r.get("type") == "pulumi:pulumi:Stack"]
    outputs = (roots[0].get("outputs") or {}) if roots else {}
    return None if SECRET_SIGNATURE in json.dumps(outputs) else outputs


def last_update(stack: str, backend: Path) -> dict[str, Any] | None:
    """The newest update record of `stack` (kind, startTime, endTime, result, resourceChanges)."""
    pattern = re.compile(rf"{re.escape(stack)}-(\d+)\.history\.json")
    records = [(int(match[1]), path) for path in (backend / ".pulumi" / "history").glob(f"*/{stack}/*.history.json")
               if (match := pattern.fullmatch(path.name))]
    if not records:
        return None
    try:
        return json.loads(max(records)[1].read_text())
    except (OSError, ValueError):
        return None


def torn_attributes(backend: Path) -> list[Path]:
    """Attribute files (`<file>.attrs`, JSON, written beside each file the backend saves) that an
    engine killed while saving left empty or cut short. The CLI then fails on the stack with
    "failed to load checkpoint: EOF" although the checkpoint itself is whole (the new one was never
    renamed into place); without the attribute file it reads the checkpoint as it is."""
    torn = []
    for attributes in sorted((backend / ".pulumi").rglob("*.attrs")):
        try:
            json.loads(attributes.read_text())
        except ValueError:
            torn.append(attributes)
    return torn
