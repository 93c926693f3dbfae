"""`invoke doctor` and the setup plan on a bare machine: each missing piece with the one command
that gets it, and the path setup will take (driver, image builder, packages, root steps)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tools import doctor, gobuild
from tools.setup_plan import SetupPlan


@pytest.fixture
def bare_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No pulumi, go, kind or docker on PATH, an empty build cache, no cluster driver chosen."""
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path / "user-home"))
    monkeypatch.delenv("NEWS_TRACKER_CLUSTER_DRIVER", raising=False)
    monkeypatch.setattr(gobuild, "BUILDS_DIR", tmp_path / "cache")
    return tmp_path


def test_each_missing_piece_comes_with_the_command_that_gets_it(bare_machine: Path) -> None:
    rows = {line[:20].strip(): line[21:] for line in doctor.report(bare_machine / "home").splitlines()
            if not line.startswith(" ")}
    assert rows["pulumi CLI"].split() == ["missing", "->", "invoke", "toolchain"]
    assert rows["kubernetes provider"].split() == ["missing", "->", "invoke", "toolchain"]
    assert rows["kind"].split() == ["missing", "->", "go", "install", "sigs.k8s.io/kind@v0.33.0"]
    assert rows["go"].startswith("missing  -> curl -fsSL https://go.dev/dl/")
    assert rows["cluster driver"].startswith("uses     local")
    assert rows["image builder"].startswith("uses     offline (debootstrap")


def test_each_driver_needs_only_its_own_cluster_packages() -> None:
    assert "containerd" in SetupPlan("local").packages and "runc" in SetupPlan("local").packages
    assert "runc" not in SetupPlan("kind").packages and "docker.io" not in SetupPlan("local").packages
    assert "docker.io" in SetupPlan("kind").packages  # dockerd, where no Docker engine answers
    assert "debootstrap" in SetupPlan("kind").packages


def test_root_steps_name_the_image_builder_and_the_local_cluster() -> None:
    steps = SetupPlan("local").root_steps
    assert any(step.startswith("building the images") for step in steps)
    assert any(step.startswith("the local cluster") for step in steps)
    assert not any(step.startswith("the local cluster") for step in SetupPlan("kind").root_steps)
