"""The cluster works the way the project uses it: a locally built image runs; kubectl logs,
exec and port-forward reach it through the API server; pods reach each other by IP, through a
ClusterIP Service and by the Service's DNS name; a pod's service-account token gets it into the
API server through the `kubernetes` Service; a PVC binds; outside names do not resolve.

The session fixture in conftest.py brings the cluster up (and fails the run if it cannot).
Everything here happens in one namespace, deleted at the end.
"""

from __future__ import annotations

import json
import re
import subprocess
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.live.tasks_runner import wait_for
from tools.cluster import choose_driver, kubectl_command
from tools.cluster.local.images import BUSYBOX_IMAGE

pytestmark = pytest.mark.live

PAGE = "served by the web pod"
WEB_PORT = 8080


def manifests(namespace: str) -> list[dict[str, Any]]:
    web = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": namespace, "labels": {"app": "web"}},
        "spec": {
            "containers": [
                {
                    "name": "web",
                    "image": BUSYBOX_IMAGE,
                    "imagePullPolicy": "Never",
                    "command": [
                        "sh",
                        "-c",
                        f"echo '{PAGE}' > /www/index.html; echo web starting; exec httpd -f -p {WEB_PORT} -h /www",
                    ],
                    "ports": [{"containerPort": WEB_PORT}],
                }
            ]
        },
    }
    client = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "client", "namespace": namespace},
        "spec": {
            "containers": [
                {
                    "name": "client",
                    "image": BUSYBOX_IMAGE,
                    "imagePullPolicy": "Never",
                    "command": ["sh", "-c", "echo ok > /data/written; exec sleep 3600"],
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                }
            ],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}],
        },
    }
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": namespace},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": WEB_PORT}]},
    }
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        claim,
        web,
        client,
        service,
    ]


class Kubectl:
    """kubectl against the cluster under test, in the test namespace."""

    def __init__(self, namespace: str) -> None:
        self.base = [
            *kubectl_command(),
            "--kubeconfig",
            str(choose_driver().kubeconfig),
            "--namespace",
            namespace,
        ]

    def __call__(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [*self.base, *args], input=stdin, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, f"kubectl {' '.join(args)} failed: {done.stderr}"
        return done.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "-o", "json"))


@pytest.fixture(scope="module")
def kubectl() -> Iterator[Kubectl]:
    namespace = f"cluster-test-{uuid.uuid4().hex[:6]}"
    kubectl = Kubectl(namespace)
    kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(manifests(namespace)))
    kubectl("wait", "--for=condition=Ready", "pod/web", "pod/client", "--timeout=120s")
    yield kubectl
    kubectl("delete", "namespace", namespace, "--wait=false")


def test_locally_built_image_runs(kubectl: Kubectl) -> None:
    pod = kubectl.json("get", "pod", "web")
    assert pod["status"]["phase"] == "Running"
    assert pod["spec"]["containers"][0]["image"] == BUSYBOX_IMAGE


def test_logs_through_the_api_server(kubectl: Kubectl) -> None:
    assert "web starting" in kubectl("logs", "web")


def test_exec_through_the_api_server(kubectl: Kubectl) -> None:
    assert kubectl("exec", "web", "--", "cat", "/www/index.html").strip() == PAGE


def test_port_forward_through_the_api_server(kubectl: Kubectl) -> None:
    forward = subprocess.Popen(
        [*kubectl.base, "port-forward", "pod/web", f":{WEB_PORT}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert forward.stdout is not None
        first_line = forward.stdout.readline()
        match = re.search(r"Forwarding from 127\.0\.0\.1:(\d+)", first_line)
        assert match, f"port-forward said: {first_line!r}"
        with urllib.request.urlopen(f"http://127.0.0.1:{match.group(1)}/", timeout=10) as response:
            assert response.read().decode().strip() == PAGE
    finally:
        forward.terminate()
        forward.wait(timeout=10)


def fetch_from_client(kubectl: Kubectl, url: str) -> str:
    # busybox-static 1.35's `wget -T` crashes; the timeout applet bounds the request instead
    return kubectl("exec", "client", "--", "timeout", "10", "wget", "-q", "-O", "-", url).strip()


def test_pod_reaches_pod_by_ip(kubectl: Kubectl) -> None:
    web_ip = kubectl.json("get", "pod", "web")["status"]["podIP"]
    assert fetch_from_client(kubectl, f"http://{web_ip}:{WEB_PORT}/") == PAGE


def test_pod_reaches_pod_through_cluster_ip_service(kubectl: Kubectl) -> None:
    cluster_ip = kubectl.json("get", "service", "web")["spec"]["clusterIP"]
    wait_for(
        lambda: kubectl.json("get", "endpointslices", "-l", "kubernetes.io/service-name=web")["items"],
        "web endpoints",
        timeout=30,
    )
    assert fetch_from_client(kubectl, f"http://{cluster_ip}/") == PAGE


@pytest.mark.parametrize("name", ["web", "web.{namespace}.svc.cluster.local"])
def test_pod_reaches_pod_by_service_dns_name(kubectl: Kubectl, name: str) -> None:
    namespace = kubectl.json("get", "pod", "web")["metadata"]["namespace"]
    assert fetch_from_client(kubectl, f"http://{name.format(namespace=namespace)}/") == PAGE


def test_service_account_token_is_mounted(kubectl: Kubectl) -> None:
    token = kubectl("exec", "client", "--", "cat", "/var/run/secrets/kubernetes.io/serviceaccount/token")
    assert token.count(".") == 2  # a JWT: header.payload.signature


def test_pod_reaches_the_api_server_through_the_kubernetes_service_with_its_token(kubectl: Kubectl) -> None:
    script = (
        "token=$(cat /var/run/secrets/kubernetes.io/serviceaccount/token); "
        'timeout 10 wget -q -O - --no-check-certificate --header "Authorization: Bearer $token" '
        "https://kubernetes.default.svc/api"
    )
    assert json.loads(kubectl("exec", "client", "--", "sh", "-c", script))["kind"] == "APIVersions"


def test_persistent_volume_claim_binds_and_is_writable(kubectl: Kubectl) -> None:
    assert kubectl.json("get", "pvc", "data")["status"]["phase"] == "Bound"
    assert kubectl("exec", "client", "--", "cat", "/data/written").strip() == "ok"


def test_pods_cannot_resolve_outside_names(kubectl: Kubectl) -> None:
    """Cluster DNS has no upstream: an outside name must not resolve (and so is never reached)."""
    done = subprocess.run(
        [*kubectl.base, "exec", "client", "--", "nslookup", "example.com"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0, done.stdout


def claim_and_pod(name: str, command: str, volume: str = "") -> list[dict[str, Any]]:
    """A claim (bound to `volume` if given) and a run-once pod that runs `command` with it at /data."""
    claim_spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "1Gi"}},
    }
    if volume:
        claim_spec["volumeName"] = volume
    container = {
        "name": name,
        "image": BUSYBOX_IMAGE,
        "imagePullPolicy": "Never",
        "command": ["sh", "-c", command],
        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
    }
    return [
        {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name}, "spec": claim_spec},
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name},
            "spec": {
                "restartPolicy": "Never",
                "securityContext": {"runAsUser": 10001},
                "containers": [container],
                "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": name}}],
            },
        },
    ]


def test_a_released_volume_is_emptied_and_offered_again(kubectl: Kubectl) -> None:
    """Static hostPath volumes are recycled, so repeated deploys and destroys never run out."""
    kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(claim_and_pod("first", "echo old > /data/old")))
    kubectl("wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/first", "--timeout=120s")
    volume = kubectl.json("get", "pvc", "first")["spec"]["volumeName"]
    kubectl("delete", "pod/first", "pvc/first")
    kubectl("wait", "--for=jsonpath={.status.phase}=Available", f"pv/{volume}", "--timeout=120s")

    kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(claim_and_pod("second", "ls -A /data", volume)))
    kubectl("wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/second", "--timeout=120s")
    assert kubectl("logs", "second") == ""
