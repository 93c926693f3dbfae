"""Node readiness as the API server reports it, for any driver's status."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from tools.cluster.commands import Runner
from tools.errors import SetupError


def nodes_ready(kubectl: Sequence[str], kubeconfig: Path, run: Runner) -> dict[str, bool]:
    """Node name -> whether its Ready condition is True; empty if the API server can't be asked."""
    if not kubeconfig.is_file():
        return {}
    try:
        listing = run(
            [*kubectl, "--kubeconfig", str(kubeconfig), "--request-timeout=5s", "get", "nodes", "-o", "json"]
        )
    except SetupError:
        return {}
    return {
        node["metadata"]["name"]: any(
            condition["type"] == "Ready" and condition["status"] == "True"
            for condition in node.get("status", {}).get("conditions", [])
        )
        for node in json.loads(listing)["items"]
    }
