"""The cluster's host processes: which binary each runs, with which flags, and its probe.

Start-up happens in three waves (see LocalDriver.up): etcd and containerd; the API server;
then everything that talks to the API server. Every listener is on loopback except the API
server and the kubelet, which listen on the bridge's gateway address (layout.NODE_IP).
"""

from __future__ import annotations

from pathlib import Path

from tools.cluster.commands import system_path
from tools.cluster.local import addons, configs, layout
from tools.cluster.local.builds import Binaries
from tools.cluster.local.images import PAUSE_IMAGE
from tools.cluster.local.layout import Layout
from tools.cluster.local.probes import http_ok, unix_socket_accepts
from tools.cluster.local.processes import Process


def etcd(binaries: Binaries, state: Layout) -> Process:
    return Process(
        "etcd",
        [
            str(binaries.etcd),
            f"--name={layout.NODE_NAME}",
            f"--data-dir={state.etcd_data}",
            f"--listen-client-urls={layout.ETCD_CLIENT_URL}",
            f"--advertise-client-urls={layout.ETCD_CLIENT_URL}",
            f"--listen-peer-urls={layout.ETCD_PEER_URL}",
            f"--initial-advertise-peer-urls={layout.ETCD_PEER_URL}",
            f"--initial-cluster={layout.NODE_NAME}={layout.ETCD_PEER_URL}",
            f"--cert-file={state.pki / 'etcd-server.crt'}",
            f"--key-file={state.pki / 'etcd-server.key'}",
            "--client-cert-auth=true",  # (a trusted CA file alone already makes etcd require one)
            f"--trusted-ca-file={state.pki / 'ca.crt'}",
            # A single member has no peers; its peer port is closed the same way all the same.
            f"--peer-cert-file={state.pki / 'etcd-server.crt'}",
            f"--peer-key-file={state.pki / 'etcd-server.key'}",
            "--peer-client-cert-auth=true",
            f"--peer-trusted-ca-file={state.pki / 'ca.crt'}",
            "--log-level=warn",
        ],
        http_ok(f"{layout.ETCD_CLIENT_URL}/health", ca_file=state.pki / "ca.crt",
                client=_certificate(state, "apiserver-etcd-client")),
    )


def _certificate(state: Layout, stem: str) -> tuple[Path, Path]:
    """The (certificate, key) files of one identity in the cluster's PKI."""
    return state.pki / f"{stem}.crt", state.pki / f"{stem}.key"


def containerd(state: Layout) -> Process:
    config = configs.containerd_config(state, sandbox_image=PAUSE_IMAGE)
    configs.cni_config(state)
    return Process(
        "containerd",
        ["containerd", "--config", str(config)],
        unix_socket_accepts(state.containerd_socket),
        env={"PATH": system_path()},
    )


def apiserver(binaries: Binaries, state: Layout) -> Process:
    pki = state.pki
    return Process(
        "kube-apiserver",
        [
            str(binaries.kube),
            "kube-apiserver",
            f"--advertise-address={layout.NODE_IP}",
            f"--bind-address={layout.NODE_IP}",
            f"--secure-port={layout.APISERVER_PORT}",
            f"--etcd-servers={layout.ETCD_CLIENT_URL}",
            f"--etcd-cafile={pki / 'ca.crt'}",
            f"--etcd-certfile={pki / 'apiserver-etcd-client.crt'}",
            f"--etcd-keyfile={pki / 'apiserver-etcd-client.key'}",
            f"--encryption-provider-config={configs.encryption_config(state)}",
            "--anonymous-auth=false",
            f"--service-cluster-ip-range={layout.SERVICE_CIDR}",
            f"--service-account-issuer=https://kubernetes.default.svc.{layout.CLUSTER_DOMAIN}",
            f"--service-account-key-file={pki / 'service-account.pub'}",
            f"--service-account-signing-key-file={pki / 'service-account.key'}",
            f"--tls-cert-file={pki / 'apiserver.crt'}",
            f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--client-ca-file={pki / 'ca.crt'}",
            f"--kubelet-client-certificate={pki / 'apiserver-kubelet-client.crt'}",
            f"--kubelet-client-key={pki / 'apiserver-kubelet-client.key'}",
            f"--kubelet-certificate-authority={pki / 'ca.crt'}",
            "--kubelet-preferred-address-types=InternalIP",
            "--authorization-mode=Node,RBAC",
            "--enable-admission-plugins=NodeRestriction",
            "--allow-privileged=true",
            "--profiling=false",
        ],
        http_ok(f"{layout.APISERVER_URL}/readyz", ca_file=pki / "ca.crt", client=_certificate(state, "admin")),
    )


def controller_manager(binaries: Binaries, state: Layout) -> Process:
    kubeconfig = configs.kubeconfig(
        state.kubeconfig_for("controller-manager"), state.pki, "controller-manager"
    )
    pki = state.pki
    return Process(
        "kube-controller-manager",
        [
            str(binaries.kube),
            "kube-controller-manager",
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--bind-address=127.0.0.1",
            "--leader-elect=false",
            f"--service-account-private-key-file={pki / 'service-account.key'}",
            f"--root-ca-file={pki / 'ca.crt'}",
            "--use-service-account-credentials=true",
            f"--cluster-signing-cert-file={pki / 'ca.crt'}",
            f"--cluster-signing-key-file={pki / 'ca.key'}",
            f"--service-cluster-ip-range={layout.SERVICE_CIDR}",
            f"--cluster-cidr={layout.POD_CIDR}",
            "--allocate-node-cidrs=true",
            "--node-cidr-mask-size=24",
            f"--pv-recycler-pod-template-filepath-hostpath={addons.pv_recycler_template(state)}",
            f"--flex-volume-plugin-dir={state.volume_plugins}",
            "--profiling=false",
        ],
        http_ok("https://127.0.0.1:10257/healthz"),
    )


def scheduler(binaries: Binaries, state: Layout) -> Process:
    kubeconfig = configs.kubeconfig(state.kubeconfig_for("scheduler"), state.pki, "scheduler")
    return Process(
        "kube-scheduler",
        [
            str(binaries.kube),
            "kube-scheduler",
            f"--config={configs.scheduler_config(state)}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--bind-address=127.0.0.1",
            "--profiling=false",
        ],
        http_ok("https://127.0.0.1:10259/healthz"),
    )


def kubelet(binaries: Binaries, state: Layout) -> Process:
    kubeconfig = configs.kubeconfig(state.kubeconfig_for("kubelet"), state.pki, "kubelet")
    return Process(
        "kubelet",
        [
            str(binaries.kube),
            "kubelet",
            f"--config={configs.kubelet_config(state)}",
            f"--kubeconfig={kubeconfig}",
            f"--root-dir={state.kubelet_dir}",
            f"--cert-dir={state.kubelet_dir / 'pki'}",
            f"--node-ip={layout.NODE_IP}",
            f"--hostname-override={layout.NODE_NAME}",
        ],
        http_ok("http://127.0.0.1:10248/healthz"),
        env={"PATH": system_path()},
    )


def kube_proxy(binaries: Binaries, state: Layout) -> Process:
    configs.kubeconfig(state.kubeconfig_for("kube-proxy"), state.pki, "kube-proxy")
    return Process(
        "kube-proxy",
        [str(binaries.kube), "kube-proxy", f"--config={configs.kube_proxy_config(state)}"],
        http_ok("http://127.0.0.1:10256/livez"),
        env={"PATH": system_path()},
    )
