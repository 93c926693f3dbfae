"""A NewsAPI-shaped server of the live tests' own, run as a pod in the stack's namespace, so the
job's `newsapi` source is deployed and exercised without reaching the internet: the job's pod
talks to this pod's IP inside the cluster and nothing else.

It runs the news-api image (already on the nodes, runs as a non-root user, so the namespace's
`restricted` policy admits it) with a short server script of ours in place of the app."""
from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from apps.images import IMAGES, RUNTIME_UID
from tests.live.tasks_runner import kubectl, kubectl_json, wait_for
from tools.kube import KubectlFailed

POD = "fake-newsapi"
PORT = 8080

#: Answers GET /v2/everything as NewsAPI does: the articles when X-Api-Key is the expected key,
#: NewsAPI's error shape with 401 when it is not. One log line per request says which.
SERVER = """
import http.server, json, os, signal, sys
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
KEY, ARTICLES = os.environ["FAKE_KEY"], os.environ["FAKE_ARTICLES"]
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        ok = self.headers.get("X-Api-Key") == KEY and self.path.startswith("/v2/everything?")
        body = (ARTICLES if ok else json.dumps({"status": "error", "code": "apiKeyInvalid",
                                                "message": "refused"})).encode()
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        print("GET", self.path, "key", "accepted" if ok else "refused", flush=True)
    def log_message(self, *args):
        pass
print("fake newsapi listening", flush=True)
http.server.ThreadingHTTPServer(("", %d), Handler).serve_forever()
""" % PORT


def pod_manifest(namespace: str, key: str, articles: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": POD, "namespace": namespace},
        "spec": {
            "automountServiceAccountToken": False,
            "terminationGracePeriodSeconds": 5,
            "securityContext": {"runAsNonRoot": True, "runAsUser": RUNTIME_UID,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "server",
                "image": IMAGES["news-api"],
                "imagePullPolicy": "IfNotPresent",
                "command": ["python3", "-c", SERVER],
                "env": [{"name": "FAKE_KEY", "value": key},
                        {"name": "FAKE_ARTICLES",
                         "value": json.dumps({"status": "ok", "totalResults": len(articles),
                                              "articles": articles})}],
                "ports": [{"containerPort": PORT}],
                "securityContext": {"allowPrivilegeEscalation": False,
                                    "capabilities": {"drop": ["ALL"]}},
            }],
        },
    }


@contextmanager
def fake_newsapi(namespace: str, key: str, articles: list[dict[str, Any]]) -> Iterator[str]:
    """Run the server in `namespace` while the block runs; yields its /v2/everything URL."""
    cluster = kubectl()
    with tempfile.NamedTemporaryFile("w", suffix=".json") as manifest:
        json.dump(pod_manifest(namespace, key, articles), manifest)
        manifest.flush()
        cluster.output("apply", "-f", manifest.name)
    try:
        wait_for(lambda: "fake newsapi listening" in "\n".join(requests_served()),
                 "the fake NewsAPI server to listen", timeout=60)
        ip = kubectl_json("get", "pod", POD)["status"]["podIP"]
        yield f"http://{ip}:{PORT}/v2/everything"
    finally:
        cluster.output("delete", "pod", POD, "--wait=true")


def requests_served() -> list[str]:
    """The server's log: one `GET <path> key accepted|refused` line per request (none while
    its container is still being created)."""
    try:
        return kubectl().output("logs", POD).splitlines()
    except KubectlFailed:
        return []
