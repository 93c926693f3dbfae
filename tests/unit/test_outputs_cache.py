"""Stack outputs kept for the pod tasks: written with the checkpoint's stamp, stale as soon as
the stack's checkpoint changes, never holding a pod IP, and read without importing Pulumi."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tools import outputs_cache
from tools.paths import REPO

OUTPUTS = {"namespace": "develop",
           "pods": {"api": {"name": "newsapi-pod", "ip": "10.244.0.9", "containers": ["newsapi"],
                            "ports": {"http": 8080}}}}


@pytest.fixture()
def checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A file backend holding one checkpoint of the `dev` stack, as the engine lays it out."""
    monkeypatch.setattr(outputs_cache, "BACKEND", tmp_path / "backend")
    monkeypatch.setattr(outputs_cache, "CACHE_DIR", tmp_path / "outputs")
    path = tmp_path / "backend" / ".pulumi" / "stacks" / "news-tracker" / "dev.json"
    path.parent.mkdir(parents=True)
    path.write_text("{}")
    return path


def test_kept_outputs_come_back_without_pod_ips(checkpoint: Path) -> None:
    outputs_cache.save("dev", OUTPUTS)
    assert outputs_cache.load("dev") == {
        "namespace": "develop",
        "pods": {"api": {"name": "newsapi-pod", "containers": ["newsapi"], "ports": {"http": 8080}}}}


def test_any_change_of_the_stack_checkpoint_makes_them_stale(checkpoint: Path) -> None:
    outputs_cache.save("dev", OUTPUTS)
    checkpoint.write_text('{"changed": "by another engine run"}')
    assert outputs_cache.load("dev") is None


def test_down_forgets_them_and_other_stacks_are_not_served(checkpoint: Path) -> None:
    outputs_cache.save("dev", OUTPUTS)
    assert outputs_cache.load("ci") is None
    outputs_cache.forget("dev")
    assert outputs_cache.load("dev") is None


def test_nothing_is_kept_for_a_stack_without_checkpoint(checkpoint: Path) -> None:
    checkpoint.unlink()
    outputs_cache.save("dev", OUTPUTS)
    assert not outputs_cache.CACHE_DIR.exists()


def test_pod_tasks_get_kept_outputs_without_importing_pulumi(tmp_path: Path) -> None:
    """Loading every task and reading kept outputs imports no Pulumi module (0.3 s saved)."""
    script = textwrap.dedent("""
        import sys
        from pathlib import Path
        sys.path.insert(0, ".")
        from invoke import Config, Context
        import tasks
        from tasks.session import kubectl
        from tools import outputs_cache
        checkpoint = outputs_cache.BACKEND / ".pulumi/stacks/news-tracker/dev.json"
        checkpoint.parent.mkdir(parents=True)
        checkpoint.write_text("{}")
        outputs_cache.save("dev", {"namespace": "develop", "pods": {}})
        k, values = kubectl(Context(Config(overrides={"news_tracker": {"stack": "dev"}})))
        assert k.namespace == "develop", k
        loaded = sorted(name for name in sys.modules if name.split(".")[0] in ("pulumi", "grpc"))
        assert loaded == [], loaded
    """)
    env = {**os.environ, "NEWS_TRACKER_PULUMI_STATE": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
