"""Live tests need the real cluster with the images loaded. Bringing them up is idempotent and
quick when they already run; when it cannot be done the session FAILS with the reason, it never
skips."""
from __future__ import annotations

import pytest

from tests.live.tasks_runner import invoke


@pytest.fixture(scope="session", autouse=True)
def cluster_with_images() -> None:
    for task in ("cluster.up", "images.load"):
        done = invoke(task, check=False, timeout=1800)
        if done.returncode != 0:
            pytest.fail(f"live tests need a cluster, and `invoke {task}` failed:\n"
                        f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}", pytrace=False)
