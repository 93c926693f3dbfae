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
ETCD_CLIENT_URL = "http://127.0.0.1:2379"
ETCD_PEER_URL = "http://127.0.0.1:2380"
APISERVER_URL = f"https://{NODE_IP}:{APISERVER_PORT}"
CGROUP_ROOT = "/news-tracker"
"""The kubelet's cgroup root: every pod and container cgroup is made below it."""
HOSTPATH_VOLUMES = 8
"""How many static PersistentVolumes `up` offers (hostPath, recycled when released)."""


@dataclass(frozen=True)
class Layout:
    """Paths of one local cluster's state."""

    root: Path

    @property
    def pki(self) -> Path:
        return self.root / "pki"

    @property
    def config(self) -> Path:
        return self.root / "config"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def pids(self) -> Path:
        return self.root / "pids"

    @property
    def etcd_data(self) -> Path:
        return self.root / "etcd"

    @property
    def kubelet_dir(self) -> Path:
        return self.root / "kubelet"

    @property
    def containerd_root(self) -> Path:
        return self.root / "containerd" / "root"

    @property
    def containerd_state(self) -> Path:
        return self.root / "containerd" / "state"

    @property
    def containerd_socket(self) -> Path:
        return self.root / "containerd" / "containerd.sock"

    @property
    def cni_conf_dir(self) -> Path:
        return self.root / "cni" / "net.d"

    @property
    def cni_ipam_dir(self) -> Path:
        return self.root / "cni" / "ipam"

    @property
    def volumes(self) -> Path:
        return self.root / "volumes"

    @property
    def saved_sysctls(self) -> Path:
        """The kernel settings as they were before the first `up`, restored by `down`."""
        return self.root / "sysctls-before.json"

    def kubeconfig_for(self, component: str) -> Path:
        return self.config / f"{component}.kubeconfig"


def default_layout() -> Layout:
    """The layout under this clone's state directory."""
    return Layout(paths.STATE_DIR / "cluster")
