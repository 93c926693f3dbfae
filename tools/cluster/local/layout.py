"""Where the local cluster keeps its files, and the fixed addresses it uses.

Everything the cluster writes lives under STATE_DIR/cluster, so removing that directory (after
`cluster.down`) removes the cluster. Addresses: the API server and the kubelet listen on the
bridge's gateway address, an address of the cluster's own that pods reach through the
`kubernetes` Service and that nothing outside this machine can reach; everything else listens
on loopback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tools import paths

NODE_NAME = "news-tracker"
BRIDGE = "ntk0"
POD_CIDR = "10.244.0.0/24"
NODE_IP = "10.244.0.1"
"""The bridge's gateway address: node IP, API server and kubelet address."""
NODE_IP_PREFIX = 24
SERVICE_CIDR = "10.96.0.0/12"
KUBERNETES_SERVICE_IP = "10.96.0.1"
DNS_SERVICE_IP = "10.96.0.10"
CLUSTER_DOMAIN = "cluster.local"
APISERVER_PORT = 6443
ETCD_CLIENT_URL = "https://127.0.0.1:2379"
"""TLS with client certificates: the API server is etcd's only client."""
ETCD_PEER_URL = "https://127.0.0.1:2380"
APISERVER_URL = f"https://{NODE_IP}:{APISERVER_PORT}"
CGROUP_ROOT = "/news-tracker"
"""The kubelet's cgroup root: every pod and container cgroup is made below it."""
HOSTPATH_VOLUMES = 8
"""How many static PersistentVolumes `up` offers (hostPath, recycled when released)."""


@dataclass(frozen=True)
class Layout:
    """Paths of one local cluster's state (see `under` for where each one is)."""

    root: Path
    pki: Path
    config: Path
    logs: Path
    pids: Path
    etcd_data: Path
    kubelet_dir: Path
    volume_plugins: Path
    containerd_root: Path
    containerd_state: Path
    containerd_socket: Path
    runc_root: Path
    pod_logs: Path
    cni_conf_dir: Path
    cni_ipam_dir: Path
    volumes: Path
    loaded_images: Path
    """Image reference -> the archive it was loaded from (see loaded.py)."""
    machine_before: Path
    """The kernel settings and host directories as they were before the first `up`; `down` restores them."""

    @classmethod
    def under(cls, root: Path) -> Layout:
        return cls(
            root=root,
            pki=root / "pki",
            config=root / "config",
            logs=root / "logs",
            pids=root / "pids",
            etcd_data=root / "etcd",
            kubelet_dir=root / "kubelet",
            volume_plugins=root / "kubelet" / "volume-plugins",
            containerd_root=root / "containerd" / "root",
            containerd_state=root / "containerd" / "state",
            containerd_socket=root / "containerd" / "containerd.sock",
            runc_root=root / "containerd" / "runc",
            pod_logs=root / "pod-logs",
            cni_conf_dir=root / "cni" / "net.d",
            cni_ipam_dir=root / "cni" / "ipam",
            volumes=root / "volumes",
            loaded_images=root / "loaded-images.json",
            machine_before=root / "machine-before.json",
        )

    def kubeconfig_for(self, component: str) -> Path:
        return self.config / f"{component}.kubeconfig"


def default_layout() -> Layout:
    """The layout under this clone's state directory."""
    return Layout.under(paths.STATE_DIR / "cluster")
