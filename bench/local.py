"""Benchmarks that need no deployed stack: the unit suite, the program under mocks, the cached
toolchain, and (on request only, since it deletes the cluster) `cluster.up` from cached binaries."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable

from bench.measure import Stats, timed
from bench.report import Row
from tools.paths import REPO

VENV = REPO / ".venv" / "bin"


def unit_suite(rounds: int) -> Row:
    stats = Stats(tuple(timed([str(VENV / "pytest"), "-q", "-p", "no:cacheprovider", "tests/unit"])
                        for _ in range(rounds)))
    return Row("unit suite", "pytest tests/unit", stats, target="< 10 s", met=stats.median < 10)


_PROGRAM_EVAL = """
import json, resource, sys, time
sys.path.insert(0, '.')
from tests.unit.program_under_mocks import STACK_SECRETS, run_program
seconds = []
for _ in range(int(sys.argv[1])):
    started = time.monotonic()
    run_program(STACK_SECRETS)
    seconds.append(time.monotonic() - started)
print(json.dumps({'seconds': seconds, 'rss': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def program_eval(rounds: int) -> list[Row]:
    """The program evaluated under mocks in one child process: time per run, and its peak RSS."""
    done = subprocess.run([sys.executable, "-c", _PROGRAM_EVAL, str(rounds)], cwd=REPO, check=True,
                          capture_output=True, text=True)
    result = json.loads(done.stdout.splitlines()[-1])
    seconds, rss = Stats(tuple(result["seconds"])), Stats((result["rss"] / 1024,))
    return [Row("program under mocks", "run_program", seconds, target="< 1 s", met=seconds.median < 1),
            Row("program under mocks, peak RSS", "run_program", rss, unit="MiB", target="< 150 MiB",
                met=rss.median < 150)]


def toolchain_warm(rounds: int) -> Row:
    stats = Stats(tuple(timed([str(VENV / "invoke"), "toolchain"]) for _ in range(rounds)))
    return Row("toolchain, cached", "invoke toolchain", stats, target="< 5 s", met=stats.median < 5)


def cluster_up_warm(rounds: int) -> Row:
    """`cluster.down` then a timed `cluster.up` to a Ready node from cached binaries."""
    samples = []
    for _ in range(rounds):
        timed([str(VENV / "invoke"), "cluster.down"])
        started = time.monotonic()
        timed([str(VENV / "invoke"), "cluster.up"])
        samples.append(time.monotonic() - started)
    timed([str(VENV / "invoke"), "images.load"])
    stats = Stats(tuple(samples))
    return Row("cluster.up from cache", "invoke cluster.up", stats, target="< 20 s", met=stats.median < 20)


def local_rows(rounds: int) -> list[Row]:
    runs: list[Callable[[int], Row | list[Row]]] = [unit_suite, program_eval, toolchain_warm]
    rows: list[Row] = []
    for run in runs:
        result = run(rounds)
        rows += result if isinstance(result, list) else [result]
    return rows
