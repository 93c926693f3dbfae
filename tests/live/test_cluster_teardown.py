"""`cluster.down` leaves the machine as it was: no process, bridge, iptables chain, mount or
cgroup of the cluster remains, and the kernel settings and host directories it changed are back;
a chain and a network namespace of someone else's, named like the cluster's, are still there.
For kind: no node container, network, volume or mount of ours, and if the project started its
own dockerd, no dockerd of ours, no docker0 or DOCKER chain, and the host's FORWARD policy,
kernel settings and directories as they were before it started.

It takes the cluster down and then brings it back (cluster.up, images.load, as the session
fixture does), so tests after it find the same cluster they would have found before. Anything
deployed to the cluster before it is gone afterwards, so it belongs at the end of a run or
before the stack is deployed (file order puts it before test_post.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.live.tasks_runner import invoke
from tools.cluster import choose_driver
from tools.cluster.kind import KindDriver, engine
from tools.cluster.kind.driver import CLUSTER_LABEL, CLUSTER_NAME, NETWORK
from tools.cluster.local import host, layout
from tools.cluster.local.driver import LocalDriver
from tools.cluster.local.processes import MARKER

pytestmark = pytest.mark.live


def processes_of(state_root: Path) -> list[str]:
    marker = f"{MARKER}={state_root}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker in (entry / "environ").read_bytes().split(b"\0"):
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                found.append(f"{entry.name}: {command}")
        except OSError:
            continue
    return found


def our_chains() -> list[str]:
    chains = []
    for save in ("iptables-save", "ip6tables-save"):
        for line in subprocess.run([save], capture_output=True, text=True, check=True).stdout.splitlines():
            if (line.startswith(":") and host.is_our_chain(line[1:].split()[0])) or " -j NTK-" in line:
                chains.append(f"{save}: {line}")
    return chains


def mount_points() -> list[str]:
    return [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]


def mounts_below(root: Path) -> list[str]:
    return [point for point in mount_points() if point.startswith(f"{root}/") or "/run/netns/cni-" in point]


def forward_policy() -> str:
    return subprocess.run(["iptables", "-S", "FORWARD"], capture_output=True, text=True, check=True).stdout.split()[2]


def docker_leftovers(env: dict[str, str]) -> list[str]:
    """Node containers and the network of the kind cluster that the engine still has."""
    def listing(*args: str) -> list[str]:
        return subprocess.run(["docker", *args], env=env, capture_output=True, text=True, check=True).stdout.split()

    return [*listing("ps", "--all", "--quiet", "--filter", f"label={CLUSTER_LABEL}={CLUSTER_NAME}"),
            *[name for name in listing("network", "ls", "--format", "{{.Name}}") if name == NETWORK]]


def kind_down_leaves_nothing_behind(driver: KindDriver) -> None:
    layout = driver.engine_layout
    ours = engine.own_engine_running(layout)
    before = json.loads(layout.machine_before.read_text()) if ours else None
    policy, forwarding = forward_policy(), Path("/proc/sys/net/ipv4/ip_forward").read_text()
    assert docker_leftovers(engine.command_env(layout)), "the kind cluster should be running before the test"

    invoke("cluster.down")

    if ours:
        assert before is not None
        assert not engine.own_engine_running(layout)
        assert processes_mentioning(layout.root) == []
        assert [point for point in mount_points() if point.startswith(f"{layout.root}/")] == []
        assert [v.name for v in (layout.data_root / "volumes").iterdir() if v.is_dir()] == [], "volumes left"
        assert subprocess.run(["ip", "link", "show", "docker0"], capture_output=True, check=False).returncode != 0
        assert [line for line in iptables_lines() if "DOCKER" in line] == []
        for name, value in before["sysctls"].items():
            assert (Path("/proc/sys") / name).read_text().strip() == value, name
        assert [directory for directory in before["absent_dirs"] if Path(directory).exists()] == []
    else:
        assert docker_leftovers(engine.command_env(layout)) == []
    assert (forward_policy(), Path("/proc/sys/net/ipv4/ip_forward").read_text()) == (policy, forwarding)
    assert not driver.root.exists()


def processes_mentioning(root: Path) -> list[str]:
    """Processes whose command line names a path under `root` (our dockerd, its containerd)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if entry.name.isdigit() and str(root) in command:
            found.append(f"{entry.name}: {command}")
    return found


def iptables_lines() -> list[str]:
    return [line for save in ("iptables-save", "ip6tables-save")
            for line in subprocess.run([save], capture_output=True, text=True, check=True).stdout.splitlines()]


def test_down_leaves_nothing_behind_and_up_recovers() -> None:
    driver = choose_driver()
    try:
        if isinstance(driver, KindDriver):
            kind_down_leaves_nothing_behind(driver)
        else:
            local_down_leaves_nothing_behind(driver)
    finally:  # whatever was left behind, the tests after this one get their cluster back
        invoke("cluster.up", timeout=1200)
        invoke("images.load", timeout=600)
    assert driver.status().ready
    assert os.access(driver.kubeconfig, os.R_OK)


@contextmanager
def others_chain_and_netns() -> Iterator[tuple[str, str]]:
    """A chain (with a jump to it from INPUT) and a network namespace of the test's own, named
    with the prefixes the cluster's own use: cluster.down must leave both alone."""
    suffix = uuid.uuid4().hex[:6].upper()
    chain, netns = f"KUBE-TEST-{suffix}", f"cni-test-{suffix.lower()}"
    subprocess.run(["iptables", "-N", chain], check=True)
    subprocess.run(["iptables", "-A", "INPUT", "-j", chain], check=True)
    # Mounted on a file as `ip netns add` would, without the bind mount of /run/netns that
    # `ip netns add` makes once and leaves behind (over the pods' own namespaces).
    Path("/run/netns", netns).touch()
    subprocess.run(["unshare", f"--net=/run/netns/{netns}", "true"], check=True)
    try:
        yield chain, netns
    finally:
        subprocess.run(["iptables", "-D", "INPUT", "-j", chain], check=False)
        subprocess.run(["iptables", "-X", chain], check=False)
        subprocess.run(["umount", f"/run/netns/{netns}"], check=False)
        Path("/run/netns", netns).unlink(missing_ok=True)


def local_down_leaves_nothing_behind(driver: LocalDriver) -> None:
    state = driver.state
    before = json.loads(state.machine_before.read_text())
    assert processes_of(state.root), "the cluster should be running before the test"

    with others_chain_and_netns() as (chain, netns):
        invoke("cluster.down")
        assert f"-A INPUT -j {chain}" in subprocess.run(["iptables", "-S", "INPUT"], capture_output=True,
                                                        text=True, check=True).stdout
        assert Path("/run/netns", netns).exists()

    assert processes_of(state.root) == []
    assert (
        subprocess.run(["ip", "link", "show", layout.BRIDGE], capture_output=True, check=False).returncode
        != 0
    ), "bridge left behind"
    assert our_chains() == []
    assert mounts_below(state.root) == []
    assert sorted(Path("/sys/fs/cgroup").glob(f"*{layout.CGROUP_ROOT}")) == []
    for name, value in before["sysctls"].items():
        assert (Path("/proc/sys") / name).read_text().strip() == value, name
    assert [directory for directory in before["absent_dirs"] if Path(directory).exists()] == []
    assert not driver.kubeconfig.exists()
