"""One screen on what this machine has and what the project will do with it (`invoke doctor`).

Each row is a tool the project may use: what was found, or the one command that gets it. The
last rows say which cluster driver and image builder setup and the tasks will use. Nothing is
built or started; only the provider plugin may be installed into the project's PULUMI_HOME from
a binary already on the machine (the toolchain's lookup does that).
"""
from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tools import cluster
from tools.errors import SetupError
from tools.setup_plan import IMAGE_BUILDER, SetupPlan
from tools.toolchain import MISSING, Piece, resolve_toolchain

GO_DOWNLOAD = ("curl -fsSL https://go.dev/dl/go1.26.8.linux-amd64.tar.gz | tar -C /usr/local -xz"
               " && export PATH=/usr/local/go/bin:$PATH")


@dataclass(frozen=True)
class Row:
    name: str
    found: str | None
    """What is there (a path, a version); None when it is missing."""
    get_it: str = ""
    """The one command that gets it, shown when it is missing."""
    note: str = ""
    """Why it matters, shown when it is missing."""
    status: str = "ok"

    def line(self) -> str:
        if self.found is not None:
            return f"{self.name:<20} {self.status:<8} {self.found}"
        return f"{self.name:<20} {'missing':<8} -> {self.get_it}" + (f"\n{'':<30}({self.note})" if self.note else "")


def rows(pulumi_home: Path) -> list[Row]:
    toolchain = resolve_toolchain(pulumi_home, build=False)
    plan = SetupPlan(driver=cluster.choose_driver().name)
    docker = _first_line(["docker", "version", "--format", "{{.Server.Version}}"])
    kind = _first_line(["kind", "version"])
    return [
        _piece_row(toolchain.cli),
        _piece_row(toolchain.host),
        _piece_row(toolchain.provider),
        Row("kubectl", _kubectl(), "invoke cluster.up", "the local driver builds one of the cluster's version"),
        Row("docker", docker and f"engine {docker}", "curl -fsSL https://get.docker.com | sh",
            "used by the kind driver only" + ("; the CLI is there but no engine answers"
                                              if docker is None and shutil.which("docker") else "")),
        Row("kind", kind, "go install sigs.k8s.io/kind@v0.33.0", "used by the kind driver only"),
        Row("go", _first_line(["go", "version"]), GO_DOWNLOAD,
            "builds what is not installed or cached: CLI, provider, local cluster"),
        Row("root", "yes" if os.geteuid() == 0 else None, "sudo ./setup.sh",
            "needed for: " + "; ".join(plan.root_steps)),
        Row("debian packages", "all present" if not plan.missing else None,
            f"apt-get install {' '.join(plan.missing)}", f"what the {plan.driver} path uses"),
        Row("cluster driver", f"{plan.driver} ({_why_driver(plan.driver)})", status="uses"),
        Row("image builder", IMAGE_BUILDER, status="uses"),
    ]


def report(pulumi_home: Path) -> str:
    return "\n".join(row.line() for row in rows(pulumi_home))


def _piece_row(piece: Piece) -> Row:
    if piece.source == MISSING:
        return Row(piece.name, None, "invoke toolchain", piece.reason)
    return Row(piece.name, f"{piece.source}: {piece.path}")


def _kubectl() -> str | None:
    try:
        command = cluster.kubectl_command()
    except SetupError:
        return None
    return " ".join(command) if len(command) > 1 else shutil.which(command[0])


def _why_driver(driver: str) -> str:
    if os.environ.get(cluster.DRIVER_ENV, "").strip():
        return f"set by {cluster.DRIVER_ENV}"
    return "a Docker engine and kind answer" if driver == "kind" else "no Docker engine with kind here"


def _first_line(command: Sequence[str]) -> str | None:
    """The first line a command prints when it exists and succeeds, else None."""
    try:
        result = subprocess.run(list(command), capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = result.stdout.strip().splitlines()
    return lines[0] if result.returncode == 0 and lines else None
