"""Timing and memory of commands: wall time of one run, min/median/max of rounds, and the peak
resident memory of the processes a command starts (read from /proc while it runs)."""
from __future__ import annotations

import os
import statistics
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tools.paths import REPO


class BenchError(RuntimeError):
    """A measured command failed: the bench stops, since its numbers would mean nothing."""


@dataclass(frozen=True)
class Stats:
    """Seconds (or bytes) measured over rounds."""
    samples: tuple[float, ...]

    @property
    def min(self) -> float:
        return min(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def max(self) -> float:
        return max(self.samples)

    def as_dict(self) -> dict[str, float | list[float]]:
        return {"min": self.min, "median": self.median, "max": self.max, "samples": list(self.samples)}


def timed(command: Sequence[str], env: Mapping[str, str] | None = None, stdin: str | None = None,
          ok_codes: Sequence[int] = (0,)) -> float:
    """Run `command` to completion (output discarded) and return its wall time in seconds."""
    started = time.monotonic()
    done = subprocess.run(list(command), cwd=REPO, env=dict(env) if env else None, input=stdin,
                          capture_output=True, text=True)
    seconds = time.monotonic() - started
    if done.returncode not in ok_codes:
        raise BenchError(f"{' '.join(command)} exited {done.returncode}:\n"
                         f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return seconds


def children() -> dict[int, list[int]]:
    """Parent PID -> child PIDs, for every process visible in /proc."""
    tree: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # the process ended while we looked
        ppid = int(text.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(stat.parent.name))
    return tree


def rss_bytes(pid: int) -> tuple[str, int]:
    """A process's command name and resident set size (0 when it is gone)."""
    try:
        name = Path(f"/proc/{pid}/comm").read_text().strip()
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return "", 0
    return name, pages * os.sysconf("SC_PAGE_SIZE")


def _tree_rss(root: int, prefix: str) -> int:
    """Summed RSS of `root`'s descendants whose command name starts with `prefix`."""
    tree = children()
    total, pending = 0, list(tree.get(root, []))
    while pending:
        pid = pending.pop()
        name, rss = rss_bytes(pid)
        total += rss if name.startswith(prefix) else 0
        pending += tree.get(pid, [])
    return total


def timed_with_peak_rss(command: Sequence[str], env: Mapping[str, str], prefix: str = "pulumi",
                        interval: float = 0.1) -> tuple[float, int]:
    """Wall time of `command`, and the peak summed RSS of its descendants named `prefix`*
    (the Pulumi engine `pulumi` and its provider `pulumi-resource-kubernetes`)."""
    started = time.monotonic()
    process = subprocess.Popen(list(command), cwd=REPO, env=dict(env), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    peak = 0

    def sample() -> None:
        nonlocal peak
        while process.poll() is None:
            peak = max(peak, _tree_rss(process.pid, prefix))
            time.sleep(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = process.communicate()
    seconds = time.monotonic() - started
    sampler.join()
    if process.returncode != 0:
        raise BenchError(f"{' '.join(command)} exited {process.returncode}:\n{output[-3000:]}")
    return seconds, peak


def timed_together(commands: Sequence[Sequence[str]], env: Mapping[str, str]) -> list[float]:
    """Start every command at once; return each one's wall time, in the order given."""
    started = time.monotonic()
    processes = [subprocess.Popen(list(c), cwd=REPO, env=dict(env), stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True) for c in commands]
    ended: dict[int, float] = {}
    while len(ended) < len(processes):
        for index, process in enumerate(processes):
            if index not in ended and process.poll() is not None:
                ended[index] = time.monotonic() - started
        time.sleep(0.02)
    for command, process in zip(commands, processes):
        output = process.stdout.read() if process.stdout else ""
        if process.returncode != 0:
            raise BenchError(f"{' '.join(command)} exited {process.returncode}:\n{output[-2000:]}")
    return [ended[index] for index in range(len(processes))]
