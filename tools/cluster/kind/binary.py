"""The kind command: the machine's own `kind` if it has one, else kind built from its Go module.

kind is a plain Go program (`sigs.k8s.io/kind`), so the Go module proxy is enough to get it:
tools/kube_build/kind/go.mod pins the version and tools.gobuild caches the binary by it.
"""

from __future__ import annotations

import shutil

from tools import gobuild
from tools.cluster.commands import system_path
from tools.cluster.local.builds import MODULES, STATIC
from tools.gobuild import GoBuild

KIND_VERSION = "v0.33.0"
KIND = GoBuild(
    name="kind",
    version=KIND_VERSION,
    module_dir=MODULES / "kind",
    binaries={"kind": "sigs.k8s.io/kind"},
    ldflags="-s -w",
    env=STATIC,
)


def kind_command() -> str:
    """Path of the kind to run: PATH's, else the cached build (built now if missing)."""
    return shutil.which("kind", path=system_path()) or str(gobuild.ensure(KIND) / "kind")
