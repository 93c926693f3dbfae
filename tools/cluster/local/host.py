"""What the cluster changes on the machine outside its state directory, and how it is undone.

`prepare` records the kernel settings and host directories as this boot had them before the
cluster changed any, creates the pod
bridge (its gateway address is where the API server and the kubelet listen), a guard that drops
pod traffic leaving the bridge, and one that lets pods reach only the API server on the host and
other machines nothing at the bridge's address; `intact` tells whether those are still there (a reboot removes them).
`clean` removes everything a cluster run can leave, whether the
run ended cleanly or was killed: container processes (found by cgroup), mounts under the state
directory, the pod network namespaces on its pod network, the bridge, the iptables chains its
components name (see is_our_chain) and the rules jumping to them, the cgroups below the
kubelet's cgroup root. What others made (a chain, a namespace) is left alone. `restore` puts back
the kernel settings that changed since they were recorded and removes host directories that did
not exist before.
"""

from __future__ import annotations

import contextlib
import json
import ipaddress
import os
import re
import shlex
import signal
import time
from pathlib import Path

from tools.cluster.commands import run, succeeds
from tools.cluster.local import layout
from tools.cluster.local.layout import Layout
from tools.errors import SetupError

SYSCTLS = (
    "net/ipv4/ip_forward",  # set by us (and the CNI bridge plugin) so pods can reach services
    "net/bridge/bridge-nf-call-iptables",  # set by us: kube-proxy's rules must see bridged traffic
    "vm/overcommit_memory",  # the rest are set by the kubelet at start-up
    "vm/panic_on_oom",
    "kernel/panic",
    "kernel/panic_on_oops",
    "kernel/keys/root_maxkeys",
    "kernel/keys/root_maxbytes",
    "net/ipv4/conf/all/route_localnet",  # kube-proxy's, should it ever route NodePorts on localhost
)
HOST_DIRS = tuple(
    Path(directory)
    for directory in (
        "/var/log/containers",  # the kubelet's links to container logs
        "/var/lib/kubelet/device-plugins",  # the kubelet's device-plugin socket
        "/var/lib/kubelet",
        "/var/lib/cni/results",  # libcni's cache of each pod's network setup
        "/var/lib/cni",
        "/run/netns",  # pods' network namespaces
        "/run/containerd/s",  # shim sockets
        "/run/containerd/fifo",  # containers' stdio pipes
        "/run/containerd/runc/k8s.io",  # runc's state of the kubelet's containers
        "/run/containerd/runc/default",  # and of containers run with ctr (image checks)
        "/run/containerd/runc",
        "/run/containerd",
    )
)
"""Directories that the kubelet, CNI and containerd create outside the state dir (their paths
are fixed in the code), children before parents: `restore` removes those that were absent."""
CNI_CACHE = Path("/var/lib/cni/results")
KUBELET_DEVICE_PLUGIN_SOCKET = Path("/var/lib/kubelet/device-plugins/kubelet.sock")
#: The chains the cluster's components make under fixed names: the kubelet's and kube-proxy's
#: (iptables mode), the CNI portmap and firewall plugins'.
FIXED_CHAINS = frozenset({
    "KUBE-EXTERNAL-SERVICES", "KUBE-FIREWALL", "KUBE-FORWARD", "KUBE-IPTABLES-HINT",
    "KUBE-KUBELET-CANARY", "KUBE-MARK-DROP", "KUBE-MARK-MASQ", "KUBE-NODEPORTS",
    "KUBE-POSTROUTING", "KUBE-PROXY-CANARY", "KUBE-PROXY-FIREWALL", "KUBE-SERVICES",
    "CNI-HOSTPORT-DNAT", "CNI-HOSTPORT-MASQ", "CNI-HOSTPORT-SETMARK", "CNI-FORWARD", "CNI-ADMIN",
})
#: Chains named per object: ours, kube-proxy's per Service and endpoint (a 16-character hash),
#: the CNI bridge plugin's per container (24 hex digits), the portmap plugin's (21 after DN-/SN-).
NAMED_CHAINS = re.compile(
    r"NTK-[A-Z]+|KUBE-(SVC|SVL|SEP|EXT|FW|XLB)-[A-Z2-7]{16}|CNI-[0-9a-f]{24}|CNI-(DN|SN)-[0-9a-f]{21}")
EGRESS_CHAIN = "NTK-EGRESS"
INPUT_CHAIN = "NTK-INPUT"
TABLES = ("filter", "nat", "mangle", "raw")
CGROUP_FS = Path("/sys/fs/cgroup")
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def prepare(state: Layout) -> None:
    """Record the machine's settings, then make the bridge and the guards."""
    _record_machine(state)
    for name in SYSCTLS[:2]:
        _sysctl_path(name).write_text("1")
    _make_cgroup_root()
    run(["ip", "link", "add", layout.BRIDGE, "type", "bridge"])
    run(["ip", "addr", "add", f"{layout.NODE_IP}/{layout.NODE_IP_PREFIX}", "dev", layout.BRIDGE])
    run(["ip", "link", "set", layout.BRIDGE, "up"])
    run(["iptables", "-N", EGRESS_CHAIN])
    run(["iptables", "-A", EGRESS_CHAIN, "-i", layout.BRIDGE, "!", "-o", layout.BRIDGE, "-j", "DROP"])
    run(["iptables", "-I", "FORWARD", "1", "-j", EGRESS_CHAIN])
    _guard_input()


def _record_machine(state: Layout) -> None:
    """The kernel settings as this boot had them before the cluster changed any, and the host
    directories that did not exist. Within one boot the first record stands (a second `prepare`
    sees the cluster's own settings); after a reboot the kernel starts afresh, and what others set
    since (Docker's ip_forward) is theirs to keep, so the settings are recorded again."""
    boot = BOOT_ID.read_text().strip()
    record = json.loads(state.machine_before.read_text()) if state.machine_before.is_file() else None
    if record is not None and record.get("boot_id") == boot:
        return
    absent = {path for path in map(str, HOST_DIRS) if not Path(path).exists()}
    record = {
        "boot_id": boot,
        "sysctls": {name: _sysctl_path(name).read_text().strip() for name in SYSCTLS if _sysctl_path(name).exists()},
        # a directory an earlier run created and left is still not the machine's own
        "absent_dirs": [path for path in map(str, HOST_DIRS)
                        if path in absent or path in (record or {}).get("absent_dirs", [])],
    }
    state.machine_before.parent.mkdir(parents=True, exist_ok=True)
    state.machine_before.write_text(json.dumps(record, indent=2))


def _guard_input() -> None:
    """Pods reach the API server on the host (the `kubernetes` Service leads there) and get the
    answers to what the host opened (probes); any other service of the host, the kubelet's
    included, refuses them. Nothing but this machine reaches the bridge's address: the API server
    and the kubelet listen there, and Linux accepts a packet for it on any interface."""
    rules = (
        ["-i", layout.BRIDGE, "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"],
        ["-i", layout.BRIDGE, "-p", "tcp", "--dport", str(layout.APISERVER_PORT), "-j", "ACCEPT"],
        ["-i", layout.BRIDGE, "-j", "REJECT"],
        ["-d", layout.NODE_IP, "!", "-i", "lo", "-j", "DROP"],
    )
    run(["iptables", "-N", INPUT_CHAIN])
    for rule in rules:
        run(["iptables", "-A", INPUT_CHAIN, *rule])
    run(["iptables", "-I", "INPUT", "1", "-j", INPUT_CHAIN])


def intact() -> bool:
    """Whether what `prepare` made is still there: the bridge with its gateway address, both
    guards, forwarding and the cgroup root. A reboot (or a deleted bridge) undoes them; the
    cluster's processes then have to be restarted on a prepared host."""
    if not succeeds(["ip", "link", "show", layout.BRIDGE]):
        return False
    addresses = run(["ip", "-o", "-4", "addr", "show", "dev", layout.BRIDGE])
    return (
        f" {layout.NODE_IP}/{layout.NODE_IP_PREFIX} " in addresses
        and succeeds(["iptables", "-C", "FORWARD", "-j", EGRESS_CHAIN])
        and succeeds(["iptables", "-C", "INPUT", "-j", INPUT_CHAIN])
        and all(_sysctl_path(name).read_text().strip() == "1" for name in SYSCTLS[:2])
        and all(root.is_dir() for root in _cgroup_roots())
    )


def clean(state: Layout) -> None:
    """Remove every trace a cluster run may have left on the machine (safe to repeat)."""
    sandboxes = _task_bundles(state)
    _kill_cgroup_processes()
    _unmount_below(state.root)
    for bundle in sandboxes:
        _remove_netns_and_socket(bundle)
        for cached in CNI_CACHE.glob(f"*-{bundle.name}-*"):
            cached.unlink()
    _remove_orphan_pod_netns()
    KUBELET_DEVICE_PLUGIN_SOCKET.unlink(missing_ok=True)
    if succeeds(["ip", "link", "show", layout.BRIDGE]):
        run(["ip", "link", "delete", layout.BRIDGE])  # pods' veths went with their namespaces
    for iptables in ("iptables", "ip6tables"):
        for table in TABLES:
            _remove_our_chains(iptables, table)
    _remove_cgroups()
    _remove_pod_log_links(state)


def restore(state: Layout) -> None:
    """Put back the kernel settings that changed since they were recorded; drop dirs that were absent."""
    if not state.machine_before.is_file():
        return
    before = json.loads(state.machine_before.read_text())
    for name, value in before["sysctls"].items():
        if _sysctl_path(name).read_text().strip() != value:
            _sysctl_path(name).write_text(value)
    for directory in before["absent_dirs"]:
        with contextlib.suppress(OSError):  # only if empty: never removes what someone else put there
            Path(directory).rmdir()
    state.machine_before.unlink()


def _sysctl_path(name: str) -> Path:
    return Path("/proc/sys") / name


def _task_bundles(state: Layout) -> list[Path]:
    """containerd's bundle directories of this cluster's containers (config.json, address)."""
    tasks = state.containerd_state / "io.containerd.runtime.v2.task"
    return [path.parent for path in sorted(tasks.glob("*/*/config.json"))]


def _remove_netns_and_socket(bundle: Path) -> None:
    """Unmount and delete a pod's network namespace, and the shim socket a killed shim left."""
    spec = json.loads((bundle / "config.json").read_text())
    for namespace in spec.get("linux", {}).get("namespaces", []):
        path = namespace.get("path", "")
        if namespace.get("type") == "network" and path.startswith(("/run/netns/", "/var/run/netns/")):
            _unmount(Path(path))
            _remove_netns_file(Path(path))
    address = bundle / "address"
    if address.is_file():
        Path(address.read_text().strip().removeprefix("unix://")).unlink(missing_ok=True)


def _remove_netns_file(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as error:
        # `ip netns add` bind-mounts /run/netns over itself once; a namespace mounted before
        # that stays mounted underneath, out of reach of this path.
        raise SetupError(f"cannot remove pod network namespace {path} ({error.strerror}): it is "
                         "still mounted under a later bind mount of its directory (made by `ip netns "
                         "add`?); see `grep netns /proc/self/mountinfo`") from None


def _remove_orphan_pod_netns() -> None:
    """Delete our pods' network namespaces that no process uses any more.

    A cluster whose processes were killed (a stopped session, a crash, another clone's cluster)
    leaves its pods' namespaces mounted under /run/netns, where this state's bundles do not name
    them. Ours carry an address of the pod network; one without is someone else's.
    """
    in_use = set()
    for process in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if process.name.isdigit():
                found = (process / "ns" / "net").stat()
                in_use.add((found.st_dev, found.st_ino))
    for namespace in Path("/run/netns").glob("cni-*"):
        with contextlib.suppress(OSError):
            found = namespace.stat()
            if (found.st_dev, found.st_ino) not in in_use and _on_pod_network(namespace.name):
                _unmount(namespace)
                namespace.unlink(missing_ok=True)


def _on_pod_network(netns: str) -> bool:
    """Whether an interface in the network namespace has an address of the pod network."""
    try:
        listing = run(["ip", "-n", netns, "-o", "-4", "addr", "show"])
    except SetupError:
        return False
    network = ipaddress.ip_network(layout.POD_CIDR)
    return any(ipaddress.ip_interface(address).ip in network
               for address in re.findall(r" inet (\S+) ", listing))


def _kill_cgroup_processes() -> None:
    """SIGKILL every process in a cgroup below the kubelet's cgroup root (the containers)."""
    for _ in range(50):
        pids = {int(pid) for procs in _our_cgroups("cgroup.procs") for pid in _read_pids(procs)}
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)


def _read_pids(procs: Path) -> list[str]:
    """A container's cgroup can vanish between listing and reading (its last process exited)."""
    try:
        return procs.read_text().split()
    except FileNotFoundError:
        return []


def _our_cgroups(file_name: str) -> list[Path]:
    return sorted(CGROUP_FS.glob(f"*{layout.CGROUP_ROOT}/**/{file_name}"))


def _cgroup_roots() -> list[Path]:
    """The kubelet's cgroup root in every cgroup v1 hierarchy (where it must exist)."""
    return [
        hierarchy / layout.CGROUP_ROOT.lstrip("/")
        for hierarchy in CGROUP_FS.iterdir()
        if (hierarchy / "cgroup.procs").is_file() and hierarchy.name != "unified"
    ]


def _make_cgroup_root() -> None:
    """The kubelet requires its cgroup root to exist in every cgroup v1 hierarchy."""
    for root in _cgroup_roots():
        root.mkdir(exist_ok=True)
        # a new cpuset is empty, and no task can join it until it has CPUs and memory nodes
        if root.parent.name == "cpuset":
            for setting in ("cpuset.cpus", "cpuset.mems"):
                (root / setting).write_text((root.parent / setting).read_text())


def _remove_cgroups() -> None:
    """rmdir the cgroup tree below the cgroup root in every hierarchy, deepest first."""
    for hierarchy in CGROUP_FS.iterdir():
        root = hierarchy / layout.CGROUP_ROOT.lstrip("/")
        if not root.is_dir():
            continue
        for directory in sorted(
            (p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True
        ):
            _remove_cgroup(directory)
        _remove_cgroup(root)


def _remove_cgroup(directory: Path) -> None:
    """rmdir one cgroup; one that processes still hold is an error naming them."""
    try:
        directory.rmdir()
    except OSError as error:
        holders = [f"{pid} ({_command_of(pid)})" for pid in _read_pids(directory / "cgroup.procs")]
        raise SetupError(f"cgroup {directory} cannot be removed ({error.strerror}); processes in it: "
                         f"{', '.join(holders) or 'none listed'}: stop them, then run `invoke cluster.down` "
                         "again") from None


def _command_of(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return "gone"


def _unmount_below(root: Path) -> None:
    """Lazily unmount every mount point at or below `root`, deepest first."""
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].encode().decode("unicode_escape")
        if point == str(root) or point.startswith(f"{root}/"):
            points.append(point)
    for point in sorted(points, key=len, reverse=True):
        _unmount(Path(point))


def _unmount(path: Path) -> None:
    if succeeds(["mountpoint", "-q", str(path)]):
        run(["umount", "-l", str(path)])


def _remove_our_chains(iptables: str, table: str) -> None:
    """Delete rules jumping to our chains from built-in chains, then flush and delete ours."""
    try:
        saved = run([f"{iptables}-save", "-t", table])
    except SetupError:  # the table does not exist in this kernel/backend: nothing of ours there
        return
    ours = [line[1:].split()[0] for line in saved.splitlines()
            if line.startswith(":") and is_our_chain(line[1:].split()[0])]
    for line in saved.splitlines():
        if not line.startswith("-A "):
            continue
        rule = shlex.split(line)
        chain = rule[1]
        target = rule[rule.index("-j") + 1] if "-j" in rule else ""
        if chain not in ours and target in ours:
            run([iptables, "-t", table, "-D", *rule[1:]])
    for chain in ours:
        run([iptables, "-t", table, "-F", chain])
    for chain in ours:
        run([iptables, "-t", table, "-X", chain])


def is_our_chain(chain: str) -> bool:
    """Whether the cluster's components name a chain so: a KUBE-TEST or CNI-MINE of someone
    else's is not ours, even with the same prefix."""
    return chain in FIXED_CHAINS or NAMED_CHAINS.fullmatch(chain) is not None


def _remove_pod_log_links(state: Layout) -> None:
    """The kubelet links container logs into /var/log/containers; drop the links into our state."""
    links = Path("/var/log/containers")
    if not links.is_dir():
        return
    for link in links.iterdir():
        if link.is_symlink() and os.readlink(link).startswith(f"{state.root}/"):
            link.unlink()
