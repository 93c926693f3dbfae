"""What the local driver needs from the machine, checked before anything is started.

The Debian packages are listed here so setup scripts install exactly these (`APT_PACKAGES`),
and `check` names the missing ones instead of letting a component fail obscurely later.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tools.cluster.commands import system_path
from tools.errors import SetupError

APT_PACKAGES: dict[str, tuple[str, ...]] = {
    "containerd": ("containerd", "ctr"),  # 1.6.20 in Debian 12
    "runc": ("runc",),
    "containernetworking-plugins": (
        "/usr/lib/cni/bridge",
        "/usr/lib/cni/host-local",
        "/usr/lib/cni/portmap",
        "/usr/lib/cni/loopback",
    ),
    "iptables": ("iptables", "iptables-save", "ip6tables", "ip6tables-save"),
    "iproute2": ("ip",),
    "busybox-static": ("/bin/busybox",),
    "openssl": ("openssl",),
    "util-linux": ("mountpoint", "umount"),
}
"""Debian package -> the commands or files of it that the local cluster uses."""


def check() -> None:
    """Raise SetupError naming every missing package, and the command that installs them."""
    if os.geteuid() != 0:
        raise SetupError("the local cluster runs containers and changes network settings: run it as root")
    missing = missing_packages(APT_PACKAGES)
    if missing:
        raise SetupError(f"missing packages for the local cluster: apt-get install {' '.join(missing)}")


def missing_packages(packages: dict[str, tuple[str, ...]]) -> list[str]:
    """The packages some of whose commands or files are absent. A command that another package
    provides counts as present (e.g. Docker's containerd.io provides containerd, ctr and runc),
    so a machine's own container runtime is used, never replaced."""
    return [package for package, needs in packages.items() if not all(_present(need) for need in needs)]


def _present(need: str) -> bool:
    return Path(need).exists() if need.startswith("/") else shutil.which(need, path=system_path()) is not None
