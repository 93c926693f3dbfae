"""The Pulumi engine binaries, built from pinned Go module sources and cached.

Public API:

    ensure_toolchain() -> Path
        A bin directory holding `pulumi` and `pulumi-resource-kubernetes` at the pinned versions
        (tools.toolchain.pins), building what is not cached yet. Put it first on PATH: the CLI
        then finds the provider there whatever PULUMI_HOME holds, and never downloads plugins.
        Its parent is an install root for `pulumi.automation.PulumiCommand(root=...)`.
    lookup_toolchain() -> Path | None
        The same directory if both binaries are already cached; never builds.

The CLI and the provider are built from separate wrapper modules (pulumi/ and kubernetes/ beside
this file), each keeping the dependency graph its upstream tested; the returned directory
links the two cached builds together.
"""
from __future__ import annotations

import hashlib
from contextlib import suppress
from pathlib import Path

from tools import gobuild
from tools.gobuild import GoBuild
from tools.toolchain.pins import KUBERNETES_PROVIDER_VERSION, PULUMI_VERSION
from tools.toolchain.provider_source import (
    MAIN_PACKAGE,
    PINNED_MODULE_DIR,
    prepare_provider_source,
)

PULUMI_CLI = GoBuild(
    name="pulumi",
    version=PULUMI_VERSION,
    module_dir=Path(__file__).resolve().parent / "pulumi",
    binaries={"pulumi": "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"},
    # Without the version stamp `pulumi version` prints nothing and the Automation API refuses the CLI.
    ldflags=f"-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v{PULUMI_VERSION}",
    env={"CGO_ENABLED": "0"},
)

KUBERNETES_PROVIDER = GoBuild(
    name="pulumi-resource-kubernetes",
    version=KUBERNETES_PROVIDER_VERSION,
    module_dir=PINNED_MODULE_DIR,
    binaries={"pulumi-resource-kubernetes": MAIN_PACKAGE},
    ldflags=f"-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version={KUBERNETES_PROVIDER_VERSION}",
    env={"CGO_ENABLED": "0"},
    prepare=prepare_provider_source,
)

BUILDS = (PULUMI_CLI, KUBERNETES_PROVIDER)


def ensure_toolchain() -> Path:
    """Return a bin dir with the pinned `pulumi` and `pulumi-resource-kubernetes`, building them if needed."""
    return _linked_bin_dir([gobuild.ensure(build) for build in BUILDS])


def lookup_toolchain() -> Path | None:
    """Return the toolchain bin dir if every binary is cached, else None; never builds."""
    cached = [bin_dir for bin_dir in map(gobuild.lookup, BUILDS) if bin_dir is not None]
    return _linked_bin_dir(cached) if len(cached) == len(BUILDS) else None


def _linked_bin_dir(build_bin_dirs: list[Path]) -> Path:
    """One directory of symlinks to the binaries of several cached builds, named by their paths.

    Each link is created once and never changes (a different set of builds gets a different
    directory), so concurrent or interrupted runs can only leave links that are already right.
    """
    digest = hashlib.sha256("\n".join(map(str, build_bin_dirs)).encode()).hexdigest()[:16]
    linked = gobuild.BUILDS_DIR / f"pulumi-{PULUMI_VERSION}+kubernetes-{KUBERNETES_PROVIDER_VERSION}-{digest}" / "bin"
    linked.mkdir(parents=True, exist_ok=True)
    for build_bin_dir in build_bin_dirs:
        for binary in build_bin_dir.iterdir():
            link = linked / binary.name
            if not link.is_symlink():
                with suppress(FileExistsError):  # another process linked the same target first
                    link.symlink_to(binary)
    return linked
