"""The one small interface every cluster driver implements (after kind's provider interface).

Tasks, tests and the images helper talk to a driver only through this protocol, so a cluster
made by kind (Docker) and one made of local processes are interchangeable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class ClusterStatus:
    """What `cluster.status` reports: which driver, which parts run, whether the node is Ready."""

    driver: str
    components: dict[str, bool]
    """Component name -> running (a process alive, or a kind node container up)."""
    nodes_ready: dict[str, bool]
    """Node name -> Ready condition; empty when the API server cannot be asked."""

    @property
    def ready(self) -> bool:
        """True when every component runs and at least one node exists and all nodes are Ready."""
        return all(self.components.values()) and bool(self.nodes_ready) and all(self.nodes_ready.values())

    def describe(self) -> str:
        """Human-readable lines for the status task."""
        lines = [f"driver: {self.driver}"]
        lines += [f"  {name}: {'running' if up else 'stopped'}" for name, up in self.components.items()]
        lines += [f"  node {name}: {'Ready' if ok else 'NotReady'}" for name, ok in self.nodes_ready.items()]
        if not self.nodes_ready:
            lines.append("  nodes: API server not reachable")
        return "\n".join(lines)


class ClusterDriver(Protocol):
    """A way to run a Kubernetes cluster on this machine."""

    name: str

    @property
    def kubeconfig(self) -> Path:
        """The kubeconfig that `up` writes and every client uses."""
        ...

    def up(self) -> None:
        """Start the cluster and return once its nodes are Ready; never wipe it.

        - no cluster yet: create it;
        - a healthy cluster: do nothing;
        - anything stopped (one component, all of them, node containers after a Docker restart,
          the host's networking after a reboot): restart just that, on the same data (etcd,
          container images, kubelet state, volumes), repairing stale PID files, sockets and
          mounts instead of deleting them. For kind this means `docker start` of the stopped
          node containers, not a new cluster.
        Images loaded with `load_images` must be present afterwards (reloaded if the runtime lost
        them), so deployed pods come back without `invoke images.load`.
        """
        ...

    def down(self) -> None:
        """Delete the cluster, its data and everything it left on the machine; fine if absent.

        The only operation that wipes (`cluster.reset` is `down` then `up`)."""
        ...

    def status(self) -> ClusterStatus:
        """Report the cluster's components and nodes without changing anything."""
        ...

    def load_images(self, archives: Sequence[Path]) -> None:
        """Make docker-archive image files available to the cluster's container runtime."""
        ...
