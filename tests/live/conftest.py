"""Live tests need the real cluster with the images loaded. Bringing them up is idempotent and
quick when they already run; when it cannot be done the session FAILS with the reason, it never
skips."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.live.tasks_runner import invoke
from tools import file_backend, outputs_cache

#: The test that closes test_post.py's three-minute steady-state window.
WINDOW_CLOSER = "tests/live/test_post.py::test_07b_"
#: Tests that run inside that window instead of before it, since they leave the stack's pods
#: alone: the cluster and lockdown tests use pods of their own namespaces, the plain-pulumi and
#: tour tests stacks of their own, the integration and unit tests no cluster at all (on the README's
#: whole-suite run). The window waits less, and proves more: a steady state that holds while the
#: machine is busy. A live test elsewhere that only reads the stack joins them with the
#: `leaves_the_stack_alone` marker; one that restarts the stack's pods elsewhere than test_post.py
#: runs right after the window with the `disturbs_the_stack` marker (where test_post.py goes on to
#: do the same), so that it needs no deploy of its own before the window.
INSIDE_WINDOW = ("tests/live/test_cluster.py::", "tests/live/test_lockdown.py::", "tests/live/test_pulumi_cli.py::",
                 "tests/live/test_tour.py::", "tests/integration/", "tests/unit/")


def runs_inside_window(item: pytest.Item) -> bool:
    return item.nodeid.startswith(INSIDE_WINDOW) or item.get_closest_marker("leaves_the_stack_alone") is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    closer = next((item for item in items if item.nodeid.startswith(WINDOW_CLOSER)), None)
    if closer is None:
        return
    inside = [item for item in items if runs_inside_window(item)]
    after = [item for item in items if item.get_closest_marker("disturbs_the_stack") is not None]
    rest = [item for item in items if item not in inside and item not in after]
    at = rest.index(closer)
    items[:] = [*rest[:at], *inside, closer, *after, *rest[at + 1:]]


@pytest.fixture(scope="session", autouse=True)
def cluster_with_images() -> None:
    for task in ("cluster.up", "images.load"):
        done = invoke(task, check=False, timeout=1800)
        if done.returncode != 0:
            pytest.fail(f"live tests need a cluster, and `invoke {task}` failed:\n"
                        f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}", pytrace=False)


@pytest.fixture(scope="session", autouse=True)
def ci_stack_destroyed_at_the_end(cluster_with_images: None) -> Iterator[None]:
    """However the session ends (every test run, a failure under -x, Ctrl-C), the ci stack does
    not stay deployed: pytest finalizes session fixtures in all these cases."""
    yield
    if not ci_stack_holds_resources():
        return
    done = invoke("down", check=False, timeout=900)
    if done.returncode != 0:
        pytest.fail(f"the ci stack may still be deployed: `invoke down` failed:\n"
                    f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}", pytrace=False)


def ci_stack_holds_resources() -> bool:
    """Read from the checkpoint file (a no-op `down` costs an engine run): True unless it
    surely holds nothing."""
    if file_backend.checkpoint("ci", outputs_cache.BACKEND) is None:
        return False
    latest = file_backend.latest_deployment("ci", outputs_cache.BACKEND)
    if latest is None:  # unreadable here: let `down` decide
        return True
    return bool(latest.get("resources") or latest.get("pending_operations"))
