"""The local cluster's data plane is closed: etcd answers only clients with a certificate of the
cluster's CA (the API server), a Secret lies in etcd sealed (secretbox), never in plain text, the
API server answers no anonymous request, and a pod reaches the API server on the host but no
other listener there (the kubelet's, or a service of the test's own bound to every address). kind's control plane is kubeadm's: these checks
are about the local driver's own processes, so they skip under kind.
"""
from __future__ import annotations

import base64
import http.server
import secrets
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
import yaml

from tools.cluster import choose_driver, kubectl_command
from tools.cluster.local.images import BUSYBOX_IMAGE
from tools.cluster.local import layout
from tools.cluster.local.driver import LocalDriver

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def pki() -> Path:
    driver = choose_driver()
    if not isinstance(driver, LocalDriver):
        pytest.skip("etcd and the API server flags checked here are the local driver's; kind's are kubeadm's")
    return driver.state.pki


def kubectl(*args: str, stdin: str | None = None) -> str:
    done = subprocess.run([*kubectl_command(), "--kubeconfig", str(choose_driver().kubeconfig), *args],
                          input=stdin, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def sealed_secret(pki: Path) -> Iterator[tuple[str, str, str]]:
    """A Secret of the test's own (namespace, name, value); the value goes to kubectl on stdin."""
    namespace, name, value = f"lockdown-{uuid.uuid4().hex[:6]}", "probe", secrets.token_urlsafe(24)
    documents = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
                 {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": namespace},
                  "stringData": {"password": value}}]
    kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(documents))
    try:
        yield namespace, name, value
    finally:
        kubectl("delete", "namespace", namespace, "--wait=false")


def etcd_get(pki: Path, key: str) -> bytes:
    """One key's value through etcd's JSON gateway, as the API server's client certificate."""
    answer = requests.post(f"{layout.ETCD_CLIENT_URL}/v3/kv/range",
                           json={"key": base64.b64encode(key.encode()).decode()},
                           cert=(str(pki / "apiserver-etcd-client.crt"), str(pki / "apiserver-etcd-client.key")),
                           verify=str(pki / "ca.crt"), timeout=10)
    answer.raise_for_status()
    kvs = answer.json().get("kvs", [])
    assert len(kvs) == 1, f"etcd has no {key}"
    return base64.b64decode(kvs[0]["value"])


@pytest.mark.parametrize("url", [f"{layout.ETCD_CLIENT_URL}/health", f"{layout.ETCD_PEER_URL}/version"],
                         ids=["client port", "peer port"])
def test_etcd_refuses_a_client_without_a_certificate_of_the_clusters_ca(pki: Path, url: str) -> None:
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(url, verify=str(pki / "ca.crt"), timeout=10)
    with pytest.raises(requests.exceptions.ConnectionError):  # plain HTTP is not served at all
        requests.get(url.replace("https:", "http:"), timeout=10)
    client = (str(pki / "apiserver-etcd-client.crt"), str(pki / "apiserver-etcd-client.key"))
    assert requests.get(url, cert=client, verify=str(pki / "ca.crt"), timeout=10).status_code == 200


def test_a_secret_is_sealed_in_etcd_and_read_back_whole_through_the_api_server(
        pki: Path, sealed_secret: tuple[str, str, str]) -> None:
    namespace, name, value = sealed_secret
    stored = etcd_get(pki, f"/registry/secrets/{namespace}/{name}")
    assert stored.startswith(b"k8s:enc:secretbox:v1:key1:"), stored[:40]
    assert value.encode() not in stored
    read = kubectl("get", "secret", name, "-n", namespace, "-o", "jsonpath={.data.password}")
    assert base64.b64decode(read).decode() == value


def test_the_api_server_answers_no_anonymous_request(pki: Path) -> None:
    for path in ("/api", "/readyz", "/version"):
        answer = requests.get(f"{layout.APISERVER_URL}{path}", verify=str(pki / "ca.crt"), timeout=10)
        assert answer.status_code == 401, (path, answer.status_code)


@pytest.fixture(scope="module")
def in_a_pod(pki: Path) -> Iterator[Callable[[str], str]]:
    """A busybox pod of the test's own; runs a shell script in it, returning all it printed."""
    namespace = f"lockdown-pod-{uuid.uuid4().hex[:6]}"
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "probe", "namespace": namespace},
           "spec": {"containers": [{"name": "probe", "image": BUSYBOX_IMAGE, "imagePullPolicy": "Never",
                                    "command": ["sleep", "3600"]}],
                    "terminationGracePeriodSeconds": 0}}
    kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(
        [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}, pod]))
    try:
        kubectl("wait", "--namespace", namespace, "--for=condition=Ready", "pod/probe", "--timeout=120s")
        yield lambda script: kubectl("exec", "--namespace", namespace, "probe", "--", "sh", "-c",
                                     f"{script} 2>&1; true")
    finally:
        kubectl("delete", "namespace", namespace, "--wait=false")


class _Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"the test's own service")

    def log_message(self, *args: object) -> None:
        pass


def test_a_pod_reaches_the_api_server_on_the_host_and_no_other_listener_there(
        in_a_pod: Callable[[str], str]) -> None:
    server = http.server.ThreadingHTTPServer(("0.0.0.0", 0), _Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        service = f"http://{layout.NODE_IP}:{server.server_address[1]}/"
        # The host itself reaches it at the bridge's address: only the guard can keep pods out.
        assert requests.get(service, timeout=5).text == "the test's own service"
        assert "Connection refused" in in_a_pod(f"timeout 10 wget -q -O - {service}")
    finally:
        server.shutdown()
        server.server_close()
    # The kubelet listens there too (its API, port 10250): refused as well.
    assert "Connection refused" in in_a_pod(f"timeout 10 wget -q -O - http://{layout.NODE_IP}:10250/")
    # The API server answers (HTTP to its HTTPS port: 400), so the TCP connection was made.
    assert "400 Bad Request" in in_a_pod(f"timeout 10 wget -q -O - http://{layout.NODE_IP}:{layout.APISERVER_PORT}/")
