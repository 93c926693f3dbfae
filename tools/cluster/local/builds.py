"""The cluster's binaries: Kubernetes, etcd, CoreDNS and pause, built from pinned Go modules.

The wrapper modules live in tools/kube_build/<name>/ (go.mod pins the upstream version, and for
Kubernetes the `replace` lines for its staging modules); tools.gobuild caches the results.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tools import gobuild
from tools.gobuild import GoBuild
from tools.paths import REPO

MODULES = REPO / "tools" / "kube_build"
KUBERNETES_VERSION = "v1.34.4"
ETCD_VERSION = "v3.6.16"
COREDNS_VERSION = "v1.14.7"
PAUSE_VERSION = "1.0"
STATIC = {"CGO_ENABLED": "0"}


def _kubernetes_ldflags(version: str) -> str:
    """Stamp the version that /version, `kubectl version` and the node status report."""
    major, minor = version.removeprefix("v").split(".")[:2]
    fields = {
        "gitVersion": version,
        "gitCommit": "",  # built from module zips: there is no commit to name
        "gitMajor": major,
        "gitMinor": minor,
        "gitTreeState": "clean",
        "buildDate": "1970-01-01T00:00:00Z",
    }
    stamps = [
        f"-X {package}.{name}={value}"
        for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")
        for name, value in fields.items()
    ]
    return " ".join(["-s", "-w", *stamps])


KUBERNETES = GoBuild(
    name="kubernetes",
    version=KUBERNETES_VERSION,
    module_dir=MODULES / "kubernetes",
    binaries={"kube": "."},
    ldflags=_kubernetes_ldflags(KUBERNETES_VERSION),
    tags=("selinux", "notest", "grpcnotrace"),
    env=STATIC,
)


def _stripped_static(name: str, version: str) -> GoBuild:
    """etcd, CoreDNS and pause: one main package at the root of tools/kube_build/<name>."""
    return GoBuild(name=name, version=version, module_dir=MODULES / name, binaries={name: "."},
                   ldflags="-s -w", env=STATIC)


ETCD = _stripped_static("etcd", ETCD_VERSION)
COREDNS = _stripped_static("coredns", COREDNS_VERSION)
PAUSE = _stripped_static("pause", PAUSE_VERSION)

ALL = (KUBERNETES, ETCD, COREDNS, PAUSE)


@dataclass(frozen=True)
class Binaries:
    """Paths of the built executables."""

    kube: Path
    """The multi-call binary: `kube kube-apiserver ...`, `kube kubelet ...`, `kube kubectl ...`."""
    etcd: Path
    coredns: Path
    pause: Path


def ensure_binaries() -> Binaries:
    """Build whatever is not cached yet (the first Kubernetes build takes a while) and return paths."""
    return Binaries(
        kube=gobuild.ensure(KUBERNETES) / "kube",
        etcd=gobuild.ensure(ETCD) / "etcd",
        coredns=gobuild.ensure(COREDNS) / "coredns",
        pause=gobuild.ensure(PAUSE) / "pause",
    )
