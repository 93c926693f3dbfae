"""Layers of files from this machine: the project's code, or a distribution it fetched.

Files are copied owned by root with normalised modes (directories and executables 0755, other
files 0644), so the image is the same whoever checked the repository out and with which umask;
the runtime user can read them but not change them. Only the directories named `writable` belong
to the runtime user.
"""
from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from tools.images.archive import write_layer
from tools.images.cache import LITTER, scratch_dir

SKIPPED = shutil.ignore_patterns(*LITTER)


@dataclass(frozen=True)
class CopiedFiles:
    """Files and trees copied to absolute paths in the image, plus writable directories.

    `copies` maps a source path on this machine to its absolute path in the image; `writable`
    directories are created owned by `owner` (uid, gid).
    """

    copies: tuple[tuple[Path, str], ...]
    writable: tuple[str, ...] = ()
    owner: tuple[int, int] = (0, 0)

    def inputs(self) -> object:
        return {"copies": [list(copy) for copy in self.copies], "writable": list(self.writable),
                "owner": list(self.owner)}

    def write(self, dest: Path) -> None:
        with scratch_dir("files") as tree:
            for source, target in self.copies:
                copy_as_root(source, in_tree(tree, target))
            for directory in self.writable:
                make_owned_dir(in_tree(tree, directory), *self.owner)
            write_layer(tree, dest)


def in_tree(tree: Path, absolute: str) -> Path:
    """`absolute` (a path in the image) under the layer's tree."""
    return tree / absolute.lstrip("/")


def copy_as_root(source: Path, target: Path) -> None:
    """Copy a file or tree, owned by root with normalised modes, without bytecode caches."""
    _make_parents(target)
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True, ignore=SKIPPED)
    else:
        shutil.copy2(source, target)
    own_by_root(target)


def own_by_root(target: Path) -> None:
    """Make a file or tree root's, with modes 0755 (directories, executables) or 0644."""
    for path in [target, *(target.rglob("*") if target.is_dir() else ())]:
        os.lchown(path, 0, 0)
        if not path.is_symlink():
            executable = path.is_dir() or path.stat().st_mode & stat.S_IXUSR
            path.chmod(0o755 if executable else 0o644)


def make_owned_dir(path: Path, uid: int, gid: int) -> None:
    """A directory (mode 0750) owned by the runtime user, for data, logs and scratch files."""
    _make_parents(path)
    path.mkdir(exist_ok=True)
    os.chown(path, uid, gid)
    path.chmod(0o750)


def _make_parents(path: Path) -> None:
    """Parent directories as an image has them: root-owned, 0755."""
    missing = [parent for parent in path.parents if not parent.exists()]
    for parent in reversed(missing):
        parent.mkdir(mode=0o755)
        parent.chmod(0o755)
