"""The Pulumi toolchain this project runs with: what the machine already has, else our builds.

Public API:

    resolve_toolchain(pulumi_home, build) -> Toolchain
        Each piece in order: installed and compatible, else the cached build, else (with `build`)
        a build from pinned Go sources. The pulumi CLI: a `pulumi` on PATH that the Python SDK
        accepts. The Kubernetes provider: the pinned plugin already under `pulumi_home`, or under
        the user's own PULUMI_HOME, or on PATH (reporting the pinned version). Whatever is chosen
        for the provider is installed as a real plugin into `pulumi_home`, so the engine finds it
        where Pulumi keeps plugins. The Python language host: upstream's where the CLI finds one,
        else the project's own (tools.langhost), installed into `pulumi_home`.
        `Toolchain.report()` says which one is used for each piece and why.
    lookup_toolchain(pulumi_home) -> Path | None
        The bin directory to put first on PATH (it holds `pulumi` only; its parent is a root for
        `pulumi.automation.PulumiCommand(root=...)`) if nothing needs building, else None.

The CLI and the provider are built from separate wrapper modules (pulumi/ and kubernetes/ beside
this file), each keeping the dependency graph its upstream tested.
"""
from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass
from pathlib import Path

from tools import gobuild
from tools.errors import SetupError
from tools.gobuild import GoBuild
from tools.toolchain import cli, plugin
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
    # Without the version stamp `pulumi version` prints nothing and the Python Automation API refuses the CLI.
    ldflags=f"-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v{PULUMI_VERSION}",
    env={"CGO_ENABLED": "0"},
)

KUBERNETES_PROVIDER = GoBuild(
    name="pulumi-resource-kubernetes",
    version=KUBERNETES_PROVIDER_VERSION,
    module_dir=PINNED_MODULE_DIR,
    binaries={plugin.BINARY: MAIN_PACKAGE},
    ldflags=f"-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version={KUBERNETES_PROVIDER_VERSION}",
    env={"CGO_ENABLED": "0"},
    prepare=prepare_provider_source,
)

INSTALLED, CACHED, BUILT, MISSING, OURS = "installed", "cached build", "built now", "missing", "ours"


@dataclass(frozen=True)
class Piece:
    """Which binary the toolchain uses for one piece, where it came from, and why."""

    name: str
    source: str
    """INSTALLED, CACHED, BUILT or MISSING."""
    path: Path | None
    reason: str


@dataclass(frozen=True)
class Toolchain:
    cli: Piece
    provider: Piece
    host: Piece

    @property
    def bin_dir(self) -> Path | None:
        """A directory holding only `pulumi` (the chosen CLI), or None while one is missing."""
        if MISSING in (self.cli.source, self.provider.source, self.host.source) or self.cli.path is None:
            return None
        if self.cli.source == INSTALLED:
            return cli.linked_root(self.cli.path, gobuild.BUILDS_DIR / "pulumi-cli") / "bin"
        return self.cli.path.parent

    def report(self) -> str:
        """One block per piece: its name, which one is used, the file, and why."""
        lines = []
        for piece in (self.cli, self.provider, self.host):
            lines.append(f"{piece.name:<20} {piece.source:<13} {piece.path or ''}".rstrip())
            lines.append(f"{'':<20} {piece.reason}")
        return "\n".join(lines)


def resolve_toolchain(pulumi_home: Path, build: bool) -> Toolchain:
    """Choose each piece (see the module docstring); build only with `build`."""
    chosen_cli = _resolve_cli(build)
    return Toolchain(chosen_cli, _resolve_provider(chosen_cli.path, pulumi_home, build),
                     _resolve_host(chosen_cli.path, pulumi_home))


def lookup_toolchain(pulumi_home: Path) -> Path | None:
    """The toolchain's bin dir if nothing needs building, else None; never builds."""
    return resolve_toolchain(pulumi_home, build=False).bin_dir


def _resolve_cli(build: bool) -> Piece:
    name = "pulumi CLI"
    sdk = f"the Python SDK (pulumi {importlib.metadata.version('pulumi')})"
    installed = cli.find_installed(gobuild.BUILDS_DIR)
    if installed is not None and installed.refusal is None:
        return Piece(name, INSTALLED, installed.path, f"v{installed.version} on PATH, accepted by {sdk}")
    refused = "no pulumi on PATH"
    if installed is not None:
        refused = f"refused {installed.path} on PATH: {installed.refusal}"
    cached = gobuild.lookup(PULUMI_CLI)
    if cached is not None:
        return Piece(name, CACHED, cached / "pulumi", f"{refused}; v{PULUMI_VERSION} built earlier from pinned Go sources")
    if not build:
        return Piece(name, MISSING, None, f"{refused}; not built yet: run `invoke toolchain`")
    built = gobuild.ensure(PULUMI_CLI)
    return Piece(name, BUILT, built / "pulumi", f"{refused}; v{PULUMI_VERSION} built from pinned Go sources")


def _resolve_provider(pulumi: Path | None, pulumi_home: Path, build: bool) -> Piece:
    name = "kubernetes provider"
    plugin_name = f"plugin resource-kubernetes-v{KUBERNETES_PROVIDER_VERSION}"
    ready = plugin.plugin_binary(pulumi_home)
    if ready is not None:
        return Piece(name, INSTALLED, ready, f"{plugin_name} already installed in {pulumi_home}")
    source, binary, reason = _provider_source(build)
    if source == MISSING or binary is None:
        return Piece(name, MISSING, None, f"{reason}; run `invoke toolchain`")
    if pulumi is None:
        return Piece(name, MISSING, None, f"{reason}; installing it as a plugin needs the pulumi CLI")
    installed = plugin.install(pulumi, binary, pulumi_home)
    return Piece(name, source, installed, f"{reason}; installed as {plugin_name} in {pulumi_home}")


def _provider_source(build: bool) -> tuple[str, Path | None, str]:
    """Where the provider binary comes from: (source, binary, why)."""
    version = KUBERNETES_PROVIDER_VERSION
    user_home = plugin.user_pulumi_home()
    users = plugin.plugin_binary(user_home)
    if users is not None:
        return INSTALLED, users, f"{version} found in your PULUMI_HOME {user_home}"
    reason = f"not in {user_home}"
    on_path = plugin.find_on_path(gobuild.BUILDS_DIR)
    if on_path is not None:
        try:
            reported = plugin.reported_version(on_path)
        except SetupError as broken:
            reported = f"unknown ({broken})"
        if reported == version:
            return INSTALLED, on_path, f"{version} found on PATH at {on_path}"
        reason += f"; refused {on_path} on PATH: it reports version {reported}, the SDK needs {version}"
    cached = gobuild.lookup(KUBERNETES_PROVIDER)
    if cached is not None:
        return CACHED, cached / plugin.BINARY, f"{reason}; {version} built earlier from pinned Go sources"
    if not build:
        return MISSING, None, f"{reason}; not built yet"
    return BUILT, gobuild.ensure(KUBERNETES_PROVIDER) / plugin.BINARY, f"{reason}; {version} built from pinned Go sources"


def _resolve_host(pulumi: Path | None, pulumi_home: Path) -> Piece:
    name = "language host"
    if pulumi is None:
        return Piece(name, MISSING, None, "chosen with the pulumi CLI, which is missing")
    # Imported here: the host's gRPC service costs a fifth of a second, and every task imports this.
    from tools.langhost import install
    from tools.langhost.install import is_ours

    host = install(pulumi_home, pulumi=pulumi)
    if is_ours(host):
        return Piece(name, OURS, host, "no upstream pulumi-language-python on PATH or beside pulumi: "
                                       f"the project's own (tools/langhost), installed in {pulumi_home}")
    return Piece(name, INSTALLED, host, "upstream pulumi-language-python, where the CLI finds it")
