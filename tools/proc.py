"""What /proc says about a process: its executable, start time, parent and environment.

Every answer is None when the process is gone (or not ours to read), so callers decide what a
vanished process means for them.
"""
from __future__ import annotations

import os
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def all_pids() -> list[int]:
    """Every process on the machine except this one."""
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit() and int(entry) != os.getpid()]


def process_exe(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (field 3 onwards)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
    except (OSError, IndexError):
        return None


def start_ticks(pid: int) -> int | None:
    """Start time in clock ticks since boot: with the pid, a process's identity (pids are reused)."""
    fields = _stat_fields(pid)
    return int(fields[19]) if fields else None  # field 22 of stat


def process_start_time(pid: int) -> float | None:
    """When the process started, in seconds since the epoch."""
    ticks = start_ticks(pid)
    if ticks is None:
        return None
    boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                if line.startswith("btime "))
    return boot + ticks / CLOCK_TICKS


def parent_pid(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[1]) if fields else None  # field 4 of stat


def is_running(pid: int) -> bool:
    """Alive and not a zombie."""
    fields = _stat_fields(pid)
    return fields is not None and fields[0] != "Z"


def environ_value(pid: int, name: str) -> str | None:
    """The value of one variable in the process's environment, if it has it."""
    try:
        entries = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return None
    prefix = f"{name}=".encode()
    return next((entry[len(prefix):].decode(errors="replace") for entry in entries
                 if entry.startswith(prefix)), None)
