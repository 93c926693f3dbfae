"""`python -m bench [--rounds N] [--stack S] [GROUP ...]` (also `invoke bench`): see bench/README.md.

Groups: `cluster` (this project against plain kubectl, on the bench stack, under the cluster
lock), `local` (unit suite, program under mocks, cached toolchain), `cluster-up` (deletes and
recreates the cluster: only when named). Default: cluster and local. Prints a Markdown table,
writes JSON to bench/results/, exits 1 when a target was missed.
"""
from __future__ import annotations

import argparse
import sys

from bench.local import cluster_up_warm, local_rows
from bench.lock import cluster_lock
from bench.measure import BenchError
from bench.report import Row, save, table
from bench.side_by_side import side_by_side

GROUPS = ("cluster", "local", "cluster-up")
DEFAULT_GROUPS = ("cluster", "local")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench",
                                     description="This project against plain kubectl, with targets.")
    parser.add_argument("groups", nargs="*", metavar="GROUP",
                        help=f"any of {', '.join(GROUPS)} (default: {' '.join(DEFAULT_GROUPS)})")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per row (default 3)")
    parser.add_argument("--stack", default="bench", help="stack to deploy (default bench; never ci)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.groups) - set(GROUPS))
    if unknown:
        parser.error(f"unknown group(s) {', '.join(unknown)}; known: {', '.join(GROUPS)}")
    args.groups = args.groups or list(DEFAULT_GROUPS)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def run(groups: list[str], rounds: int, stack: str) -> list[Row]:
    rows: list[Row] = []
    if "cluster" in groups or "cluster-up" in groups:
        with cluster_lock():
            if "cluster-up" in groups:
                rows.append(cluster_up_warm(rounds))
            if "cluster" in groups:
                rows += side_by_side(stack, rounds)
    if "local" in groups:
        rows += local_rows(rounds)
    return rows


def main(argv: list[str]) -> int:
    args = parse(argv)
    try:
        rows = run(args.groups, args.rounds, args.stack)
    except BenchError as error:
        print(f"bench failed: {error}", file=sys.stderr)
        return 2
    print(table(rows))
    print(f"\nwritten to {save(rows, {'rounds': args.rounds, 'stack': args.stack})}")
    return 0 if all(row.met is not False for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
