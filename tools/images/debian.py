"""Debian root filesystems for images, made with debootstrap and apt-get in a chroot.

The minbase system of the suite is bootstrapped once per mirror and kept under the cache; each
image's root layer copies it, installs that image's packages with `apt-get` inside a chroot
(with /proc mounted, and always unmounted again), runs its setup commands, strips what a
container never needs (apt lists and caches, docs except copyright files, man pages, logs,
device nodes) and is tarred with `archive.write_layer`.

Packages come from the Debian mirror this machine's apt already uses
(/etc/apt/sources.list.d/*.sources), the only package source the project can reach.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tools.errors import SetupError
from tools.images.archive import write_layer
from tools.images.cache import IMAGES_CACHE, key_of, publish, scratch_dir
from tools.images.mounts import unmount_below
from tools.progress import step

SUITE = "bookworm"
VARIANT = "minbase"
HOST_SOURCES = Path("/etc/apt/sources.list.d")
CHROOT_ENV = {
    "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
    "DEBIAN_FRONTEND": "noninteractive",
    "LC_ALL": "C.UTF-8",
    "HOME": "/root",
}
#: Emptied after installing: the runtime provides /dev, /proc, /sys; the rest is build litter.
EMPTIED = ("dev", "proc", "sys", "tmp", "var/tmp", "var/lib/apt/lists", "var/cache/apt",
           "usr/share/man", "usr/share/info", "usr/share/locale", "usr/share/lintian")
#: Backups of dpkg's and debconf's databases, and ldconfig's cache of library file times:
#: never needed in a container, and different on every build.
STALE = ("var/lib/dpkg/*-old", "var/cache/debconf/*-old", "var/cache/ldconfig/aux-cache")
#: Files the runtime bind-mounts over; they must exist, and must not leak the build host's.
TRUNCATED = ("etc/resolv.conf", "etc/hostname")


@dataclass(frozen=True)
class DebianRootfs:
    """A layer holding the suite's minbase system plus `packages` and the effect of `setup`.

    `setup` commands run in the chroot after the packages are installed, as root, in order
    (e.g. creating the image's runtime user).
    """

    packages: tuple[str, ...]
    setup: tuple[tuple[str, ...], ...] = ()

    def inputs(self) -> object:
        return {"suite": SUITE, "variant": VARIANT, "sources": debian_sources(),
                "packages": sorted(self.packages), "setup": self.setup}

    def write(self, dest: Path) -> None:
        base = bootstrapped_base()
        with scratch_dir("rootfs") as scratch:
            root = scratch / "rootfs"
            _run(["cp", "-a", "--reflink=auto", str(base), str(root)], "copying the base system")
            with step(f"installing {' '.join(self.packages)} in the {SUITE} rootfs"):
                install_packages(root, self.packages, self.setup)
            strip_for_container(root)
            with step("writing the rootfs layer"):
                write_layer(root, dest)


def debian_sources() -> str:
    """The deb822 stanzas of this machine's apt sources that serve the suite (and its updates)."""
    stanzas = []
    for path in sorted(HOST_SOURCES.glob("*.sources")):
        for stanza in path.read_text().split("\n\n"):
            fields = _deb822_fields(stanza)
            suites = fields.get("Suites", "").split()
            if ("deb" in fields.get("Types", "").split() and fields.get("Enabled", "yes") != "no"
                    and any(suite.startswith(SUITE) for suite in suites)):
                stanzas.append("\n".join(line for line in stanza.strip().splitlines()
                                         if not line.startswith("#")))
    if not stanzas:
        raise SetupError(f"no apt source in {HOST_SOURCES}/*.sources serves Debian {SUITE}; "
                         "add one (deb822 format) so images can install packages")
    return "\n\n".join(stanzas) + "\n"


def debian_mirror() -> str:
    """The URI of the source that serves the suite itself (what debootstrap needs)."""
    for stanza in debian_sources().split("\n\n"):
        fields = _deb822_fields(stanza)
        if SUITE in fields.get("Suites", "").split():
            return fields["URIs"].split()[0]
    raise SetupError(f"no apt source in {HOST_SOURCES} serves the suite {SUITE!r} itself")


def _deb822_fields(stanza: str) -> dict[str, str]:
    fields = {}
    for line in stanza.splitlines():
        name, sep, value = line.partition(":")
        if sep and not line.startswith((" ", "#")):
            fields[name.strip()] = value.strip()
    return fields


def bootstrapped_base() -> Path:
    """The suite's minbase system, bootstrapped once per mirror and kept as a directory."""
    mirror = debian_mirror()
    dest = IMAGES_CACHE / "debootstrap" / key_of(SUITE, VARIANT, mirror)
    if dest.is_dir():
        return dest
    if not shutil.which("debootstrap"):
        raise SetupError("debootstrap is missing: apt-get install debootstrap")
    if os.geteuid() != 0:
        raise SetupError("building a Debian rootfs needs root (debootstrap and chroot)")
    with scratch_dir("debootstrap") as scratch, step(f"debootstrap {VARIANT} {SUITE} from {mirror}"):
        root = scratch / "rootfs"
        _run(["debootstrap", f"--variant={VARIANT}", SUITE, str(root), mirror], "debootstrap")
        return publish(root, dest)


def install_packages(root: Path, packages: Sequence[str], setup: Sequence[Sequence[str]]) -> None:
    """apt-get install `packages` (no recommends) in the chroot at `root`, then run `setup`."""
    (root / "etc/apt/sources.list").unlink(missing_ok=True)
    (root / "etc/apt/sources.list.d/debian.sources").write_text(debian_sources())
    shutil.copyfile("/etc/resolv.conf", root / "etc/resolv.conf")
    with _proc_mounted(root):
        _chroot(root, ["apt-get", "update", "-q"])
        _chroot(root, ["apt-get", "install", "-q", "-y", "--no-install-recommends", *packages])
        _chroot(root, ["apt-get", "clean"])
        for command in setup:
            _chroot(root, list(command))


def strip_for_container(root: Path) -> None:
    """Remove what a container never uses; keep each package's copyright file."""
    for relative in EMPTIED:
        _empty_dir(root / relative)
    for path in sorted((root / "var/log").rglob("*"), reverse=True):
        if path.is_file() or path.is_symlink():
            path.unlink()
    docs = root / "usr/share/doc"
    for path in sorted(docs.rglob("*"), reverse=True):
        if path.is_dir() and not path.is_symlink():
            if not any(path.iterdir()):
                path.rmdir()
        elif path.name != "copyright":
            path.unlink()
    for relative in TRUNCATED:
        (root / relative).write_text("")
    for pattern in STALE:
        for stale in root.glob(pattern):
            stale.unlink()


def _empty_dir(path: Path) -> None:
    if not path.is_dir():
        return
    for child in path.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


@contextmanager
def _proc_mounted(root: Path) -> Iterator[None]:
    """/proc mounted in the chroot for the block (Java's and dpkg's maintainer scripts need it)."""
    _run(["mount", "-t", "proc", "proc", str(root / "proc")], "mounting /proc in the chroot")
    try:
        yield
    finally:
        unmount_below(root)


def _chroot(root: Path, command: list[str]) -> None:
    _run(["chroot", str(root), *command], " ".join(command), env=CHROOT_ENV)


def _run(command: list[str], what: str, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()[-25:]
        raise SetupError(f"{what} failed (exit {result.returncode}):\n" + "\n".join(output))
