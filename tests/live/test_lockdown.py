"""The local cluster's data plane is closed: etcd answers only clients with a certificate of the
cluster's CA (the API server), a Secret lies in etcd sealed (secretbox), never in plain text, and
the API server answers no anonymous request. kind's control plane is kubeadm's: these checks
are about the local driver's own processes, so they skip under kind.
"""
from __future__ import annotations

import base64
import secrets
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from tools.cluster import choose_driver, kubectl_command
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


def test_etcd_refuses_a_client_without_a_certificate_of_the_clusters_ca(pki: Path) -> None:
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{layout.ETCD_CLIENT_URL}/health", verify=str(pki / "ca.crt"), timeout=10)
    with pytest.raises(requests.exceptions.ConnectionError):  # plain HTTP is not served at all
        requests.get(layout.ETCD_CLIENT_URL.replace("https:", "http:") + "/health", timeout=10)
    client = (str(pki / "apiserver-etcd-client.crt"), str(pki / "apiserver-etcd-client.key"))
    assert requests.get(f"{layout.ETCD_CLIENT_URL}/health", cert=client, verify=str(pki / "ca.crt"),
                        timeout=10).status_code == 200


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
