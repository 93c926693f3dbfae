"""`invoke bench`: this project's tasks side by side with plain kubectl (code in bench/)."""
from __future__ import annotations

from invoke import Context, Exit, task

from tasks.session import reports_setup_errors, whole_number


@task(help={"rounds": "rounds per row (default 3)", "stack": "stack to deploy (default bench; never ci)",
            "group": "cluster, local or cluster-up (repeatable; default cluster and local)"},
      iterable=["group"])
@reports_setup_errors
def bench(c: Context, rounds: int | str = "3", stack: str = "bench", group: list[str] | None = None) -> None:
    """Time this project against plain kubectl on the same pods (a few minutes; see bench/).

    Deploy, teardown, no-op up, preview, pod tasks and graceful deletes, under the cluster lock;
    prints a table and writes JSON to bench/results/."""
    # `rounds` defaults to a string: with an int default invoke converts the option itself, and
    # `--rounds x` ends in its traceback.
    count = whole_number("rounds", rounds, 1)
    from bench.__main__ import main  # imported here: other tasks do not pay for it

    raise Exit(code=main([*(group or []), "--rounds", str(count), "--stack", stack]))
