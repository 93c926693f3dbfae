"""Which cluster a stack deploys to, read from its stack config file: the one answer that both
the Pulumi provider and every kubectl call use."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tools.cluster import chosen_kubeconfig
from tools.errors import SetupError
from tools.paths import REPO


@dataclass(frozen=True)
class ClusterTarget:
    """Which cluster a stack deploys to: the same for the Pulumi provider and for kubectl."""
    kubeconfig: Path
    context: str | None


def stack_config(stack: str) -> dict[str, Any]:
    """The plain `config:` map of Pulumi.<stack>.yaml (secrets stay encrypted)."""
    path = REPO / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in REPO.glob("Pulumi.*.yaml"))
        raise SetupError(f"no stack config {path.name}; known stacks: {', '.join(known)}")
    return (yaml.safe_load(path.read_text()) or {}).get("config") or {}


def cluster_target(stack: str) -> ClusterTarget:
    """`kubernetes:kubeconfig` / `kubernetes:context` from the stack config, else the project's
    cluster of the chosen driver (invoke cluster.up writes its kubeconfig to the state directory)."""
    config = stack_config(stack)
    kubeconfig = config.get("kubernetes:kubeconfig")
    return ClusterTarget(
        kubeconfig=(REPO / os.path.expanduser(kubeconfig)) if kubeconfig else chosen_kubeconfig(),
        context=config.get("kubernetes:context"))
