"""What the local cluster's cleanup takes off the machine: only the iptables chains its components
name (with the rules jumping to them), and a cgroup it cannot remove is an error naming who holds it."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from tools.cluster.local import host, layout
from tools.errors import SetupError

#: iptables-save of a running cluster's nat table, plus someone else's chains with our prefixes.
SAVED_NAT = """\
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-ERIFXISQEP7F7OF4 - [0:0]
:KUBE-SEP-E7QALVI542OWU2YX - [0:0]
:CNI-0123456789abcdef01234567 - [0:0]
:CNI-DN-0123456789abcdef01234 - [0:0]
:NTK-EGRESS - [0:0]
:KUBE-TEST-A1B2C3 - [0:0]
:CNI-MINE - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A PREROUTING -j KUBE-TEST-A1B2C3
-A INPUT -j CNI-MINE
-A KUBE-SERVICES -j KUBE-SVC-ERIFXISQEP7F7OF4
COMMIT
"""
OURS = ["KUBE-SERVICES", "KUBE-SVC-ERIFXISQEP7F7OF4", "KUBE-SEP-E7QALVI542OWU2YX",
        "CNI-0123456789abcdef01234567", "CNI-DN-0123456789abcdef01234", "NTK-EGRESS"]


@pytest.mark.parametrize("chain", OURS + ["KUBE-KUBELET-CANARY", "KUBE-IPTABLES-HINT", "NTK-INPUT"])
def test_the_components_chains_are_ours(chain: str) -> None:
    assert host.is_our_chain(chain)


@pytest.mark.parametrize("chain", ["KUBE-TEST-A1B2C3", "CNI-MINE", "KUBE-SVC-short", "DOCKER", "INPUT",
                                   "CNI-0123456789ABCDEF01234567"])
def test_a_chain_named_like_ours_by_someone_else_is_not(chain: str) -> None:
    assert not host.is_our_chain(chain)


def test_cleanup_deletes_our_chains_and_jumps_and_leaves_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    commands: list[list[str]] = []

    def run(argv: list[str]) -> str:
        commands.append(argv)
        return SAVED_NAT if argv[0].endswith("-save") else ""

    monkeypatch.setattr(host, "run", run)
    host._remove_our_chains("iptables", "nat")

    changes = commands[1:]
    assert [argv for argv in changes if argv[3] == "-D"] == [
        ["iptables", "-t", "nat", "-D", "PREROUTING", "-m", "comment", "--comment",
         "kubernetes service portals", "-j", "KUBE-SERVICES"]]
    assert [argv[4] for argv in changes if argv[3] == "-F"] == OURS
    assert [argv[4] for argv in changes if argv[3] == "-X"] == OURS


def test_a_cgroup_still_in_use_is_an_error_naming_its_processes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    busy = tmp_path / "cpu" / layout.CGROUP_ROOT.lstrip("/") / "pod1"
    busy.mkdir(parents=True)
    (busy / "cgroup.procs").write_text("1\n")  # a non-empty directory: rmdir fails as on a busy cgroup
    monkeypatch.setattr(host, "CGROUP_FS", tmp_path)

    with pytest.raises(SetupError, match=r"cgroup .*/pod1 cannot be removed .*processes in it: 1 \(.+\)"):
        host._remove_cgroups()


class Machine:
    """The kernel settings in a directory, a boot id, and `prepare`'s commands recorded, not run."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.state = SimpleNamespace(machine_before=root / "state" / "machine-before.json")
        self.boot("first-boot", {name: "0" for name in host.SYSCTLS})
        monkeypatch.setattr(host, "_sysctl_path", lambda name: root / "sys" / name)
        monkeypatch.setattr(host, "BOOT_ID", root / "boot_id")
        monkeypatch.setattr(host, "HOST_DIRS", ())
        for name in ("run", "_make_cgroup_root", "_guard_input"):
            monkeypatch.setattr(host, name, lambda *args, **kwargs: "")

    def boot(self, boot_id: str, sysctls: dict[str, str]) -> None:
        (self.root / "boot_id").write_text(boot_id + "\n")
        for name, value in sysctls.items():
            self.set(name, value)

    def set(self, name: str, value: str) -> None:
        path = self.root / "sys" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value + "\n")

    def get(self, name: str) -> str:
        return (self.root / "sys" / name).read_text().strip()


@pytest.fixture
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Machine:
    return Machine(tmp_path, monkeypatch)


def test_down_puts_back_what_the_run_changed(machine: Machine) -> None:
    host.prepare(machine.state)
    assert machine.get("net/ipv4/ip_forward") == "1"
    machine.set("vm/overcommit_memory", "1")  # the kubelet's, at start-up
    host.restore(machine.state)
    assert {name: machine.get(name) for name in host.SYSCTLS} == {name: "0" for name in host.SYSCTLS}
    assert not machine.state.machine_before.exists()


def test_a_second_prepare_in_the_same_boot_keeps_the_settings_from_before_the_cluster(machine: Machine) -> None:
    host.prepare(machine.state)
    host.prepare(machine.state)  # the bridge was deleted: prepared again, the settings are ours now
    host.restore(machine.state)
    assert machine.get("net/ipv4/ip_forward") == "0"


def test_after_a_reboot_what_others_set_before_the_cluster_is_kept(machine: Machine) -> None:
    host.prepare(machine.state)
    machine.boot("second-boot", {name: "0" for name in host.SYSCTLS})
    machine.set("net/ipv4/ip_forward", "1")  # Docker, started at boot
    host.prepare(machine.state)
    machine.set("vm/overcommit_memory", "1")
    host.restore(machine.state)
    assert machine.get("net/ipv4/ip_forward") == "1"
    assert machine.get("vm/overcommit_memory") == "0"
