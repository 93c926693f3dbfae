"""The kind driver: a cluster of Docker containers made by `kind`, for machines with Docker.

Deliberately thin: every operation is one kind command line, so what it does can be read off
(and is unit-tested against a fake runner; this project's own machines have no Docker engine).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tools import paths
from tools.cluster.commands import Runner, run
from tools.cluster.driver import ClusterStatus
from tools.cluster.nodes import nodes_ready

CLUSTER_NAME = "news-tracker"
CONFIG = Path(__file__).with_name("kind-config.yaml")


@dataclass
class KindDriver:
    """A kind cluster named news-tracker whose kubeconfig is tools.paths.KUBECONFIG."""

    run: Runner = run
    kubeconfig: Path = paths.KUBECONFIG
    name: str = "kind"

    def up(self) -> None:
        """Create the cluster unless kind already has it."""
        if CLUSTER_NAME in self.run(["kind", "get", "clusters"]).split():
            self.run(
                ["kind", "export", "kubeconfig", "--name", CLUSTER_NAME, "--kubeconfig", str(self.kubeconfig)]
            )
            return
        self.kubeconfig.parent.mkdir(parents=True, exist_ok=True)
        self.run(
            [
                "kind",
                "create",
                "cluster",
                "--name",
                CLUSTER_NAME,
                "--config",
                str(CONFIG),
                "--kubeconfig",
                str(self.kubeconfig),
                "--wait",
                "120s",
            ]
        )

    def down(self) -> None:
        """Delete the cluster (kind does nothing if it does not exist)."""
        self.run(["kind", "delete", "cluster", "--name", CLUSTER_NAME, "--kubeconfig", str(self.kubeconfig)])

    def status(self) -> ClusterStatus:
        """kind's node containers, and the nodes' readiness from the API server."""
        containers = self.run(["kind", "get", "nodes", "--name", CLUSTER_NAME]).split()
        return ClusterStatus(
            driver=self.name,
            components={container: True for container in containers} or {"kind nodes": False},
            nodes_ready=nodes_ready(["kubectl"], self.kubeconfig, self.run),
        )

    def load_images(self, archives: Sequence[Path]) -> None:
        """Load each docker-archive into every node of the cluster."""
        for archive in archives:
            self.run(["kind", "load", "image-archive", str(archive), "--name", CLUSTER_NAME])
