"""Which Python runs a Pulumi program, from Pulumi.yaml's `runtime.options`, as upstream's pip
toolchain chooses it.

`virtualenv` (relative to the project root, where Pulumi.yaml is) names the environment whose
python runs the program, with that environment activated (its bin first on PATH, VIRTUAL_ENV set,
PYTHONHOME dropped). Without it: $PULUMI_PYTHON_CMD, else python3, else python from PATH. Options
this host does not implement (the poetry and uv toolchains, a typechecker) are refused with a
message that says what to do, rather than ignored.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class InterpreterError(Exception):
    """The program's Python cannot be found or the options ask for something unsupported."""


@dataclass(frozen=True)
class Interpreter:
    python: Path
    env: dict[str, str]
    """The full environment a child process of this interpreter gets."""


def resolve(root_directory: str, options: Mapping[str, Any], environ: Mapping[str, str]) -> Interpreter:
    """The interpreter for a program whose Pulumi.yaml is in `root_directory`."""
    toolchain = options.get("toolchain", "pip")
    if toolchain != "pip":
        raise InterpreterError(
            f"runtime.options.toolchain {toolchain!r} is not supported by this project's Python "
            "language host (only pip); install Pulumi's own pulumi-language-python for it")
    if options.get("typechecker"):
        raise InterpreterError(
            f"runtime.options.typechecker {options['typechecker']!r} is not supported by this "
            "project's Python language host; remove it or install Pulumi's own pulumi-language-python")
    virtualenv = options.get("virtualenv")
    if virtualenv is None:
        return Interpreter(_python_from_path(environ), dict(environ))
    if not isinstance(virtualenv, str) or not virtualenv:
        raise InterpreterError("runtime.options.virtualenv in Pulumi.yaml must be a directory name")
    venv = Path(root_directory) / virtualenv
    python = venv / "bin" / "python"
    if not (python.is_file() and os.access(python, os.X_OK)):
        raise InterpreterError(
            f"the virtualenv {virtualenv!r} named in Pulumi.yaml (runtime.options) has no python "
            f"at {python}: create it with `python3 -m venv {venv} && {venv}/bin/pip install -r "
            f"{Path(root_directory) / 'requirements.txt'}` (./setup.sh does this)")
    return Interpreter(python, activated(venv, environ))


def activated(venv: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` as `source <venv>/bin/activate` would leave it."""
    env = {key: value for key, value in environ.items() if key != "PYTHONHOME"}
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = os.pathsep.join(filter(None, (str(venv / "bin"), environ.get("PATH"))))
    return env


def _python_from_path(environ: Mapping[str, str]) -> Path:
    if environ.get("PULUMI_PYTHON_CMD"):
        found = shutil.which(environ["PULUMI_PYTHON_CMD"], path=environ.get("PATH"))
        if found is None:
            raise InterpreterError(f"PULUMI_PYTHON_CMD={environ['PULUMI_PYTHON_CMD']!r} is not on PATH")
        return Path(found)
    for name in ("python3", "python"):
        found = shutil.which(name, path=environ.get("PATH"))
        if found is not None:
            return Path(found)
    raise InterpreterError("no python3 or python on PATH to run the program: install Python 3, or "
                           "name a virtualenv in Pulumi.yaml's runtime.options")
