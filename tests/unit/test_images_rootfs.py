"""The pieces of an image's filesystem that need no chroot: apt sources, stripping, copied files."""
from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest

from tools.errors import SetupError
from tools.images import cache, debian
from tools.images.files import CopiedFiles

HOST_SOURCES = """\
Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
"""
OTHER_SOURCES = """\
Types: deb
URIs: https://deb.nodesource.com/node_20.x
Suites: nodistro
Components: main
"""


@pytest.fixture
def sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(debian, "HOST_SOURCES", tmp_path)
    return tmp_path


def test_only_the_suites_sources_are_taken_and_the_mirror_is_the_suites_own(sources: Path) -> None:
    (sources / "debian.sources").write_text(HOST_SOURCES)
    (sources / "nodesource.sources").write_text(OTHER_SOURCES)
    taken = debian.debian_sources()
    assert "mirror.example/debian-security" in taken and "nodesource" not in taken
    assert "snapshot" not in taken, "comments are not copied"
    assert debian.debian_mirror() == "http://mirror.example/debian"


def test_no_debian_source_is_a_setup_error(sources: Path) -> None:
    (sources / "nodesource.sources").write_text(OTHER_SOURCES)
    with pytest.raises(SetupError, match="serves Debian bookworm"):
        debian.debian_sources()


def test_strip_keeps_copyright_files_and_empties_build_litter(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    files = {
        "usr/share/doc/curl/copyright": "license", "usr/share/doc/curl/changelog.gz": "x",
        "usr/share/doc/empty/README": "x", "usr/share/man/man1/curl.1.gz": "x",
        "var/lib/apt/lists/mirror_Packages": "x", "var/log/apt/history.log": "x",
        "dev/null": "x", "etc/resolv.conf": "nameserver 10.255.255.53\n", "etc/hostname": "vm\n",
        "var/lib/dpkg/status-old": "x", "var/lib/dpkg/status": "kept",
        "var/cache/debconf/config.dat-old": "x", "var/cache/debconf/config.dat": "kept",
        "var/cache/ldconfig/aux-cache": "x",
    }
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(content)
    debian.strip_for_container(root)
    left = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert left == ["etc/hostname", "etc/resolv.conf", "usr/share/doc/curl/copyright",
                    "var/cache/debconf/config.dat", "var/lib/dpkg/status"]
    assert (root / "etc/resolv.conf").read_text() == ""
    assert (root / "var/log/apt").is_dir() and (root / "dev").is_dir()
    assert not (root / "usr/share/doc/empty").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="setting owners needs root")
def test_copied_files_are_roots_with_normal_modes_and_writable_dirs_are_the_users(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "IMAGES_CACHE", tmp_path / "cache")
    source = tmp_path / "pkg"
    (source / "__pycache__").mkdir(parents=True)
    (source / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"\0")
    (source / "mod.py").write_text("x = 1\n")
    (source / "mod.py").chmod(0o664)
    (source / "run.sh").write_text("#!/bin/sh\n")
    (source / "run.sh").chmod(0o775)
    layer = tmp_path / "layer.tar"
    CopiedFiles(((source, "/app/pkg"),), writable=("/var/lib/app",), owner=(10001, 10001)).write(layer)
    with tarfile.open(layer) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert "app/pkg/__pycache__" not in members
    assert (members["app/pkg/mod.py"].mode, members["app/pkg/mod.py"].uid) == (0o644, 0)
    assert members["app/pkg/run.sh"].mode == 0o755
    assert (members["var/lib/app"].uid, members["var/lib/app"].mode) == (10001, 0o750)
    assert (members["var/lib"].uid, members["var/lib"].mode) == (0, 0o755)
