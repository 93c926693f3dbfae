"""Running external commands (kind, kubectl, ctr, ip, iptables) with errors a user can read."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping, Sequence

from tools.errors import SetupError

SYSTEM_DIRS = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

Runner = Callable[[Sequence[str]], str]
"""Runs a command line and returns its stdout; raises SetupError when it fails."""


def run(args: Sequence[str], *, stdin: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """Run `args`, return stdout; on failure raise SetupError with the command and its output."""
    try:
        environment = dict(env) if env is not None else {**os.environ, "PATH": system_path()}
        result = subprocess.run(
            list(args), input=stdin, env=environment, capture_output=True, text=True, check=False
        )
    except FileNotFoundError as missing:
        raise SetupError(f"`{args[0]}` is not installed or not on PATH ({missing})") from None
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip()
        raise SetupError(f"`{' '.join(args)}` failed (exit {result.returncode}):\n{output}")
    return result.stdout


def succeeds(args: Sequence[str]) -> bool:
    """True when the command exists and exits 0 (for probing, e.g. "does docker work?")."""
    try:
        return subprocess.run(list(args), capture_output=True, timeout=30, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def system_path() -> str:
    """PATH plus the system directories, where Debian puts runc, iptables, ip and mount."""
    return f"{os.environ.get('PATH', '')}:{SYSTEM_DIRS}".strip(":")
