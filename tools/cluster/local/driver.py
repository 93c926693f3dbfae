"""The local driver: a one-node cluster of upstream Kubernetes run as host processes.

No Docker and no registry: etcd, the Kubernetes components (one multi-call binary), CoreDNS and
the pause image are built from pinned Go modules; containerd, runc, the CNI plugins and iptables
come from Debian. See layout.py for where things live and which addresses are used.

`up` restarts, it never wipes: components that are not running are started again on the data
they left (etcd, containerd's images and containers, the kubelet's state, the volumes), while
those still running are left alone. After a reboot (or whatever removed the bridge, the egress
guard or the cgroup root) every process of the cluster is stopped, the host's leftovers (mounts,
network namespaces, iptables chains, cgroups; never data) are cleaned and the host is prepared
again before the restart. Images that were loaded and that containerd no longer has are
imported again. Only `down` deletes the cluster's data.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from tools import gobuild, paths
from tools.cluster.commands import run
from tools.cluster.driver import ClusterStatus
from tools.cluster.local import addons, components, configs, host, layout, loaded, preflight, processes
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
"""What `down` keeps of the state dir: certificates (reused by the next up) and logs (to read)."""


@dataclass
class LocalDriver:
    """A cluster of local processes whose state is under STATE_DIR/cluster."""

    state: Layout = field(default_factory=default_layout)
    kubeconfig: Path = paths.KUBECONFIG
    name: str = "local"

    def up(self) -> None:
        """Start what is stopped, on the data it left; leave a healthy cluster be."""
        if self.status().ready:
            say(f"local cluster already up; kubeconfig: {self.kubeconfig}")
            return
        preflight.check()
        binaries = ensure_binaries()
        images = ensure_images(binaries)
        with step("local cluster up"):
            self._refuse_other_clusters()
            if not host.intact() or not self.state.machine_before.is_file():
                # no record of the machine: what looks prepared was left by a clone's killed run
                with step("host networking missing or not ours (a reboot?): stop what runs, clean the host, "
                          "keep the data"):
                    self._stop_everything()
                    host.prepare(self.state)
            ensure_pki(self.state.pki)
            self._start_stopped([components.etcd(binaries, self.state), components.containerd(self.state)])
            loaded.remember(self.state, images.all())
            self._reload_lost_images()
            self._start_stopped([components.apiserver(binaries, self.state)])
            configs.kubeconfig(self.kubeconfig, self.state.pki, "admin")
            addons.apply_addons(self._kubectl(binaries), self.state)
            self._start_stopped(
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
            self._refuse_other_clusters()
            self._stop_everything()
            self._delete_data()
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
        """Import docker-archives into containerd's k8s.io namespace, where the kubelet looks,
        and remember them so that a restart can import again any that containerd lost."""
        if not processes.running(self.state, "containerd"):
            raise SetupError("the local cluster is not running: run `invoke cluster.up` first")
        loaded.remember(self.state, archives)
        for archive in archives:
            run([*self.ctr_command(), "images", "import", str(archive)])

    def ctr_command(self) -> list[str]:
        """ctr on the cluster's containerd, in the namespace the kubelet uses."""
        return ["ctr", f"--address={self.state.containerd_socket}", "--namespace=k8s.io"]

    def _reload_lost_images(self) -> None:
        """Import the remembered archives whose images containerd does not have (any more)."""
        missing = loaded.lost(self.state, run([*self.ctr_command(), "images", "list", "--quiet"]).split())
        gone = sorted(reference for reference, archive in missing.items() if not archive.is_file())
        if gone:
            raise SetupError(
                f"images {', '.join(gone)} are missing from containerd and their archives are gone: "
                "run `invoke images.load`"
            )
        if missing:
            with step(f"import images containerd lost: {', '.join(sorted(missing))}"):
                self.load_images(sorted(set(missing.values())))

    def _start_stopped(self, wave: Sequence[processes.Process]) -> None:
        """Start the processes of `wave` that are not running (a stale PID file is just replaced)."""
        stopped = [process for process in wave if not processes.running(self.state, process.name)]
        if not stopped:
            return
        started = [processes.start(self.state, process) for process in stopped]
        with step("start " + ", ".join(process.name for process in stopped)):
            processes.wait_ready(self.state, started, START_TIMEOUT)

    def _refuse_other_clusters(self) -> None:
        others = processes.other_clusters(self.state)
        if others:  # they share the bridge, the addresses and the iptables chains: cleaning would break them
            raise SetupError(
                f"another local cluster is running on this machine (state: {', '.join(sorted(others))}); "
                "run `invoke cluster.down` in its clone first"
            )

    def _stop_everything(self) -> None:
        """Stop every process of the cluster and remove what they left on the host; keep the data."""
        processes.stop(self.state, list(reversed(COMPONENTS)))
        processes.kill_remaining(self.state)
        host.clean(self.state)

    def _delete_data(self) -> None:
        """Drop the cluster's data (etcd, containerd, kubelet, volumes), keeping KEPT."""
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
            """Ready as reported by the kubelet that runs now: after a restart the API server
            still shows the old kubelet's Ready until the node's grace period runs out."""
            kubelet_started = processes.started_at(self.state, "kubelet")
            try:
                node = json.loads(run([*kubectl, "get", "node", layout.NODE_NAME, "-o", "json"]))
            except SetupError:  # not registered yet, or the API server is still settling
                return False
            ready = next((c for c in node["status"].get("conditions", []) if c["type"] == "Ready"), {})
            reported = datetime.fromisoformat(ready.get("lastHeartbeatTime", "1970-01-01T00:00:00Z"))
            return ready.get("status") == "True" and reported.timestamp() >= int(kubelet_started)

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
