"""Stand-ins for the tools behind the invoke tasks (the engine, a cluster driver, the image
builder), for tests that run a task through invoke's parser (task_runner): each records what the
task asked of it, and an operation named in `failing` raises SetupError as the real tool does."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from tools.cluster.driver import ClusterStatus
from tools.errors import SetupError


class StandIn:
    """Records each call in `calls` as (operation, *arguments); `failing` maps an operation to
    the message of the SetupError it raises (after recording the call)."""

    def __init__(self, failing: dict[str, str] | None = None) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.failing = failing or {}

    def _called(self, operation: str, *arguments: Any) -> None:
        self.calls.append((operation, *arguments))
        if operation in self.failing:
            raise SetupError(self.failing[operation])


class Engine(StandIn):
    """Stands for tools.stack: `changes` is every operation's change summary, `outputs` the
    stack's outputs."""

    PULUMI_HOME = Path("/nonexistent/pulumi-home")

    def __init__(self, failing: dict[str, str] | None = None, changes: dict[str, int] | None = None,
                 outputs: dict[str, Any] | None = None) -> None:
        super().__init__(failing)
        self.changes = changes or {}
        self.stack_outputs = outputs or {}

    def refresh(self, stack: str) -> None:
        self._called("refresh", stack)

    def preview(self, stack: str) -> SimpleNamespace:
        """Shaped as auto.PreviewResult, as far as tasks read it."""
        self._called("preview", stack)
        return SimpleNamespace(change_summary=self.changes)

    def up(self, stack: str) -> SimpleNamespace:
        """Shaped as auto.UpResult, as far as tasks read it."""
        self._called("up", stack)
        return SimpleNamespace(summary=SimpleNamespace(resource_changes=self.changes))

    def outputs(self, stack: str) -> dict[str, Any]:
        self._called("outputs", stack)
        return self.stack_outputs


class Driver(StandIn):
    """Stands for a ClusterDriver (tools.cluster.driver) called `name`."""

    def __init__(self, name: str = "local", report: ClusterStatus | None = None,
                 failing: dict[str, str] | None = None) -> None:
        super().__init__(failing)
        self.name = name
        self.report = report or ClusterStatus(name, {}, {})

    @property
    def kubeconfig(self) -> Path:
        return Path(f"/state/{self.name}/kubeconfig")

    def up(self) -> None:
        self._called("up")

    def down(self) -> None:
        self._called("down")

    def status(self) -> ClusterStatus:
        self._called("status")
        return self.report

    def load_images(self, archives: Sequence[Path]) -> None:
        self._called("load_images", list(archives))


class Builds:
    """Stands for tools.images.build: knows the project's three images, in its order."""

    KNOWN = ["activemq", "news-job", "news-api"]

    def __init__(self) -> None:
        self.asked: list[list[str]] = []

    def build(self, names: Sequence[str]) -> dict[str, Path]:
        self.asked.append(list(names))
        unknown = [name for name in names if name not in self.KNOWN]
        if unknown:
            raise SetupError(f"unknown image(s) {', '.join(unknown)}")
        return {name: self.archive(name) for name in names or self.KNOWN}

    @staticmethod
    def archive(name: str) -> Path:
        return Path(f"/cache/{name}.tar")

    def prune(self) -> list[Path]:
        return [Path("/cache/layers/old1"), Path("/cache/layers/old2")]
