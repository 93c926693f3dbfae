"""Run invoke tasks in this process as a user types them: invoke's own parser (options arrive as
strings, as on the command line), the project's task collection, the exit code and output."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from invoke import Program

import tasks


@dataclass
class Run:
    code: int
    out: str
    err: str


class Invoke:
    """`invoke ARGS` in this process, so a test's stand-ins (monkeypatch) apply to the tasks."""

    def __init__(self, capfd: pytest.CaptureFixture[str]) -> None:
        self.capfd = capfd

    def __call__(self, *argv: str) -> Run:
        self.capfd.readouterr()
        try:
            Program(namespace=tasks.namespace).run(["invoke", *argv])
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        out, err = self.capfd.readouterr()
        return Run(code, out, err)


@pytest.fixture()
def invoke(capfd: pytest.CaptureFixture[str]) -> Invoke:
    """Import this fixture into a test module to run tasks there."""
    return Invoke(capfd)
