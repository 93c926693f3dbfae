"""The bench's own logic, without a cluster: the plain side's manifests, statistics, the table."""
from __future__ import annotations

from pathlib import Path

import yaml

from bench.__main__ import parse
from bench.measure import Stats
from bench.plain import MANIFESTS, manifests_in
from bench.report import Row, table


def test_plain_side_applies_the_committed_manifests_moved_to_the_bench_namespace(tmp_path: Path) -> None:
    copy = manifests_in("news-bench", tmp_path)
    originals = sorted(p.relative_to(MANIFESTS) for p in MANIFESTS.glob("**/*.yaml"))
    assert sorted(p.relative_to(copy) for p in copy.glob("**/*.yaml")) == originals
    for relative in originals:
        moved, original = (yaml.safe_load((root / relative).read_text()) for root in (copy, MANIFESTS))
        where = "name" if moved["kind"] == "Namespace" else "namespace"
        assert moved["metadata"].pop(where) == "news-bench"
        original["metadata"].pop(where)
        assert moved == original


def test_rows_report_min_median_max_and_the_ratio_of_medians() -> None:
    row = Row("pods", "invoke pods", Stats((0.3, 0.1, 0.2)), "kubectl get pods", Stats((0.1, 0.1, 0.4)),
              target="ratio <= 2", met=True)
    assert (row.ours.min, row.ours.median, row.ours.max) == (0.1, 0.2, 0.3)
    assert row.ratio == 2.0
    line = table([row]).splitlines()[-1]
    assert "0.10 / **0.20** / 0.30 s" in line and "| 2.00 |" in line and "| met |" in line


def test_bench_defaults_to_three_rounds_on_its_own_stack() -> None:
    args = parse([])
    assert (args.rounds, args.stack, args.groups) == (3, "bench", ["cluster", "local"])
