"""A layer of pinned Python packages from PyPI, for the interpreter of the Debian rootfs.

pip runs on this machine (the project's own interpreter) but installs for the image's Python
version and platform, wheels only, without dependency resolution: the requirements file must
pin every package, so the layer holds exactly what the file says, as the Dockerfiles' `pip
install -r` does.
"""
from __future__ import annotations

import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tools.errors import SetupError
from tools.images.archive import write_layer
from tools.images.cache import scratch_dir
from tools.images.files import in_tree


@dataclass(frozen=True)
class PythonPackages:
    """The packages pinned in `requirements`, installed for `python_version` (the rootfs's)."""

    requirements: Path
    python_version: str

    @property
    def site_packages(self) -> str:
        """Where Debian's python3 looks for locally installed packages."""
        return f"/usr/local/lib/python{self.python_version}/dist-packages"

    def inputs(self) -> object:
        return {"requirements": self.requirements, "python": self.python_version,
                "machine": platform.machine()}

    def write(self, dest: Path) -> None:
        with scratch_dir("pip") as tree:
            target = in_tree(tree, self.site_packages)
            command = [
                sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                "--no-cache-dir", "--no-deps", "--no-compile", "--only-binary=:all:",
                "--implementation", "cp", "--python-version", self.python_version,
                "--platform", f"manylinux2014_{platform.machine()}",
                "--target", str(target), "--requirement", str(self.requirements),
            ]
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode != 0:
                raise SetupError(f"pip could not install {self.requirements} for the image:\n"
                                 f"{result.stderr.strip()}")
            shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts for this machine
            write_layer(tree, dest)
