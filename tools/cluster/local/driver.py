"""The local driver: a one-node cluster of upstream Kubernetes run as host processes.

No Docker and no registry: etcd, the Kubernetes components (one multi-call binary), CoreDNS and
the pause image are built from pinned Go modules; containerd, runc, the CNI plugins and iptables
come from Debian. See layout.py for where things live and which addresses are used.

`up` always starts from a clean slate unless the cluster is already healthy: whatever a
previous run left (killed processes, stale PID files, the bridge, iptables chains, mounts, and
the cluster's data: etcd, containerd, kubelet) is removed first, so a crash or a reboot needs no
manual cleanup, and what was deployed before must be deployed again (as after `down`).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tools import gobuild, paths
from tools.cluster.commands import run
from tools.cluster.driver import ClusterStatus
from tools.cluster.local import addons, components, configs, host, preflight, processes
from tools.cluster.local.builds import KUBERNETES, Binaries, ensure_binaries
from tools.cluster.local.images import ensure_images
from tools.cluster.local.layout import Layout, default_layout
from tools.cluster.local.pki import ensure_pki
from tools.cluster.nodes import nodes_ready
from tools.errors import SetupError
from tools.progress import say, step

COMPONENTS = (
    "etcd",
    "containerd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-proxy",
)
"""Start order; `down` stops them in reverse (kubelet before containerd before etcd)."""
START_TIMEOUT = 60.0
READY_TIMEOUT = 90.0
KEPT = ("pki", "logs")
"""What a clean slate keeps of the state dir: certificates (reused by the next up) and logs (to read)."""


@dataclass
class LocalDriver:
    """A cluster of local processes whose state is under STATE_DIR/cluster."""

    state: Layout = field(default_factory=default_layout)
    kubeconfig: Path = paths.KUBECONFIG
    name: str = "local"

    def up(self) -> None:
        """Bring the cluster up, or leave it be if it is already healthy."""
        if self.status().ready:
            say(f"local cluster already up; kubeconfig: {self.kubeconfig}")
            return
        preflight.check()
        binaries = ensure_binaries()
        images = ensure_images(binaries)
        with step("local cluster up"):
            self._clean()
            host.prepare(self.state)
            ensure_pki(self.state.pki)
            self._start([components.etcd(binaries, self.state), components.containerd(self.state)])
            self.load_images(images.all())
            self._start([components.apiserver(binaries, self.state)])
            configs.kubeconfig(self.kubeconfig, self.state.pki, "admin")
            addons.apply_addons(self._kubectl(binaries), self.state)
            self._start(
                [
                    components.controller_manager(binaries, self.state),
                    components.scheduler(binaries, self.state),
                    components.kubelet(binaries, self.state),
                    components.kube_proxy(binaries, self.state),
                ]
            )
            self._wait_usable(binaries)
        say(f"kubeconfig: {self.kubeconfig}")

    def down(self) -> None:
        """Stop every process, undo every change to the machine, delete the cluster's state."""
        with step("local cluster down"):
            self._clean()
            host.restore(self.state)
            self.kubeconfig.unlink(missing_ok=True)

    def status(self) -> ClusterStatus:
        """Which components run, and the node's readiness as the API server reports it."""
        running = {name: processes.running(self.state, name) for name in COMPONENTS}
        built = gobuild.lookup(KUBERNETES)  # status never starts a build
        ready = (
            nodes_ready([str(built / "kube"), "kubectl"], self.kubeconfig, run)
            if built and running["kube-apiserver"]
            else {}
        )
        return ClusterStatus(driver=self.name, components=running, nodes_ready=ready)

    def load_images(self, archives: Sequence[Path]) -> None:
        """Import docker-archives into containerd's k8s.io namespace, where the kubelet looks."""
        if not processes.running(self.state, "containerd"):
            raise SetupError("the local cluster is not running: run `invoke cluster.up` first")
        ctr = ["ctr", f"--address={self.state.containerd_socket}", "--namespace=k8s.io"]
        for archive in archives:
            run([*ctr, "images", "import", str(archive)])

    def _start(self, wave: Sequence[processes.Process]) -> None:
        started = [processes.start(self.state, process) for process in wave]
        with step("start " + ", ".join(process.name for process in wave)):
            processes.wait_ready(self.state, started, START_TIMEOUT)

    def _clean(self) -> None:
        """Stop what runs, undo host changes (but not the saved settings), drop the cluster's data."""
        others = processes.other_clusters(self.state)
        if others:  # they share the bridge, the addresses and the iptables chains: cleaning would break them
            raise SetupError(
                f"another local cluster is running on this machine (state: {', '.join(sorted(others))}); "
                "run `invoke cluster.down` in its clone first"
            )
        processes.stop(self.state, list(reversed(COMPONENTS)))
        processes.kill_remaining(self.state)
        host.clean(self.state)
        kept = {*KEPT, self.state.machine_before.name}
        for entry in self.state.root.glob("*"):
            if entry.name in kept:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()

    def _kubectl(self, binaries: Binaries) -> list[str]:
        return [str(binaries.kube), "kubectl", "--kubeconfig", str(self.kubeconfig)]

    def _wait_usable(self, binaries: Binaries) -> None:
        """Wait for a Ready node, the default service account and cluster DNS."""
        kubectl = self._kubectl(binaries)

        def node_ready() -> bool:
            nodes = nodes_ready(kubectl[:2], self.kubeconfig, run)
            return bool(nodes) and all(nodes.values())

        def default_service_account() -> bool:
            return "serviceaccount/default" in run([*kubectl, "get", "serviceaccounts", "-o", "name"]).split()

        _poll("node Ready", node_ready, processes.log_file(self.state, "kubelet"))
        _poll(
            "default service account",
            default_service_account,
            processes.log_file(self.state, "kube-controller-manager"),
        )
        with step("wait for cluster DNS"):
            timeout = f"--timeout={READY_TIMEOUT:.0f}s"
            run([*kubectl, "--namespace=kube-system", "rollout", "status", "deployment/coredns", timeout])


def _poll(what: str, check: Callable[[], bool], log: Path) -> None:
    """Wait up to READY_TIMEOUT for `check`; the error names the log most likely to say why."""
    with step(f"wait for {what}"):
        deadline = time.monotonic() + READY_TIMEOUT
        while not check():
            if time.monotonic() > deadline:
                raise SetupError(f"no {what} after {READY_TIMEOUT:.0f}s; see {log}")
            time.sleep(0.5)
