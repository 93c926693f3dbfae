"""Pod networking between kind nodes without kindnetd: what kindnetd would do, done once per node.

All nodes sit on one Docker network, so a node reaches another node's pods by routing that
node's podCIDR through its IP. Each node gets a CNI config (Debian's bridge + host-local over
its own podCIDR, portmap, loopback) and a route per other node. The bridge does not masquerade:
a pod sees the real address of a pod on another node, and nothing leaves the cluster's network.

Routes live in the nodes' network namespaces, which a stopped node loses: `connect` is run
again after nodes are started (it replaces, so repeating it is harmless).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tools.cluster.commands import run

CNI_CONFIG = "/etc/cni/net.d/10-news-tracker.conflist"
BRIDGE = "cni0"


@dataclass(frozen=True)
class NodeAddress:
    """A node as routing needs it."""

    name: str
    ip: str
    pod_cidr: str


def pod_cidrs(nodes_json: str) -> dict[str, str]:
    """Node name -> podCIDR, from `kubectl get nodes -o json` (nodes without one yet are left out)."""
    return {
        node["metadata"]["name"]: node["spec"]["podCIDR"]
        for node in json.loads(nodes_json)["items"]
        if node.get("spec", {}).get("podCIDR")
    }


def cni_config(pod_cidr: str) -> str:
    """The node's CNI config list: pods on a bridge with addresses from the node's podCIDR."""
    return json.dumps(
        {
            "cniVersion": "1.0.0",
            "name": "news-tracker",
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": BRIDGE,
                    "isGateway": True,
                    "ipMasq": False,
                    "hairpinMode": True,
                    "ipam": {
                        "type": "host-local",
                        "ranges": [[{"subnet": pod_cidr}]],
                        "routes": [{"dst": "0.0.0.0/0"}],
                    },
                },
                {"type": "portmap", "capabilities": {"portMappings": True}},
                {"type": "loopback"},
            ],
        },
        indent=2,
    )


def connect(nodes: Sequence[NodeAddress], env: Mapping[str, str]) -> None:
    """Write every node's CNI config and route every other node's podCIDR through that node."""
    for node in nodes:
        run(["docker", "exec", "-i", node.name, "cp", "/dev/stdin", CNI_CONFIG], stdin=cni_config(node.pod_cidr), env=env)
        for other in nodes:
            if other is not node:
                run(["docker", "exec", node.name, "ip", "route", "replace", other.pod_cidr, "via", other.ip], env=env)
