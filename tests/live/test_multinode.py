"""The post's multi-node points, on the kind cluster (one control plane, two workers): the ci
stack (spreadAcrossNodes on) runs its pods on different nodes, and they reach each other across
nodes by IP and through the Service.

kind only: the local driver has one node, so under it this module is skipped; under kind every
test here runs, and fails if the cluster cannot do what it claims. Its tests run on the ci stack
that test_post.py deployed (their `invoke up` is a no-op): those that only read it inside
test_post.py's steady-state window, the forced delete and the stopped nodes right after it
(conftest.py). Run alone, the module deploys the stack itself. The last test stops the node
containers and checks that `cluster.up` starts them again.
"""
from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest

from tests.live.tasks_runner import invoke, kubectl, kubectl_json, outputs, wait_for
from tools.cluster import choose_driver
from tools.cluster.kind import KindDriver, engine
from tools.cluster.kind.driver import CLUSTER_LABEL, CLUSTER_NAME

pytestmark = pytest.mark.live

if not isinstance(choose_driver(), KindDriver):
    pytest.skip("multi-node tests need the kind driver's three nodes; the local driver has one",
                allow_module_level=True)

CONNECT = ("python3 -c \"import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 5); "
           "print('connected', sys.argv[1])\" ")


def stack_pods() -> dict[str, dict[str, Any]]:
    """Role (broker, job, api) -> the pod as the API server has it."""
    by_name = {p["metadata"]["name"]: p for p in kubectl_json("get", "pods")["items"]}
    return {role: by_name[pod["name"]] for role, pod in outputs()["pods"].items()}


def ready(pod: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))


def connect_from(pod: str, host: str, port: int) -> str:
    return invoke("exec", pod, "--command", f"{CONNECT}{host} {port}").stdout


@pytest.fixture(scope="module", autouse=True)
def deployed() -> None:
    invoke("up")
    wait_for(lambda: all(ready(pod) for pod in stack_pods().values()), "the three pods Ready")


@pytest.mark.leaves_the_stack_alone
def test_the_scheduler_spreads_the_three_pods_over_at_least_two_nodes_by_their_spread_constraint() -> None:
    """On two schedulable workers the scheduler's own scoring tends to spread three pods too, so
    the outcome alone cannot show the stack's constraint: each pod as the API server keeps it must
    carry it (hard, one apart per node), and the scheduler must have placed them by it."""
    pods = stack_pods()
    for role, pod in pods.items():
        assert [(c["topologyKey"], c["maxSkew"], c["whenUnsatisfiable"])
                for c in pod["spec"].get("topologySpreadConstraints", [])] == [
            ("kubernetes.io/hostname", 1, "DoNotSchedule")], role
    nodes = {role: pod["spec"]["nodeName"] for role, pod in pods.items()}
    assert len(set(nodes.values())) >= 2, nodes


@pytest.mark.leaves_the_stack_alone
def test_invoke_pods_shows_each_pods_node() -> None:
    listing = invoke("pods").stdout
    assert re.search(r"^NAME\s.*\sNODE\s", listing, re.M), listing
    for pod in stack_pods().values():
        assert re.search(rf"^{pod['metadata']['name']}\s.*\s{pod['spec']['nodeName']}\s", listing, re.M), listing


def a_pod_on_another_node_than(target: dict[str, Any]) -> str:
    """The name of the job or api pod (both have python3) on a node other than `target`'s."""
    for role in ("api", "job"):
        pod = stack_pods()[role]
        if pod["spec"]["nodeName"] != target["spec"]["nodeName"]:
            return pod["metadata"]["name"]
    raise AssertionError("no pod with python3 on another node than " + target["metadata"]["name"])


@pytest.mark.leaves_the_stack_alone
def test_a_pod_reaches_a_pod_on_another_node_by_ip() -> None:
    pods = stack_pods()
    api, job = pods["api"], pods["job"]
    target = api if api["spec"]["nodeName"] != job["spec"]["nodeName"] else pods["broker"]
    source = a_pod_on_another_node_than(target)
    port = 8080 if target is api else 61613
    assert f"connected {target['status']['podIP']}" in connect_from(source, target["status"]["podIP"], port)


@pytest.mark.leaves_the_stack_alone
def test_the_activemq_service_reaches_the_broker_from_another_node() -> None:
    source = a_pod_on_another_node_than(stack_pods()["broker"])
    assert "connected activemq" in connect_from(source, "activemq", 61613)


@pytest.mark.leaves_the_stack_alone
def test_kubectl_sorts_pods_by_node_name() -> None:
    listing = kubectl().output("get", "pods", "-o", "wide", "--sort-by=.spec.nodeName")
    header, *rows = listing.splitlines()
    column = header.split().index("NODE")
    nodes = [row.split()[column] for row in rows]
    assert len(nodes) >= 3
    assert nodes == sorted(nodes) and len(set(nodes)) >= 2, listing


@pytest.mark.disturbs_the_stack
def test_a_pod_deleted_by_force_on_a_worker_comes_back_with_up() -> None:
    pods = stack_pods()
    role = next(role for role in ("api", "job") if "control-plane" not in pods[role]["spec"]["nodeName"])
    name, uid = pods[role]["metadata"]["name"], pods[role]["metadata"]["uid"]
    invoke("delete-pod", name, "--force")
    invoke("up")
    again = stack_pods()[role]
    assert again["metadata"]["uid"] != uid
    wait_for(lambda: ready(stack_pods()[role]), f"the new {name} Ready")


@pytest.mark.disturbs_the_stack
def test_stopped_node_containers_are_started_again_by_up_with_their_pods() -> None:
    """A Docker restart or a reboot stops the nodes: `cluster.up` starts the same containers (no
    new cluster), and the stack's pods run again on their nodes without a redeploy."""
    driver = choose_driver()
    assert isinstance(driver, KindDriver)
    env = engine.command_env(driver.engine_layout)

    def docker(*args: str) -> str:
        return subprocess.run(["docker", *args], env=env, capture_output=True, text=True, check=True).stdout

    nodes = docker("ps", "--quiet", "--filter", f"label={CLUSTER_LABEL}={CLUSTER_NAME}").split()
    before = {role: pod["metadata"]["uid"] for role, pod in stack_pods().items()}
    docker("stop", "--time=5", *nodes)
    invoke("cluster.up", timeout=600)
    assert sorted(docker("ps", "--quiet", "--filter", f"label={CLUSTER_LABEL}={CLUSTER_NAME}").split()) == sorted(nodes)
    wait_for(lambda: all(ready(pod) for pod in stack_pods().values()), "the three pods Ready again", timeout=300)
    assert {role: pod["metadata"]["uid"] for role, pod in stack_pods().items()} == before
