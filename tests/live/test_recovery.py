"""Chaos: the cluster and the stack survive crashes without a manual step (issue 11).

With the ci stack deployed and a message parked unconsumed on the broker's volume:
- each cluster component is killed with SIGKILL in turn, then everything as a reboot does
  (every process, the bridge, the chains, the mounts); after each, `invoke cluster.up` alone
  brings every pod back Ready, `invoke up` changes nothing and the namespace keeps its age;
  at the end the parked message still reaches the api;
- the engine is killed mid-`up` and mid-`down` (Ctrl-C to the task's process group, SIGINT and
  SIGKILL to the CLI): the next `up` succeeds by itself, and no engine process is left;
- the kubelet is killed mid-`up`: `up` fails within the ci stack's readyTimeoutSeconds, naming
  the node; an image removed from the node: `up` fails at once, naming the pod and
  `invoke images.load`.

It runs after test_post.py (which ends with the ci stack destroyed), deploys the ci stack once,
and leaves the cluster healthy and the ci stack destroyed, whatever happened.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from apps.newsbus.broker import StompBroker
from tests.live.stack_config import stack_logins
from tests.live.tasks_runner import ENV, INVOKE, invoke, kubectl, kubectl_json, outputs, port_forward, wait_for
from tests.news_apps import free_port, stomp_session
from tools.cluster import choose_driver
from tools.cluster.local import host, processes
from tools.cluster.local.driver import COMPONENTS, LocalDriver
from tools.engine_processes import OWNER_ENV, owner_alive
from tools.paths import REPO
from tools.proc import all_pids, environ_value, parent_pid, process_exe

pytestmark = pytest.mark.live

PARKED_QUEUE = "chaos-parked"
READY_TIMEOUT = int(yaml.safe_load((REPO / "Pulumi.ci.yaml").read_text())["config"]["news-tracker:readyTimeoutSeconds"])
@contextmanager
def broker_as_admin() -> Iterator[tuple[StompBroker, StompBroker]]:
    """Admin sessions on the parked queue and on the news queue, from this machine through
    `invoke port-forward`: the job's and the api's logins may use only the news queue."""
    login = stack_logins()["admin"]
    with port_forward("--ports", f"{free_port()}:61613") as port, \
            stomp_session(port, login, PARKED_QUEUE) as parked, stomp_session(port, login) as news:
        yield parked, news


def local_driver() -> LocalDriver:
    driver = choose_driver()
    if not isinstance(driver, LocalDriver):
        pytest.skip("the chaos tests kill the local driver's processes; kind's nodes are containers")
    return driver


def changes(done: subprocess.CompletedProcess[str]) -> dict[str, int]:
    return json.loads(re.search(r"^changes: (\{.*\})$", done.stdout, re.M).group(1))


def all_pods_ready() -> bool:
    pods = kubectl_json("get", "pods")["items"]
    return len(pods) == 3 and all(
        any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))
        for p in pods)


def namespace_created() -> str:
    return kubectl_json("get", "namespace", outputs()["namespace"])["metadata"]["creationTimestamp"]


def in_pod(role: str, *command: str) -> str:
    return kubectl().output("exec", outputs()["pods"][role]["name"], "--", *command)


def engine_processes_left() -> list[str]:
    """Pulumi CLIs and providers of this project still running after the task that started
    them ended (other clones' running tasks are not counted)."""
    return [f"{pid} {process_exe(pid)}" for pid in all_pids()
            if (owner := environ_value(pid, OWNER_ENV)) is not None and not owner_alive(owner)]


@pytest.fixture(scope="module")
def deployed() -> Iterator[dict[str, Any]]:
    """The ci stack deployed, with a message parked on the broker; afterwards (whatever
    happened) the cluster healthy again and the ci stack destroyed."""
    local_driver()
    try:
        invoke("up")
        marker = f"https://example.com/chaos-{uuid.uuid4().hex}"
        article = {"source": {"id": None, "name": "chaos"}, "author": "chaos", "title": "parked",
                   "description": "", "url": marker, "urlToImage": None,
                   "publishedAt": "2026-11-28T00:00:00Z", "content": ""}
        with broker_as_admin() as (parked, _):
            parked.publish([json.dumps(article)])
        yield {"namespace_created": namespace_created(), "marker": marker}
    finally:
        invoke("cluster.up", check=False, timeout=600)
        invoke("down", check=False)


def wait_steadily_ready(seconds: float = 8, timeout: float = 240) -> None:
    """Every pod Ready in every poll for `seconds`. A restarted kubelet runs its probes afresh and
    may post NotReady a moment after cluster.up returned on the statuses it left; an `up` whose
    refresh catches that flip re-awaits the pod and reports an update (CI saw it once)."""
    deadline, since = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        since = (since or time.monotonic()) if all_pods_ready() else None
        if since is not None and time.monotonic() - since >= seconds:
            return
        time.sleep(1)
    raise AssertionError(f"the stack's pods were not Ready for {seconds:.0f}s in a row within {timeout:.0f}s")


def recovered_by_cluster_up_alone(deployed: dict[str, Any]) -> None:
    started = time.monotonic()
    invoke("cluster.up", timeout=600)
    wait_steadily_ready()
    print(f"cluster.up and pods Ready in {time.monotonic() - started:.0f}s")
    again = invoke("up")
    assert set(changes(again)) == {"same"}, again.stdout[-4000:]
    assert namespace_created() == deployed["namespace_created"]


@pytest.mark.parametrize("component", COMPONENTS)
def test_01_a_component_killed_is_restarted_by_cluster_up_on_the_same_data(
        deployed: dict[str, Any], component: str) -> None:
    state = local_driver().state
    pid = int(processes.pid_file(state, component).read_text())
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not processes.running(state, component), f"{component} to be gone", timeout=30)
    assert not local_driver().status().ready
    recovered_by_cluster_up_alone(deployed)


def test_02_after_a_reboot_everything_comes_back_on_the_same_data(deployed: dict[str, Any]) -> None:
    """A reboot: every process gone (components, shims, containers), then the bridge, the
    iptables chains, the mounts, the pods' network namespaces and cgroups."""
    state = local_driver().state
    processes.kill_remaining(state)  # SIGKILL to every component and shim
    host.clean(state)
    assert not host.intact()
    recovered_by_cluster_up_alone(deployed)


def test_03_the_parked_message_survived_every_kill_and_reaches_the_api(deployed: dict[str, Any]) -> None:
    moved = threading.Event()
    with broker_as_admin() as (parked, news):
        parked.subscribe(lambda body: (news.publish([body]), moved.set()))  # acked once moved
        assert moved.wait(30), "nothing was parked"
    api_articles = "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8080/news/getAll').read().decode())"
    wait_for(lambda: deployed["marker"] in in_pod("api", "python3", "-c", api_articles),
             "the parked article in the api", timeout=60)


def start_task(*args: str) -> subprocess.Popen[str]:
    """`invoke ARGS` in a process group of its own, as a terminal runs it."""
    return subprocess.Popen([INVOKE, *args], cwd=REPO, env=ENV, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)


def engine_cli_of(task: subprocess.Popen[str]) -> int:
    """The Pulumi CLI that the task runs now."""
    return wait_for(lambda: next((pid for pid in all_pids() if parent_pid(pid) == task.pid
                                  and Path(process_exe(pid) or "").name == "pulumi"), None),
                    "the engine's CLI", timeout=60, interval=0.1)


def read_until(task: subprocess.Popen[str], pattern: str, seen: list[str]) -> None:
    assert task.stdout is not None
    for line in task.stdout:
        seen.append(line)
        if re.search(pattern, line):
            return
    raise AssertionError(f"the task ended before {pattern!r}:\n{''.join(seen)[-3000:]}")


def interrupt_mid(task_name: str, working: str, how: str) -> str:
    """Start `invoke TASK`, wait until the engine is `working` on a resource, then interrupt it
    `how`; return everything the task printed."""
    task = start_task(task_name)
    seen: list[str] = []
    read_until(task, working, seen)
    if how == "ctrl-c":  # the terminal signals the whole foreground process group
        os.killpg(task.pid, signal.SIGINT)
    else:
        os.kill(engine_cli_of(task), signal.SIGINT if how == "engine SIGINT" else signal.SIGKILL)
    rest, _ = task.communicate(timeout=120)
    assert task.returncode != 0, "the interrupted task should fail"
    return "".join(seen) + rest


@pytest.mark.parametrize(("task_name", "how"), [
    ("up", "ctrl-c"), ("up", "engine SIGKILL"), ("down", "engine SIGINT"), ("down", "engine SIGKILL")])
def test_04_an_engine_killed_mid_operation_leaves_nothing_the_next_up_cannot_handle(
        deployed: dict[str, Any], task_name: str, how: str) -> None:
    if task_name == "up":
        invoke("delete-pod", outputs()["pods"]["api"]["name"])  # so that `up` has a pod to create
    working = r"^ [+-]  kubernetes:core/v1:Pod \S+ (creating|deleting)"
    said = interrupt_mid(task_name, working, how)
    assert engine_processes_left() == []
    if how != "engine SIGKILL":
        assert re.search(r"interrupted \((SIGINT|the engine was signalled)\).*run `invoke (up|down)` to continue",
                         said), said[-2000:]
    again = invoke("up")
    if how == "engine SIGKILL":
        assert "cleared a stale lock" in again.stderr, again.stderr[-2000:]
    assert engine_processes_left() == []
    wait_for(all_pods_ready, "every pod Ready after the next up", timeout=120)


def test_05_a_kubelet_killed_mid_up_fails_the_up_within_its_bound_naming_the_node(
        deployed: dict[str, Any]) -> None:
    state = local_driver().state
    invoke("delete-pod", outputs()["pods"]["api"]["name"])
    task = start_task("up")
    seen: list[str] = []
    read_until(task, r"^ \+  kubernetes:core/v1:Pod \S+ creating", seen)
    os.kill(int(processes.pid_file(state, "kubelet").read_text()), signal.SIGKILL)
    started = time.monotonic()
    try:
        rest, _ = task.communicate(timeout=READY_TIMEOUT + 120)
    finally:
        if task.poll() is None:  # never leave the task behind (it holds the stack lock)
            os.killpg(task.pid, signal.SIGINT)
            task.communicate(timeout=60)
    took = time.monotonic() - started
    said = "".join(seen) + rest
    print(f"up failed {took:.0f}s after the kubelet was killed (bound {READY_TIMEOUT}s)")
    assert task.returncode != 0
    assert took < READY_TIMEOUT + 60
    assert re.search(r"node news-tracker is NotReady.*run `invoke cluster.up`", said), said[-3000:]
    invoke("cluster.up", timeout=600)
    invoke("up")
    wait_for(all_pods_ready, "every pod Ready after cluster.up and up", timeout=120)


def test_06_an_image_missing_on_the_node_fails_the_up_at_once_naming_the_pod_and_images_load(
        deployed: dict[str, Any]) -> None:
    ctr = local_driver().ctr_command()
    api = outputs()["pods"]["api"]["name"]
    image = kubectl_json("get", "pod", api)["spec"]["containers"][0]["image"]
    listed = [line.split() for line in subprocess.run([*ctr, "images", "list"], capture_output=True,
                                                       text=True, check=True).stdout.splitlines()[1:]]
    digest = next(columns[2] for columns in listed if columns[0].endswith(image))
    subprocess.run([*ctr, "images", "rm", *[c[0] for c in listed if c[2] == digest]], check=True,
                   capture_output=True)
    invoke("delete-pod", api)
    started = time.monotonic()
    failed = invoke("up", check=False, timeout=READY_TIMEOUT + 120)
    took = time.monotonic() - started
    said = failed.stdout + failed.stderr
    print(f"up failed {took:.0f}s after it started (bound {READY_TIMEOUT}s)")
    assert failed.returncode != 0
    assert took < READY_TIMEOUT, said[-3000:]
    assert re.search(rf"pod {api}: \w+.*run `invoke images.load`", said), said[-3000:]
    assert f"deleted pod {api}" in said, said[-3000:]  # else it waits out the kubelet's pull back-off
    invoke("images.load", timeout=600)
    invoke("up")
    wait_for(all_pods_ready, "every pod Ready after images.load and up", timeout=120)
