"""The Pulumi CLI a user already has: found on PATH, accepted only if the Python SDK accepts it.

The SDK's Automation API checks the CLI version when it starts (`pulumi.automation.PulumiCommand`:
same major version as the SDK, at least its minimum); an installed CLI that check would refuse is
refused here too, before anything runs, with the SDK's own reason.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class InstalledCli:
    """A `pulumi` on PATH and what the SDK said about it."""

    path: Path
    version: str | None
    refusal: str | None
    """Why the SDK refuses it; None when it is accepted."""


def find_installed(own_builds: Path) -> InstalledCli | None:
    """The first `pulumi` on PATH that is not one of this project's builds (those are under
    `own_builds` and count as the cached build), with the SDK's verdict on its version."""
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        found = shutil.which("pulumi", path=directory) if directory else None
        if found is None or Path(found).resolve().is_relative_to(own_builds.resolve()):
            continue
        return _checked(Path(found))
    return None


def linked_root(cli: Path, links_dir: Path) -> Path:
    """A directory `R` with `R/bin/pulumi` -> `cli`: the layout `PulumiCommand(root=R)` expects,
    whatever the installed CLI's own layout is. The engine still finds the plugins bundled next
    to the real binary, since it resolves its own path."""
    real = cli.resolve()
    root = links_dir / _link_name(real)
    link = root / "bin" / "pulumi"
    if not link.is_symlink():
        link.parent.mkdir(parents=True, exist_ok=True)
        temp = link.with_name(f".pulumi-{os.getpid()}")
        temp.unlink(missing_ok=True)
        temp.symlink_to(real)
        temp.rename(link)  # atomic: a concurrent reader sees no link or the right one
    return root


def _link_name(real: Path) -> str:
    return str(real).strip("/").replace("/", "_")


def _checked(cli: Path) -> InstalledCli:
    """Run the SDK's own version check on `cli` (it runs `pulumi version`)."""
    # Imported here: every task imports this module, and importing Pulumi costs 0.3 s.
    from pulumi import automation as auto
    from pulumi.automation.errors import InvalidVersionError

    with tempfile.TemporaryDirectory(prefix="pulumi-cli-check-") as scratch:
        (Path(scratch) / "bin").mkdir()
        (Path(scratch) / "bin" / "pulumi").symlink_to(cli.resolve())
        try:
            command = auto.PulumiCommand(root=scratch)
        except InvalidVersionError as refused:
            return InstalledCli(cli, None, str(refused))
        except (OSError, subprocess.CalledProcessError) as broken:
            return InstalledCli(cli, None, f"`{cli} version` failed: {broken}")
    return InstalledCli(cli, str(command.version), None)
