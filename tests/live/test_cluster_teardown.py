"""`cluster.down` leaves the machine as it was: no process, bridge, iptables chain, mount or
cgroup of the cluster remains, and the kernel settings and host directories it changed are back.

It takes the cluster down and then brings it back (cluster.up, images.load, as the session
fixture does), so tests after it find the same cluster they would have found before. Anything
deployed to the cluster before it is gone afterwards, so it belongs at the end of a run or
before the stack is deployed (file order puts it before test_post.py).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.live.tasks_runner import invoke
from tools.cluster import choose_driver
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
            if (line.startswith(":") and line[1:].startswith(host.OUR_CHAIN_PREFIXES)) or " -j NTK-" in line:
                chains.append(f"{save}: {line}")
    return chains


def mounts_below(root: Path) -> list[str]:
    points = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]
    return [point for point in points if point.startswith(f"{root}/") or "/run/netns/cni-" in point]


def test_down_leaves_nothing_behind_and_up_recovers() -> None:
    driver = choose_driver()
    if not isinstance(driver, LocalDriver):
        pytest.skip("leftovers are checked for the local driver; kind's are kind's")
    state = driver.state
    before = json.loads(state.machine_before.read_text())
    assert processes_of(state.root), "the cluster should be running before the test"

    invoke("cluster.down")

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

    invoke("cluster.up", timeout=600)
    invoke("images.load", timeout=600)
    assert driver.status().ready
    assert os.access(driver.kubeconfig, os.R_OK)
