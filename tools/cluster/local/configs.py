"""The configuration files of every component, written under the state directory.

Each function returns the file it wrote, so the component table in `components.py` reads as
"this binary, with this config". Settings that only make sense on this kind of machine (cgroup
v1 with cgroupfs, no CAP_SYS_RESOURCE, CNI plugins from Debian) carry a comment saying why.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path

import yaml

from tools.cluster.local import layout
from tools.cluster.local.layout import Layout

CNI_BIN_DIR = "/usr/lib/cni"
"""Debian's containernetworking-plugins install here, not in /opt/cni/bin."""


def kubeconfig(path: Path, pki: Path, identity: str, server: str = layout.APISERVER_URL) -> Path:
    """A self-contained kubeconfig for `identity` (a certificate stem in `pki`)."""

    def data(name: str) -> str:
        return base64.b64encode((pki / name).read_bytes()).decode()

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "news-tracker",
                "cluster": {"server": server, "certificate-authority-data": data("ca.crt")},
            }
        ],
        "users": [
            {
                "name": identity,
                "user": {
                    "client-certificate-data": data(f"{identity}.crt"),
                    "client-key-data": data(f"{identity}.key"),
                },
            }
        ],
        "contexts": [{"name": "news-tracker", "context": {"cluster": "news-tracker", "user": identity}}],
        "current-context": "news-tracker",
    }
    return _write(path, yaml.safe_dump(config, sort_keys=False), mode=0o600)


def kubelet_config(state: Layout) -> Path:
    """KubeletConfiguration for cgroup v1 + cgroupfs, certificate auth and cluster DNS."""
    config = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": layout.NODE_IP,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": 10248,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(state.pki / "ca.crt")},
        },
        "authorization": {"mode": "Webhook"},
        "tlsCertFile": str(state.pki / "kubelet-serving.crt"),
        "tlsPrivateKeyFile": str(state.pki / "kubelet-serving.key"),
        "rotateCertificates": False,
        "containerRuntimeEndpoint": f"unix://{state.containerd_socket}",
        "cgroupDriver": "cgroupfs",  # containerd 1.6 cannot report its driver; this machine has no systemd
        "cgroupRoot": layout.CGROUP_ROOT,
        "failCgroupV1": False,  # the machine runs cgroup v1
        "oomScoreAdj": 0,  # root lacks CAP_SYS_RESOURCE: a negative score cannot be set
        "clusterDNS": [layout.DNS_SERVICE_IP],
        "clusterDomain": layout.CLUSTER_DOMAIN,
        "resolvConf": str(
            _write(state.config / "resolv.conf", "# no upstream resolvers: pods resolve cluster names only\n")
        ),
        "podLogsDir": str(state.pod_logs),
        "volumePluginDir": str(state.volume_plugins),
        "staticPodPath": "",
        "failSwapOn": False,
        "imageGCHighThresholdPercent": 100,  # never evict the locally built images: they cannot be pulled back
        "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%"},
        "registerNode": True,
    }
    return _write(state.config / "kubelet.yaml", yaml.safe_dump(config, sort_keys=False))


def kube_proxy_config(state: Layout) -> Path:
    """KubeProxyConfiguration: iptables mode, no sysctl writes, NodePorts on the node IP only."""
    config = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "mode": "iptables",
        "clientConnection": {"kubeconfig": str(state.kubeconfig_for("kube-proxy"))},
        "hostnameOverride": layout.NODE_NAME,
        "clusterCIDR": layout.POD_CIDR,
        "bindAddress": layout.NODE_IP,  # not a listener in iptables mode: how kube-proxy finds the node IP
        "healthzBindAddress": "127.0.0.1:10256",
        "metricsBindAddress": "127.0.0.1:10249",
        "nodePortAddresses": ["primary"],  # the node IP only, never the machine's other interfaces
        "iptables": {"localhostNodePorts": False},  # else it sets route_localnet=1 machine-wide
        # zero values make kube-proxy leave the conntrack sysctls alone (as local-up-cluster.sh does)
        "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
    }
    return _write(state.config / "kube-proxy.yaml", yaml.safe_dump(config, sort_keys=False))


def scheduler_config(state: Layout) -> Path:
    """KubeSchedulerConfiguration pointing at the scheduler's kubeconfig."""
    config = {
        "apiVersion": "kubescheduler.config.k8s.io/v1",
        "kind": "KubeSchedulerConfiguration",
        "clientConnection": {"kubeconfig": str(state.kubeconfig_for("scheduler"))},
        "leaderElection": {"leaderElect": False},
    }
    return _write(state.config / "scheduler.yaml", yaml.safe_dump(config, sort_keys=False))


def containerd_config(state: Layout, sandbox_image: str) -> Path:
    """containerd 1.6 with the CRI plugin, every path under the state directory."""
    config = f"""version = 2
root = "{state.containerd_root}"
state = "{state.containerd_state}"
[grpc]
  address = "{state.containerd_socket}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{sandbox_image}"
  # root lacks CAP_SYS_RESOURCE on these machines: negative OOM scores would fail every start
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "{state.runc_root}"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{CNI_BIN_DIR}"
    conf_dir = "{state.cni_conf_dir}"
"""
    return _write(state.config / "containerd.toml", config)


def cni_config(state: Layout) -> Path:
    """One bridge network for pods; no masquerading, since pods must not reach outside."""
    config = {
        "cniVersion": "1.0.0",
        "name": "news-tracker",
        "plugins": [
            {
                "type": "bridge",
                "bridge": layout.BRIDGE,
                "isGateway": True,
                "ipMasq": False,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": layout.POD_CIDR, "gateway": layout.NODE_IP}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": str(state.cni_ipam_dir),
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
            {"type": "loopback"},
        ],
    }
    return _write(state.cni_conf_dir / "10-news-tracker.conflist", json.dumps(config, indent=2))


def encryption_config(state: Layout) -> Path:
    """The API server's EncryptionConfiguration: Secrets sealed with secretbox under a key made
    once per cluster (a new key would make every stored Secret unreadable), created 0600 from
    the start; `identity` last, so Secrets written before encryption was on stay readable."""
    path = state.config / "encryption.yaml"
    if path.is_file():
        return path
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    config = {
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "EncryptionConfiguration",
        "resources": [{"resources": ["secrets"],
                       "providers": [{"secretbox": {"keys": [{"name": "key1", "secret": key}]}},
                                     {"identity": {}}]}],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(yaml.safe_dump(config, sort_keys=False))
    return path


def _write(path: Path, content: str, mode: int = 0o644) -> Path:
    """Write only what changed: a running kube-proxy watches its config file and exits on any
    write to it, and `cluster.up` builds every component's config, running or not."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text() != content:
        # Made with its final mode and renamed into place: a kubeconfig's key is never readable
        # by others, not even between a write and a chmod.
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        temporary.unlink(missing_ok=True)
        with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "w") as file:
            file.write(content)
        temporary.replace(path)
    if path.stat().st_mode & 0o777 != mode:  # a chmod is an event to that watch too
        path.chmod(mode)
    return path
