"""Put the project's language host where the Pulumi CLI looks, unless an upstream one exists.

The CLI looks for `pulumi-language-python` on PATH, then beside the `pulumi` binary (symlinks
resolved), then in `$PULUMI_HOME/plugins/language-python-v<semver>/`. An upstream host in either
of the first two places is always preferred, and then nothing is installed (and a copy of ours
installed earlier is removed). Otherwise a small launcher goes into the plugin cache of the given
PULUMI_HOME: it runs tools.langhost.host from this checkout with the Python that has this
project's packages (the interpreter calling `install`, normally .venv/bin/python).
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from tools.langhost.version import HOST_VERSION
from tools.paths import REPO

EXECUTABLE = "pulumi-language-python"
#: A line every launcher carries, so only our own copies are ever replaced or removed.
MARKER = "# news-tracker language host (tools/langhost)"


def install(pulumi_home: Path, pulumi: Path | None = None, path: str | None = None,
            python: Path = Path(sys.executable)) -> Path:
    """The `pulumi-language-python` the CLI will use: an upstream one on `path` (default $PATH)
    or beside `pulumi` (default: the `pulumi` on `path`), else ours, installed into
    `pulumi_home`'s plugin cache."""
    search_path = os.environ.get("PATH", "") if path is None else path
    if pulumi is None:
        found = shutil.which("pulumi", path=search_path)
        pulumi = Path(found) if found else None
    upstream = find_upstream(pulumi, search_path)
    plugins = pulumi_home / "plugins"
    for stale in _our_installs(plugins):
        if upstream is not None or stale.parent.name != f"language-python-v{HOST_VERSION}":
            shutil.rmtree(stale.parent)
    if upstream is not None:
        return upstream
    return _write_launcher(plugins / f"language-python-v{HOST_VERSION}" / EXECUTABLE, python)


def find_upstream(pulumi: Path | None, path: str) -> Path | None:
    """An upstream host where the CLI looks before its plugin cache: on `path`, or beside `pulumi`."""
    candidates = [Path(directory) / EXECUTABLE for directory in path.split(os.pathsep) if directory]
    if pulumi is not None:
        candidates.append(pulumi.resolve().parent / EXECUTABLE)
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK) and not is_ours(candidate):
            return candidate
    return None


def is_ours(executable: Path) -> bool:
    try:
        with executable.open("rb") as head:
            return MARKER.encode() in head.read(1024)
    except OSError:
        return False


def launcher_text(python: Path) -> str:
    return f"""#!{python}
{MARKER}, installed by tools.langhost.install
# because no upstream pulumi-language-python was found on PATH or beside pulumi.
import signal, sys
signal.signal(signal.SIGINT, lambda *_: sys.exit(0))  # a stop while starting up is not an error
sys.path.insert(0, {str(REPO)!r})
from tools.langhost.host import main
sys.exit(main())
"""


def _our_installs(plugins: Path) -> list[Path]:
    return [launcher for launcher in plugins.glob(f"language-python-v*/{EXECUTABLE}") if is_ours(launcher)]


def _write_launcher(target: Path, python: Path) -> Path:
    """Write the launcher in one rename, so the CLI never starts a half-written one."""
    text = launcher_text(python)
    if target.is_file() and target.read_text() == text:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{EXECUTABLE}.")
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(temporary, 0o755)
    os.replace(temporary, target)
    return target
