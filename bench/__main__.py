"""Run the benchmarks named on the command line (default: all) and print one line each."""
from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV = REPO / ".venv" / "bin"


def timed(command: list[str]) -> float:
    started = time.monotonic()
    subprocess.run(command, cwd=REPO, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - started


def program_eval() -> tuple[str, bool]:
    """Evaluate the program under mocks in a child process; report its median time and peak RSS."""
    script = ("import time,resource,sys; sys.path.insert(0, '.');"
              "from tests.unit.program_under_mocks import run_program;"
              "t=[];\nfor _ in range(5):\n s=time.monotonic(); run_program({'brokerPassword':'x'});"
              " t.append(time.monotonic()-s)\n"
              "print(sorted(t)[2], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    out = subprocess.run([str(VENV / "python"), "-c", script], cwd=REPO, check=True,
                         capture_output=True, text=True).stdout.split()
    seconds, rss_mib = float(out[0]), int(out[1]) / 1024
    return f"{seconds:.2f} s median, {rss_mib:.0f} MiB peak (target < 1 s, < 150 MiB)", \
        seconds < 1 and rss_mib < 150


def unit_suite() -> tuple[str, bool]:
    seconds = timed([str(VENV / "pytest"), "-q", "tests/unit"])
    return f"{seconds:.1f} s (target < 10 s)", seconds < 10


def toolchain_warm() -> tuple[str, bool]:
    seconds = statistics.median(timed([str(VENV / "invoke"), "toolchain"]) for _ in range(3))
    return f"{seconds:.2f} s median of 3 (target < 5 s)", seconds < 5


def cluster_up_warm() -> tuple[str, bool]:
    timed([str(VENV / "invoke"), "cluster.down"])
    seconds = timed([str(VENV / "invoke"), "cluster.up"])
    return f"{seconds:.1f} s (target < 60 s)", seconds < 60


BENCHMARKS: dict[str, Callable[[], tuple[str, bool]]] = {
    "program-eval": program_eval,
    "unit-suite": unit_suite,
    "toolchain-warm": toolchain_warm,
    "cluster-up-warm": cluster_up_warm,
}


def main(names: list[str]) -> int:
    unknown = set(names) - BENCHMARKS.keys()
    if unknown:
        print(f"unknown benchmark(s): {', '.join(sorted(unknown))}; known: {', '.join(BENCHMARKS)}")
        return 2
    met_all = True
    for name in names or BENCHMARKS:
        result, met = BENCHMARKS[name]()
        met_all &= met
        print(f"{name:16} {result}  {'met' if met else 'MISSED'}", flush=True)
    return 0 if met_all else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
