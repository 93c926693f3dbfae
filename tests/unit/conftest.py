"""The unit suite runs on two workers (pytest-xdist), one per core of the project's machines,
when it is run on its own: `pytest tests/unit`, or files and tests inside it. Much of its time
is spent in child processes and waits, so one process leaves a core idle.

`-n 0` (or `-p no:xdist`) runs it in one process, as does --pdb. A run that takes in other
directories keeps one process: the integration and live tests hold brokers, clusters and
stacks that are not to be shared between workers.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

UNIT = Path(__file__).parent
WORKERS = 2


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own, which reads the number of workers
def pytest_cmdline_main(config: pytest.Config) -> None:
    # A worker calls this hook too, with no number of workers: it must not start workers itself.
    worker = "PYTEST_XDIST_WORKER" in os.environ
    if (not worker and config.pluginmanager.hasplugin("xdist") and config.option.numprocesses is None
            and not config.option.usepdb and all(_in_unit(config, arg) for arg in config.args)):
        config.option.numprocesses = WORKERS


def _in_unit(config: pytest.Config, arg: str) -> bool:
    """Whether a command-line path (possibly with ::test) lies inside tests/unit."""
    path = config.invocation_params.dir / arg.split("::", 1)[0]
    return path.resolve().is_relative_to(UNIT)
