"""The post, replayed against a real cluster through the invoke tasks, in the post's order.

Each test builds on the state the previous one left (one deployed ci stack), as the post's
reader does; the last one tears the stack down.
"""
from __future__ import annotations

import json
import re
import secrets
import subprocess
import time
import uuid
from datetime import datetime, timezone
from typing import Any

import pytest
import requests

from apps.newsbus.broker import BrokerUnavailable
from tests.live.fake_newsapi import fake_newsapi, requests_served
from tests.live.graceful import Stopped, delete_gracefully
from tests.live.pod_logs import logged_since
from tests.live.proc_sampler import sampling_processes
from tests.live.stack_config import LOGINS, deployed_with, stack_logins
from tests.live.steady_state import WINDOW_SECONDS, Window, clients_connected, close_window, open_window
from tests.live.tasks_runner import (
    ENV,
    INVOKE,
    invoke,
    kubectl,
    kubectl_json,
    outputs,
    port_forward,
    wait_for,
    watching,
)
from tests.news_apps import free_port, stomp_session
from tools.paths import REPO
from tools.stack import open_stack
from tools.stack_secrets import set_secret

pytestmark = pytest.mark.live

SAMPLE = json.loads((REPO / "apps/news_job/sample-articles.json").read_text())["articles"]
#: The steady-state window opened by test 01 and closed by test 07b; the tests between leave the
#: pods alone, so the three minutes it needs pass while they run.
STEADY: list[Window] = []


def pods_by_name() -> dict[str, dict[str, Any]]:
    return {p["metadata"]["name"]: p for p in kubectl_json("get", "pods")["items"]}


def ready(pod: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))


def changes(done: subprocess.CompletedProcess[str]) -> dict[str, int]:
    return json.loads(re.search(r"^changes: (\{.*\})$", done.stdout, re.M).group(1))


def articles_via_port_forward() -> list[dict[str, Any]]:
    api = outputs()["pods"]["api"]["name"]
    with port_forward("--pod", api, "--ports", f"{free_port()}:8080") as port:
        return requests.get(f"http://127.0.0.1:{port}/news/getAll", timeout=10).json()


def exec_in(pod: str, command: str) -> str:
    return invoke("exec", pod, "--command", command).stdout


def article(title: str) -> dict[str, Any]:
    """A NewsAPI-shaped article whose url, unique to this call, marks it at the api."""
    return {"source": {"id": None, "name": "live test"}, "author": "live test", "title": title,
            "description": "", "url": f"https://example.com/live-{uuid.uuid4().hex}",
            "urlToImage": None, "publishedAt": "2026-11-25T00:00:00Z", "content": ""}


def publish_once(job: str, title: str) -> str:
    """Publish one new article with the job's own code, inside the job pod; returns its url."""
    one = article(title)
    exec_in(job, "printf '%s' " + json.dumps(json.dumps({"articles": [one]})) +
            " > /tmp/one.json && NEWS_SOURCE_FILE=/tmp/one.json NEWS_JOB_INTERVAL_SECONDS=0 NEWS_JOB_READY_FILE= "
            "python3 -m apps.news_job")
    return one["url"]


def test_00_up_generates_the_broker_passwords_on_no_command_line_and_in_no_environment() -> None:
    """While `invoke up` makes the stack secrets, every process's argv in /proc (what `ps` shows
    any local user) and the environment of every process outside the pods (whose containers get
    them from their Secrets by design) are sampled: no new password is in any of them."""
    config_file = REPO / "Pulumi.ci.yaml"
    # Generated afresh below (a deployed stack then rotates them: its pods are replaced).
    keys = "|".join(key for key, _ in LOGINS.values())
    config_file.write_text(re.sub(rf"^  news-tracker:({keys}):\n    secure: \S+\n", "",
                                  config_file.read_text(), flags=re.M))
    with sampling_processes() as seen:
        invoke("up")
    for key, _ in LOGINS.values():
        setting = [s for s in seen if all(word in s.split(b"\0") for word in
                                          (b"config", b"set", b"--secret", f"news-tracker:{key}".encode()))]
        assert setting, f"the sampler never saw {key} being set"
    password = re.compile(b"|".join(re.escape(p.encode()) for _, p in stack_logins().values()))
    # On failure, show which command held one, with the value itself masked.
    assert [password.sub(b"********", s).replace(b"\0", b" ")[:200] for s in seen if password.search(s)] == []


def test_01_up_admits_every_pod_under_restricted_and_a_second_up_changes_nothing_quietly() -> None:
    invoke("up")
    values = outputs()
    namespace = kubectl_json("get", "namespace", values["namespace"])
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    pods = pods_by_name()
    assert set(pods) == {p["name"] for p in values["pods"].values()}
    # The ci stack's job publishes every 10 s, so it too runs and is Ready.
    for role in ("broker", "job", "api"):
        assert ready(pods[values["pods"][role]["name"]]), role
    again = invoke("up")
    assert set(changes(again)) == {"same"}
    assert re.findall(r"^.*warning:.*$", again.stdout + again.stderr, re.M | re.I) == []
    STEADY.append(open_window(stack_logins()["admin"]))


def test_02_pods_have_distinct_ips_equal_to_the_stack_outputs() -> None:
    values, pods = outputs(), pods_by_name()
    exported = {p["name"]: p["ip"] for p in values["pods"].values()}
    assert exported == {name: pod["status"]["podIP"] for name, pod in pods.items()}
    assert len(set(exported.values())) == 3
    listing = invoke("pods").stdout
    for name, ip in exported.items():
        assert re.search(rf"^{name}\s.*\s{re.escape(ip)}\s", listing, re.M), listing


#: From a pod with Python (job, api): a TCP connection to HOST PORT, printed when made.
CONNECT = ("python3 -c \"import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 5); "
           "print('connected', sys.argv[1])\" ")
#: The job pod listens on nothing; for the others to reach it, it answers two HTTP requests here.
JOB_LISTENS = ("python3 -c \"import socket; server = socket.create_server(('', 18080)); server.settimeout(60); "
               "[(c.recv(4096), c.sendall(b'HTTP/1.0 200 OK\\r\\n\\r\\nthe job pod'), c.close()) "
               "for c in (server.accept()[0] for _ in range(2))]; print('answered 2')\"")


def connected(source: str, host: str, port: int) -> bool:
    return f"connected {host}" in invoke("exec", source, "--command", f"{CONNECT}{host} {port}", check=False).stdout


def test_03_pods_reach_each_other_by_ip_in_every_direction_and_the_broker_by_its_service_name() -> None:
    values = outputs()
    broker, job, api = (values["pods"][r]["name"] for r in ("broker", "job", "api"))
    ips = {name: pod["status"]["podIP"] for name, pod in pods_by_name().items()}
    for source in (job, api):
        assert connected(source, ips[broker], 61613), source
        assert connected(source, "activemq", 61613), source
    assert connected(job, ips[api], 8080)
    assert connected(api, f"activemq.{values['namespace']}.svc.cluster.local", 61613)
    listener = subprocess.Popen([INVOKE, "exec", job, "--command", JOB_LISTENS], cwd=REPO, env=ENV,
                                text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: connected(api, ips[job], 18080), "the api to reach the job pod", timeout=30)
        from_broker = invoke("ping", "--source", broker, "--target", job, "--port", "18080").stdout
        assert from_broker.endswith("the job pod\nHTTP 200\n"), from_broker
        answered, _ = listener.communicate(timeout=30)
    finally:
        listener.kill()
    assert "answered 2" in answered, answered
    # broker -> api: test 04, the post's own curl.


def test_04_the_posts_curl_from_the_broker_to_the_api_pod_ip() -> None:
    values = outputs()
    broker, api = values["pods"]["broker"]["name"], values["pods"]["api"]["name"]
    api_ip = pods_by_name()[api]["status"]["podIP"]
    done = invoke("ping")
    target, body, status = re.fullmatch(r"([^\n]*)\n(.*)\nHTTP (\d+)\n", done.stdout, re.S).groups()
    assert target == f"{broker} -> http://{api_ip}:8080/"
    # The api's own index: only the api pod, reached, answers with it.
    assert (status, json.loads(body)["service"]) == ("200", "news-api")


def test_05_the_jobs_articles_come_back_from_the_api_through_port_forward() -> None:
    titles = {a["title"] for a in SAMPLE}
    got = wait_for(lambda: {a["title"] for a in articles_via_port_forward()} & titles,
                   "the sample articles in GET /news/getAll")
    assert got == titles
    article = articles_via_port_forward()[0]
    assert {"source", "author", "title", "description", "url", "urlToImage", "publishedAt",
            "content"} <= article.keys()


def test_06_console_via_port_forward_on_loopback_with_the_stack_secret_only() -> None:
    user, password = stack_logins()["admin"]
    with port_forward("--ports", f"{free_port()}:8161") as port:
        listeners = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True,
                                   text=True, check=True).stdout
        bound = {line.split()[3] for line in listeners.splitlines()}
        assert bound and bound <= {f"127.0.0.1:{port}", f"[::1]:{port}"}, listeners
        console = f"http://127.0.0.1:{port}/admin/"
        assert requests.get(console, auth=(user, password), timeout=15).status_code == 200
        assert requests.get(console, auth=("admin", "admin"), timeout=15).status_code == 401
        assert requests.get(console, timeout=15).status_code == 401


def test_07_logs_show_the_broker_start_the_job_batches_and_the_sidecar() -> None:
    values = outputs()
    broker, job = values["pods"]["broker"]["name"], values["pods"]["job"]["name"]
    assert re.search(r"Apache ActiveMQ .* started", invoke("logs", broker).stdout)
    wait_for(lambda: re.search(r"published \d+ articles? to /queue/news-queue",
                               invoke("logs", job).stdout), "the job's batch line")
    sidecar = values["pods"]["broker"]["containers"][1]
    assert re.search(r"Apache ActiveMQ .* started", invoke("logs", broker, "--container", sidecar).stdout)
    missing = invoke("logs", broker, "--container", "nope", check=False)
    assert missing.returncode != 0 and "has no container 'nope'" in missing.stderr


def assert_stopped_on_sigterm(stopped: Stopped, exit_codes: dict[str, int]) -> None:
    """Every container ended by itself on SIGTERM (its exit code, never SIGKILL's 137), and the
    delete took a small part of the grace period that a container ignoring SIGTERM would use up."""
    assert stopped.exit_codes == exit_codes, stopped
    assert stopped.seconds < stopped.grace_period / 2, stopped


def test_07b_three_minutes_of_steady_state_keep_the_same_connections_without_churn() -> None:
    login = stack_logins()["admin"]
    window = STEADY[0] if STEADY else open_window(login)  # run alone: the whole wait here
    seconds, churn, connections = close_window(window, login)
    assert seconds >= WINDOW_SECONDS
    assert churn == []
    assert connections == window.connections


def test_08_job_and_api_stop_on_sigterm_at_once_and_the_api_deleted_by_force_gets_a_new_ip() -> None:
    values = outputs()
    api, job = values["pods"]["api"]["name"], values["pods"]["job"]["name"]
    first_ip = values["pods"]["api"]["ip"]
    follow = subprocess.Popen([INVOKE, "logs", api, "--follow"], cwd=REPO, env=ENV, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    time.sleep(2)
    stopped_api, stopped_job = delete_gracefully(api, job)
    log, _ = follow.communicate(timeout=60)
    assert "stopping on SIGTERM" in log, log[-2000:]
    # Exit code 0: each app stopped by itself on SIGTERM, long before the grace period's SIGKILL.
    assert_stopped_on_sigterm(stopped_api, {c: 0 for c in values["pods"]["api"]["containers"]})
    assert_stopped_on_sigterm(stopped_job, {c: 0 for c in values["pods"]["job"]["containers"]})
    invoke("up")
    second_ip = outputs()["pods"]["api"]["ip"]
    assert second_ip != first_ip
    with watching(api) as states:
        invoke("delete-pod", api, "--force")
        left = kubectl().output("get", "pods", "--field-selector", f"metadata.name={api}", "-o", "name")
    assert states and left == ""  # gone from the API when the task returned
    # A graceful delete first marks the pod with its grace period (10 s) and waits; a forced one
    # removes it at once, so no state the watch saw carries a grace period above 0.
    marked = [s["metadata"].get("deletionGracePeriodSeconds") for s in states if s["metadata"].get("deletionTimestamp")]
    assert set(marked) <= {0}, marked
    invoke("up")
    assert ready(pods_by_name()[api])
    assert outputs()["pods"]["api"]["ip"] != second_ip


def test_08b_broker_stops_on_sigterm_at_once_and_job_and_api_reconnect_to_its_new_pod() -> None:
    values = outputs()
    broker, api, job = (values["pods"][r]["name"] for r in ("broker", "api", "job"))
    old_ip = values["pods"]["broker"]["ip"]
    clients_connected(stack_logins()["admin"])
    deleted = datetime.now(timezone.utc)
    (stopped,) = delete_gracefully(broker)
    # The JVM runs its shutdown hooks on SIGTERM and exits 143 (128 + SIGTERM); the log sidecar
    # traps SIGTERM and exits 0. A bare `tail` as PID 1 ignored it and was SIGKILLed (137) at 30 s.
    main, sidecar = values["pods"]["broker"]["containers"]
    assert_stopped_on_sigterm(stopped, {main: 143, sidecar: 0})
    invoke("up")
    assert outputs()["pods"]["broker"]["ip"] != old_ip
    wait_for(lambda: ready(pods_by_name()[api]), "the api to be ready again", timeout=240)
    batches = lambda: len(re.findall(r"published \d+ articles?", invoke("logs", job).stdout))  # noqa: E731
    before = batches()
    wait_for(lambda: batches() > before, "a job batch through the new broker pod", timeout=240)
    # A new article flows through the new broker pod to the api, whose consumer reconnected
    # (neither app was restarted to get there).
    marker = publish_once(job, "published through the new broker pod")
    wait_for(lambda: marker in {a["url"] for a in articles_via_port_forward()},
             "an article published through the new broker pod at the api", timeout=120)
    for name in (job, api):
        assert pods_by_name()[name]["status"]["containerStatuses"][0]["restartCount"] == 0, name
    for role in ("job", "api"):  # each noticed the broker's end within seconds
        pod = values["pods"][role]
        lost = [when for when, line in logged_since(pod["name"], pod["containers"][0], deleted)
                if "lost the connection to activemq:" in line]
        assert lost and (lost[0] - deleted).total_seconds() < 15, (role, lost)


def test_09_restart_container_kills_pid_1_and_the_pod_is_ready_again() -> None:
    api = outputs()["pods"]["api"]["name"]
    before = pods_by_name()[api]["status"]["containerStatuses"][0]["restartCount"]
    invoke("restart-container", api)
    wait_for(lambda: pods_by_name()[api]["status"]["containerStatuses"][0]["restartCount"] == before + 1,
             "restartCount to rise by one")
    wait_for(lambda: ready(pods_by_name()[api]), "the api to be ready again")


def test_10_with_persistence_articles_published_while_the_api_is_down_survive_a_new_broker() -> None:
    values = outputs()
    api, broker, job = (values["pods"][r]["name"] for r in ("api", "broker", "job"))
    invoke("delete-pod", api)
    marker = publish_once(job, "published while the api was down")
    invoke("delete-pod", broker)
    invoke("up")
    wait_for(lambda: marker in {a["url"] for a in articles_via_port_forward()},
             "the article published while the api was down", timeout=240)


def test_10b_the_job_deployed_with_the_newsapi_source_publishes_what_a_newsapi_server_serves() -> None:
    """The `newsapi` source end to end, offline: the job pod asks a NewsAPI-shaped server of this
    test's own, a pod in the stack's namespace, with the stack's newsapiKey secret."""
    key, served = uuid.uuid4().hex, article("served by the cluster's own NewsAPI")
    with fake_newsapi(outputs()["namespace"], key, [served]) as url:
        with deployed_with({"job": {"source": "newsapi", "newsapiUrl": url, "query": "kubernetes"}},
                           {"newsapiKey": key}):
            wait_for(lambda: served["url"] in {a["url"] for a in articles_via_port_forward()},
                     "the fake NewsAPI's article at the api", timeout=120)
            requests_seen = [line for line in requests_served() if line.startswith("GET ")]
    assert requests_seen and all(re.fullmatch(r"GET /v2/everything\?q=kubernetes&\S* key accepted", line)
                                 for line in requests_seen), requests_seen


def test_10c_each_rotated_broker_login_reaches_its_pods_and_the_old_one_is_refused() -> None:
    """All three logins rotated with the stack deployed; then each role can do its part and
    nothing else: the console takes the admin's login only, the publisher cannot read the queue,
    the consumer cannot write it."""
    old = stack_logins()
    for key, _ in LOGINS.values():
        set_secret(open_stack("ci"), f"news-tracker:{key}", secrets.token_urlsafe(24))
    invoke("up")  # returns once every pod is Ready, which each is only when logged in to the broker
    new = stack_logins()
    assert not [role for role in LOGINS if new[role][1] == old[role][1]]
    marker = publish_once(outputs()["pods"]["job"]["name"], "published after the rotation")
    wait_for(lambda: marker in {a["url"] for a in articles_via_port_forward()},
             "an article published after the rotation at the api", timeout=120)
    with port_forward("--ports", f"{free_port()}:8161") as console_port:
        console = f"http://127.0.0.1:{console_port}/admin/"
        assert requests.get(console, auth=new["admin"], timeout=15).status_code == 200
        for login in (old["admin"], new["publisher"], new["consumer"]):
            assert requests.get(console, auth=login, timeout=15).status_code == 401, login[0]
    with port_forward("--ports", f"{free_port()}:61613") as stomp_port:
        for role in LOGINS:
            with pytest.raises(BrokerUnavailable, match="refused the login"), stomp_session(stomp_port, old[role]):
                pass
        with stomp_session(stomp_port, new["publisher"]) as publisher, \
                pytest.raises(BrokerUnavailable, match="not authorized to read"):
            publisher.subscribe(lambda body: None)
        with stomp_session(stomp_port, new["consumer"]) as consumer, \
                pytest.raises(BrokerUnavailable, match="refused the published batch"):
            consumer.publish(['{"url": "https://news.example.com/from-the-consumer"}'])


def test_11_ci_tasks_preview_and_deploy() -> None:
    # Only `same`: an update or a replacement would also print "same=" for the others.
    for task, title in (("ci.preview", "preview"), ("ci.deploy", "deploy")):
        output = invoke(task).stdout
        assert re.search(rf"^{title} \(ci\): same=\d+$", output, re.M), output


def test_12_down_removes_everything_the_stack_made() -> None:
    cluster = kubectl()
    invoke("down")
    left = cluster.json("get", "all,configmaps,secrets,pvc,namespaces", "--all-namespaces",
                        "-l", "app.kubernetes.io/part-of=news-tracker")["items"]
    assert [f"{o['kind']}/{o['metadata']['name']}" for o in left] == []
