"""Finding and removing mounts under a build directory before anything there is deleted.

A chroot build mounts /proc inside its rootfs; deleting that tree while /proc (or any bind
mount) is still there would reach into the host, so cleanup unmounts first and refuses to go on
if something stays mounted.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from tools.errors import SetupError


def mounts_below(root: Path) -> list[Path]:
    """Mount points at or below `root`, as the kernel lists them."""
    resolved = root.resolve()
    points = []
    with open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            point = Path(line.split()[4].encode().decode("unicode_escape"))  # "\040" is a space
            if point == resolved or resolved in point.parents:
                points.append(point)
    return points


def unmount_below(root: Path) -> None:
    """Unmount everything at or below `root`, deepest first; raise if anything stays mounted."""
    for point in sorted(mounts_below(root), key=lambda p: len(p.parts), reverse=True):
        if subprocess.run(["umount", str(point)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "--lazy", str(point)], capture_output=True)
    remaining = mounts_below(root)
    if remaining:
        raise SetupError(f"could not unmount {', '.join(map(str, remaining))}; unmount it by hand, "
                         "then delete the directory")
