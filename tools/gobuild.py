"""Cached, offline-friendly builds of Go binaries from pinned module versions.

No registry we can reach ships the binaries this project needs (Pulumi CLI, its Kubernetes
provider, Kubernetes components), but the Go module proxy serves their sources. So each binary
is built once from a small wrapper module in the repo (a go.mod that pins the upstream module,
its go.sum, and the `replace` lines upstream needs) and kept under the cache root, keyed by
everything that changes the result.

Public API:

    GoBuild(name, version, module_dir, binaries, ldflags="", tags=(), env={}, prepare=None)
        What to build. `binaries` maps an output file name to a Go package path (built with the
        module in `module_dir`). `prepare`, if given, is called with an empty scratch directory
        and returns the directory to build in instead of `module_dir` (for upstream modules whose
        main package needs generated files that the module zip lacks); the key still hashes
        `module_dir`'s go.mod and go.sum, so keep the pins there.
    ensure(build) -> Path
        The bin directory holding every binary of `build`; builds it first if it is not cached.
    lookup(build) -> Path | None
        The cached bin directory, or None; never builds (for tasks that only need a path).
        None also when `go` is missing, since the Go version is part of the key.
    copy_module_source(module, version, dest) -> Path
        A writable copy of module@version from the module cache (downloaded if needed), for
        `prepare` hooks that must add or patch files before building.

Cache layout: CACHE_ROOT/toolchain/<name>-<version>-<key>/bin, where <key> hashes the name,
version, go.mod, go.sum, binaries, flags, env and the Go version/platform. A build runs in a
temp directory beside it and is renamed into place only when complete, so an interrupted build
leaves nothing that `lookup` would take for a result.

Problems the user can fix (no `go`, no access to the module proxy, a failing build) raise
tools.errors.SetupError with what to do.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from tools.errors import SetupError
from tools.paths import CACHE_ROOT
from tools.progress import step

BUILDS_DIR: Path = CACHE_ROOT / "toolchain"
TEMP_MARK = ".partial-"
GO_INSTALL_HINT = (
    "`go` was not found on PATH; the project builds its tools from Go sources. Install Go 1.21 "
    "or newer from the official release tarball (e.g. into /usr/local/go) and add its bin "
    "directory to PATH (Debian 12's golang-go is 1.19, too old). A module that needs a newer Go "
    "gets that toolchain through the Go module proxy by itself (GOTOOLCHAIN=auto)."
)
# go's own wording when it cannot reach the module proxy (or the proxy refuses a version).
PROXY_FAILURE = re.compile(
    r"dial tcp|no such host|i/o timeout|connection refused|network is unreachable"
    r"|TLS handshake timeout|proxyconnect|reading https?://\S+: \d{3}|GOPROXY=off"
)


@dataclass(frozen=True)
class GoBuild:
    """A set of Go binaries built together from one wrapper module at pinned versions."""

    name: str
    version: str
    module_dir: Path
    binaries: Mapping[str, str]
    ldflags: str = ""
    tags: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    prepare: Callable[[Path], Path] | None = None

    def go_env(self) -> dict[str, str]:
        """The environment every go command of this build runs with."""
        return {**os.environ, **self.env}


def ensure(build: GoBuild) -> Path:
    """Return the bin directory of `build`, building it first when it is not cached."""
    found = lookup(build)
    if found is not None:
        return found
    final = _build_dir(build)
    final.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_temps(final)
    scratch = Path(tempfile.mkdtemp(prefix=f"{final.name}{TEMP_MARK}{os.getpid()}-", dir=final.parent))
    scratch.chmod(0o755)  # mkdtemp's 0700 would hide the published build from other users
    try:
        source_dir = build.module_dir
        if build.prepare:
            with step(f"prepare {build.name} {build.version} source"):
                source_dir = build.prepare(scratch / "src")
        for binary, package in build.binaries.items():
            with step(f"go build {build.name} {build.version}: {binary}"):
                _go_build(build, source_dir, package, scratch / "bin" / binary)
        shutil.rmtree(scratch / "src", ignore_errors=True)
        _publish(scratch, final)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return final / "bin"


def lookup(build: GoBuild) -> Path | None:
    """Return the cached bin directory of `build` if it is complete, else None; never builds."""
    if shutil.which("go", path=build.go_env().get("PATH")) is None:
        return None
    bin_dir = _build_dir(build) / "bin"
    complete = all((bin_dir / binary).is_file() for binary in build.binaries)
    return bin_dir if complete else None


def copy_module_source(module: str, version: str, dest: Path) -> Path:
    """Copy module@version out of the read-only Go module cache into `dest`, writable."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    download = json.loads(_run_go(["mod", "download", "-json", f"{module}@{version}"], dest.parent, os.environ))
    shutil.copytree(download["Dir"], dest, copy_function=shutil.copyfile)
    for directory, _, _ in os.walk(dest):
        os.chmod(directory, 0o755)
    return dest


def _build_dir(build: GoBuild) -> Path:
    return BUILDS_DIR / f"{build.name}-{build.version}-{cache_key(build)}"


def cache_key(build: GoBuild) -> str:
    """A short hash of everything that changes the built binaries."""
    digest = hashlib.sha256()
    inputs = {
        "name": build.name,
        "version": build.version,
        "binaries": sorted(build.binaries.items()),
        "ldflags": build.ldflags,
        "tags": list(build.tags),
        "env": sorted(build.env.items()),
        "go": _go_identity(build.module_dir, tuple(sorted(build.env.items()))),
    }
    digest.update(json.dumps(inputs, sort_keys=True).encode())
    for pinned in ("go.mod", "go.sum"):
        digest.update((build.module_dir / pinned).read_bytes())
    return digest.hexdigest()[:16]


@cache
def _go_identity(module_dir: Path, env: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """Go version and target platform that a build in `module_dir` would use."""
    out = _run_go(["env", "-json", "GOVERSION", "GOOS", "GOARCH", "GOAMD64"], module_dir, {**os.environ, **dict(env)})
    return json.loads(out)


def _go_build(build: GoBuild, source_dir: Path, package: str, output: Path) -> None:
    # Reproducible: no local paths, and no VCS stamp of whatever repo holds the wrapper module.
    args = ["build", "-trimpath", "-buildvcs=false", "-o", str(output)]
    if build.ldflags:
        args += ["-ldflags", build.ldflags]
    if build.tags:
        args += ["-tags", ",".join(build.tags)]
    _run_go([*args, package], source_dir, build.go_env())


def _run_go(args: list[str], cwd: Path, env: Mapping[str, str]) -> str:
    """Run go, turning a missing toolchain or an unreachable proxy into a SetupError."""
    go = shutil.which("go", path=env.get("PATH"))
    if go is None:
        raise SetupError(GO_INSTALL_HINT)
    result = subprocess.run([go, *args], check=False, cwd=cwd, env=dict(env), capture_output=True, text=True)
    if result.returncode == 0:
        return result.stdout
    output = f"{result.stderr}\n{result.stdout}".strip()  # `go mod download -json` reports on stdout
    tail = "\n".join(output.splitlines()[-20:])
    if PROXY_FAILURE.search(output):
        raise SetupError(
            f"Go could not download module sources (GOPROXY={env.get('GOPROXY') or 'default'}).\n{tail}\n"
            "The Go module proxy must be reachable on first build; after that the module cache "
            "and the build cache are enough."
        )
    raise SetupError(f"`go {' '.join(args)}` failed in {cwd}:\n{tail}")


def _publish(scratch: Path, final: Path) -> None:
    """Move a finished build into place; if another process won the race, keep theirs."""
    try:
        scratch.rename(final)
    except OSError:
        if not final.is_dir():
            raise


def _remove_abandoned_temps(final: Path) -> None:
    """Delete temp dirs of this build left by processes that died mid-build."""
    for temp in final.parent.glob(f"{final.name}{TEMP_MARK}*"):
        pid = temp.name.removeprefix(f"{final.name}{TEMP_MARK}").split("-", 1)[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(temp, ignore_errors=True)
