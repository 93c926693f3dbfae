"""What ./setup.sh will do on this machine: the cluster driver and image builder it uses, the
Debian packages that path needs (only the missing ones are installed), and the steps that need
root. A command the machine already has from another package counts as present, so a container
runtime the machine has (e.g. Docker's containerd.io) is used as it is, never replaced.

    python -m tools.setup_plan packages   # the missing packages, space-separated (setup.sh installs them)
    python -m tools.setup_plan root       # the steps that need root, one a line
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cached_property

from tools.cluster import choose_driver
from tools.cluster.local.preflight import APT_PACKAGES, missing_packages

IMAGE_BUILDER = "offline (debootstrap + chroot from Debian's mirror, no Docker; as root)"
#: What each part of the setup needs from Debian: package -> commands or files of it that are used.
PACKAGES_BY_PURPOSE: dict[str, dict[str, tuple[str, ...]]] = {
    "the offline image builder": {"debootstrap": ("debootstrap",),
                                  "ca-certificates": ("/etc/ssl/certs/ca-certificates.crt",)},
    "the integration tests' ActiveMQ broker": {"openjdk-17-jre-headless": ("java",)},
    "the local cluster": APT_PACKAGES,
    # dockerd runs only where no Docker engine answers; containerd's ctr preloads the node image
    "the kind cluster": {"docker.io": ("dockerd",), "containerd": ("containerd", "ctr")},
}
DRIVER_PURPOSES = {"the local cluster": "local", "the kind cluster": "kind"}
"""Purposes that only one cluster driver has."""


@dataclass(frozen=True)
class SetupPlan:
    driver: str
    """The cluster driver tools.cluster.choose_driver picks here: "local" or "kind"."""

    @cached_property
    def packages(self) -> dict[str, tuple[str, ...]]:
        """Every Debian package this path uses (a cluster's only with its driver)."""
        return {package: needs for purpose, packages in PACKAGES_BY_PURPOSE.items()
                if DRIVER_PURPOSES.get(purpose, self.driver) == self.driver
                for package, needs in packages.items()}

    @cached_property
    def missing(self) -> list[str]:
        return missing_packages(self.packages)

    @cached_property
    def root_steps(self) -> list[str]:
        """The setup steps that cannot run without root."""
        steps = [f"apt-get install {' '.join(self.missing)}"] if self.missing else []
        steps.append(f"building the images: {IMAGE_BUILDER}")
        if self.driver == "local":
            steps.append("the local cluster (containerd, kubelet, a bridge and iptables rules)")
        else:
            steps.append("the kind cluster (a dockerd of the project's own where no Docker engine runs)")
        return steps


def plan() -> SetupPlan:
    return SetupPlan(driver=choose_driver().name)


def main(what: str) -> None:
    chosen = plan()
    if what == "packages":
        print(" ".join(chosen.missing))
    elif what == "root":
        print("\n".join(chosen.root_steps))
    else:
        raise SystemExit(f"usage: python -m tools.setup_plan packages|root (not {what!r})")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")
