"""Cache keys and atomic publishing for image builds.

A build's key is the hash of everything that goes into it (versions, package lists, file
contents, and the source of the code that builds it), so a result is rebuilt exactly when one of
its inputs changes. Results are made in a scratch directory on the cache's filesystem and renamed
into place, so an interrupted build never leaves a half-written result behind.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from fnmatch import fnmatch
from pathlib import Path

from tools.errors import SetupError
from tools.images.mounts import unmount_below
from tools.paths import CACHE_ROOT

IMAGES_CACHE = CACHE_ROOT / "images"
#: What running or testing code leaves beside it: never an input, never copied into an image.
LITTER = ("__pycache__", "*.pyc", ".pytest_cache")


def key_of(*inputs: object) -> str:
    """A short stable hash of JSON-serialisable inputs (paths hash by their content)."""
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=_content).encode()).hexdigest()[:32]


def _content(value: object) -> object:
    if isinstance(value, Path):
        return tree_digest(value)
    raise TypeError(f"cannot use {type(value).__name__} as a cache input")


def tree_digest(root: Path) -> str:
    """Hash of a file, or of a tree's relative paths, file modes and contents (not times, and
    not the LITTER that running the code leaves beside it)."""
    if not root.exists():
        raise SetupError(f"{root} does not exist, but an image is built from it")
    digest = hashlib.sha256()
    if root.is_file():
        paths = [root]
    else:
        paths = sorted(p for p in root.rglob("*") if not _is_litter(p.relative_to(root)))
    for path in paths:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        if path.is_symlink():
            digest.update(b"link:" + os.readlink(path).encode())
        elif path.is_file():
            digest.update(oct(path.stat().st_mode & 0o777).encode())
            digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def _is_litter(path: Path) -> bool:
    """Whether `path` is (inside) something that running or testing code leaves behind."""
    return any(fnmatch(part, pattern) for part in path.parts for pattern in LITTER)


@contextmanager
def scratch_dir(purpose: str) -> Iterator[Path]:
    """A fresh directory beside the cache (same filesystem, so results can be renamed in).

    It is deleted afterwards, after unmounting whatever a failed chroot build left mounted in it
    (debootstrap leaves /proc mounted when it fails); it is kept if that unmount fails.
    """
    parent = IMAGES_CACHE / "tmp"
    parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f"{purpose}-", dir=parent))
    try:
        yield path
    finally:
        unmount_below(path)
        shutil.rmtree(path, ignore_errors=True)


def publish(source: Path, dest: Path) -> Path:
    """Rename a finished result into the cache; if a concurrent build won the race, keep theirs."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(source, dest)
    except OSError:
        if not dest.exists():
            raise
    return dest
