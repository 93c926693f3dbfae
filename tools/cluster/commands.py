"""Running external commands (kind, kubectl, ctr, ip, iptables) with errors a user can read."""
from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping, Sequence

from tools.errors import SetupError

Runner = Callable[[Sequence[str]], str]
"""Runs a command line and returns its stdout; raises SetupError when it fails."""


def run(args: Sequence[str], *, stdin: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """Run `args`, return stdout; on failure raise SetupError with the command and its output."""
    try:
        result = subprocess.run(list(args), input=stdin, env=env, capture_output=True, text=True)
    except FileNotFoundError as missing:
        raise SetupError(f"`{args[0]}` is not installed or not on PATH ({missing})") from None
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip()
        raise SetupError(f"`{' '.join(args)}` failed (exit {result.returncode}):\n{output}")
    return result.stdout


def succeeds(args: Sequence[str]) -> bool:
    """True when the command exists and exits 0 (for probing, e.g. "does docker work?")."""
    try:
        return subprocess.run(list(args), capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False
