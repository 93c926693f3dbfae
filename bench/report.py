"""One bench row per comparison, printed as a Markdown table and kept as JSON in bench/results/."""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.measure import Stats

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Row:
    """What was measured on our side, and on the plain side when there is one.

    `met` is None for a row without a target (measured for the record only).
    """
    name: str
    ours_command: str
    ours: Stats
    plain_command: str | None = None
    plain: Stats | None = None
    unit: str = "s"
    target: str = ""
    met: bool | None = None

    @property
    def ratio(self) -> float | None:
        if self.plain is None or self.plain.median == 0:
            return None
        return self.ours.median / self.plain.median

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "unit": self.unit, "target": self.target, "met": self.met,
                "ratio": self.ratio,
                "ours": {"command": self.ours_command, **self.ours.as_dict()},
                "plain": None if self.plain is None else {"command": self.plain_command,
                                                          **self.plain.as_dict()}}


def _cell(stats: Stats | None, unit: str) -> str:
    if stats is None:
        return ""
    digits = 0 if unit == "MiB" else 2
    return f"{stats.min:.{digits}f} / **{stats.median:.{digits}f}** / {stats.max:.{digits}f} {unit}"


def table(rows: list[Row]) -> str:
    """Markdown: one line per row, medians in bold, ratio = our median / plain median."""
    lines = ["| row | this project (min / **median** / max) | plain (min / **median** / max) "
             "| ratio | target | |",
             "|---|---|---|---|---|---|"]
    for row in rows:
        ours = f"`{row.ours_command}` {_cell(row.ours, row.unit)}"
        plain = f"`{row.plain_command}` {_cell(row.plain, row.unit)}" if row.plain else ""
        ratio = f"{row.ratio:.2f}" if row.ratio is not None else ""
        verdict = {True: "met", False: "MISSED", None: ""}[row.met]
        lines.append(f"| {row.name} | {ours} | {plain} | {ratio} | {row.target} | {verdict} |")
    return "\n".join(lines)


def save(rows: list[Row], settings: dict[str, Any]) -> Path:
    """Write the run as JSON under bench/results/ (ignored by git) and return the file."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"bench-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps({"when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "cores": os.cpu_count(),
                                **settings, "rows": [row.as_dict() for row in rows]}, indent=2) + "\n")
    return path
