"""The real engine renders manifests/ (no cluster needed): `invoke preview` and `invoke
manifests` on the render stack, and the result is byte for byte what is committed."""
from __future__ import annotations

import os
import subprocess

import pytest

from tools.paths import REPO

pytestmark = pytest.mark.integration

INVOKE = str(REPO / ".venv" / "bin" / "invoke")
RENDER = {**os.environ, "INVOKE_NEWS_TRACKER_STACK": "render"}


def run(*args: str) -> str:
    done = subprocess.run(args, cwd=REPO, env=RENDER, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_preview_of_the_render_stack_runs_the_program_through_the_engine() -> None:
    output = run(INVOKE, "preview")
    assert "kubernetes:core/v1:Pod" in output and "changes: {" in output


def test_rendered_manifests_are_the_committed_ones_byte_for_byte() -> None:
    run(INVOKE, "manifests")
    assert run("git", "status", "--porcelain", "--", "manifests", "Pulumi.render.yaml") == ""
