"""The pod tasks, run as a user types them (invoke's own parser, the real task bodies, the kept
outputs) against a fake kubectl on PATH: the argv each option produces, kubectl's exit code
passed through with the failing command named, and the errors raised before kubectl runs.
Also the one other task option typed int, bench's --rounds."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

import tasks.session
import tools.kube
from tests.unit.fake_tools import KUBECTL_ANSWERS, KUBECTL_CALLS, fake_kubectl
from tests.unit.task_runner import Invoke, invoke  # noqa: F401 (the fixture)
from tools import outputs_cache
from tools.paths import REPO
from tools.target import ClusterTarget

STACK = "unit"
NAMESPACE = "news-unit"
#: What `up` keeps for the pod tasks (tools.outputs_cache), in the shape __main__.py exports.
OUTPUTS = {
    "namespace": NAMESPACE,
    "brokerService": {"name": "activemq", "ports": {"console": 8161, "openwire": 61616, "stomp": 61613}},
    "pods": {
        "broker": {"name": "activemq-pod", "containers": ["activemq", "broker-log"],
                   "ports": {"console": 8161, "openwire": 61616, "stomp": 61613}},
        "job": {"name": "newsproducer-pod", "containers": ["newsproducer"], "ports": {}},
        "api": {"name": "newsapi-pod", "containers": ["newsapi"], "ports": {"http": 8080}},
    },
}
# kubectl 1.34's own messages for the failures below.
NOT_FOUND = 'Error from server (NotFound): pods "newsapi-pod" not found\n'
REFUSED = ("E1129 02:10:00.000000    4242 memcache.go:265] couldn't get current server API group list\n"
           "The connection to the server 127.0.0.1:6443 was refused - did you specify the right "
           "host or port?\n")


@dataclass
class FakeCluster:
    """The fake kubectl's directory: what it answers, and every argv it was called with."""
    directory: Path
    kubeconfig: Path

    def answer(self, *args: str, stdout: str = "", stderr: str = "", code: int = 0) -> None:
        path = self.directory / KUBECTL_ANSWERS
        answers = json.loads(path.read_text()) if path.exists() else []
        answers.append({"args": list(args), "stdout": stdout, "stderr": stderr, "code": code})
        path.write_text(json.dumps(answers))

    def calls(self) -> list[list[str]]:
        """Each call's argv after the global flags, which are checked to be the stack's."""
        path = self.directory / KUBECTL_CALLS
        argvs = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
        prefix = ["--kubeconfig", str(self.kubeconfig), "--context", "unit-context", "--namespace", NAMESPACE]
        assert all(argv[:len(prefix)] == prefix for argv in argvs), argvs
        return [argv[len(prefix):] for argv in argvs]


@pytest.fixture()
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeCluster:
    """A fake kubectl first on PATH, the stack's outputs kept as `up` keeps them, and a stack
    target whose kubeconfig exists; the engine is never started (it would fail the test)."""
    fake_kubectl(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    monkeypatch.setattr(tools.kube, "kubectl_command", lambda: ["kubectl"])
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    monkeypatch.setattr(tasks.session, "cluster_target", lambda stack: ClusterTarget(kubeconfig, "unit-context"))
    monkeypatch.setattr(outputs_cache, "BACKEND", tmp_path / "backend")
    monkeypatch.setattr(outputs_cache, "CACHE_DIR", tmp_path / "outputs")
    checkpoint = tmp_path / "backend" / ".pulumi" / "stacks" / "news-tracker" / f"{STACK}.json"
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_text("{}")
    outputs_cache.save(STACK, OUTPUTS)
    monkeypatch.setattr(tasks.session, "pulumi_stack", NoEngine())
    monkeypatch.setenv("INVOKE_NEWS_TRACKER_STACK", STACK)
    return FakeCluster(tmp_path / "bin", kubeconfig)


class NoEngine:
    """Stands for tools.stack: the pod tasks must not need the engine while outputs are kept."""

    def outputs(self, stack: str) -> dict[str, object]:
        raise AssertionError(f"the engine was asked for the outputs of {stack!r}")


def test_pods_lists_the_stacks_pods_and_passes_kubectls_output_through(cluster: FakeCluster, invoke: Invoke) -> None:
    table = ("NAME          READY   STATUS    RESTARTS   AGE   IP            NODE    NOMINATED NODE   READINESS GATES\n"
             "newsapi-pod   1/1     Running   0          2m    10.244.0.12   node1   <none>           <none>\n")
    cluster.answer("get", "pods", stdout=table)
    done = invoke("pods")
    assert (done.code, done.out) == (0, table)
    assert cluster.calls() == [["get", "pods", "-o", "wide", "-l", "app.kubernetes.io/part-of=news-tracker"]]


def test_pods_exits_with_kubectls_code_and_names_the_command(cluster: FakeCluster, invoke: Invoke) -> None:
    cluster.answer("get", "pods", stderr=REFUSED, code=1)
    done = invoke("pods")
    assert done.code == 1
    assert REFUSED in done.err
    assert "error: kubectl get pods -o wide -l app.kubernetes.io/part-of=news-tracker exited 1" in done.err


def test_describe_passes_a_failure_through(cluster: FakeCluster, invoke: Invoke) -> None:
    assert invoke("describe", "newsapi-pod").code == 0
    cluster.answer("describe", stderr=NOT_FOUND, code=3)
    done = invoke("describe", "newsapi-pod")
    assert done.code == 3
    assert "error: kubectl describe pod newsapi-pod exited 3" in done.err
    assert cluster.calls() == [["describe", "pod", "newsapi-pod"]] * 2


def test_an_unknown_pod_is_refused_before_kubectl_runs(cluster: FakeCluster, invoke: Invoke) -> None:
    done = invoke("describe", "newsapi")
    assert done.code == 1
    assert ("error: no pod 'newsapi' in this stack; its pods: activemq-pod, newsapi-pod, "
            "newsproducer-pod") in done.err
    assert cluster.calls() == []


def test_ip_prints_the_clusters_ip(cluster: FakeCluster, invoke: Invoke) -> None:
    cluster.answer("get", "pod", "newsapi-pod", stdout="10.244.0.12")
    done = invoke("ip", "newsapi-pod")
    assert (done.code, done.out) == (0, "10.244.0.12\n")
    assert cluster.calls() == [["get", "pod", "newsapi-pod", "-o", "jsonpath={.status.podIP}"]]


def test_ip_of_a_pod_without_one_is_an_error(cluster: FakeCluster, invoke: Invoke) -> None:
    done = invoke("ip", "newsapi-pod")
    assert (done.code, done.out) == (1, "")
    assert "error: pod 'newsapi-pod' has no IP yet" in done.err


def test_ip_exits_with_kubectls_code_and_message(cluster: FakeCluster, invoke: Invoke) -> None:
    cluster.answer("get", "pod", stderr=NOT_FOUND, code=5)
    done = invoke("ip", "newsapi-pod")
    assert done.code == 5
    assert ("error: kubectl get pod newsapi-pod -o jsonpath={.status.podIP} failed (exit 5): "
            + NOT_FOUND.strip()) in done.err


@pytest.mark.parametrize(("argv", "kubectl"), [
    (["logs", "activemq-pod"], ["logs", "activemq-pod", "-c", "activemq"]),
    (["logs", "activemq-pod", "--container", "broker-log", "--follow"],
     ["logs", "activemq-pod", "-c", "broker-log", "--follow"]),
    (["logs", "newsapi-pod", "--previous"], ["logs", "newsapi-pod", "-c", "newsapi", "--previous"]),
])
def test_logs_options(cluster: FakeCluster, invoke: Invoke, argv: list[str], kubectl: list[str]) -> None:
    assert invoke(*argv).code == 0
    assert cluster.calls() == [kubectl]


def test_logs_previous_without_a_previous_container_fails_with_kubectls_code(
        cluster: FakeCluster, invoke: Invoke) -> None:
    message = ('Error from server (BadRequest): previous terminated container "newsapi" in pod '
               '"newsapi-pod" not found\n')
    cluster.answer("logs", stderr=message, code=1)
    done = invoke("logs", "newsapi-pod", "--previous")
    assert done.code == 1
    assert message in done.err
    assert "error: kubectl logs newsapi-pod -c newsapi --previous exited 1" in done.err


def test_an_unknown_container_is_refused_before_kubectl_runs(cluster: FakeCluster, invoke: Invoke) -> None:
    done = invoke("logs", "activemq-pod", "--container", "sidecar")
    assert done.code == 1
    assert "error: pod 'activemq-pod' has no container 'sidecar'; it has: activemq, broker-log" in done.err
    assert cluster.calls() == []


def test_exec_runs_one_command_and_passes_its_exit_code_through(cluster: FakeCluster, invoke: Invoke) -> None:
    cluster.answer("exec", stderr="command terminated with exit code 7\n", code=7)
    done = invoke("exec", "activemq-pod", "--command", "false", "--container", "broker-log")
    assert done.code == 7
    assert "error: kubectl exec activemq-pod -c broker-log -- /bin/sh -c false exited 7" in done.err
    assert cluster.calls() == [["exec", "activemq-pod", "-c", "broker-log", "--", "/bin/sh", "-c", "false"]]


def test_exec_without_a_command_opens_an_interactive_shell(cluster: FakeCluster, invoke: Invoke) -> None:
    assert invoke("exec", "newsapi-pod").code == 0
    assert cluster.calls() == [["exec", "-it", "newsapi-pod", "-c", "newsapi", "--", "/bin/sh", "-c",
                                "command -v bash >/dev/null && exec bash || exec sh"]]


def test_port_forward_binds_loopback_only(cluster: FakeCluster, invoke: Invoke) -> None:
    assert invoke("port-forward").code == 0
    assert invoke("port-forward", "--pod", "newsapi-pod", "--ports", "18080:8080").code == 0
    assert cluster.calls() == [["port-forward", "--address", "127.0.0.1", "pod/activemq-pod", "8161:8161"],
                               ["port-forward", "--address", "127.0.0.1", "pod/newsapi-pod", "18080:8080"]]


@pytest.mark.parametrize(("argv", "kubectl"), [
    ([], ["delete", "pod", "newsapi-pod"]),
    (["--grace", "5"], ["delete", "pod", "newsapi-pod", "--grace-period=5"]),
    (["--grace", "0"], ["delete", "pod", "newsapi-pod", "--grace-period=0"]),
    (["--force"], ["delete", "pod", "newsapi-pod", "--grace-period=0", "--force"]),
])
def test_delete_pod_options(cluster: FakeCluster, invoke: Invoke, argv: list[str], kubectl: list[str]) -> None:
    assert invoke("delete-pod", "newsapi-pod", *argv).code == 0
    assert cluster.calls() == [kubectl]


@pytest.mark.parametrize(("argv", "message"), [
    (["--grace", "-5"], "error: --grace: '-5' is out of range (>= 0)"),
    (["--grace", "ten"], "error: --grace: 'ten' is not a whole number (>= 0)"),
    (["--grace", "5", "--force"], "error: --grace and --force together"),
])
def test_delete_pod_refuses_bad_options_before_kubectl_runs(
        cluster: FakeCluster, invoke: Invoke, argv: list[str], message: str) -> None:
    done = invoke("delete-pod", "newsapi-pod", *argv)
    assert done.code == 1
    assert message in done.err
    assert cluster.calls() == []


def test_delete_pod_passes_a_failure_through(cluster: FakeCluster, invoke: Invoke) -> None:
    cluster.answer("delete", stderr=NOT_FOUND, code=1)
    done = invoke("delete-pod", "newsapi-pod", "--grace", "3")
    assert done.code == 1
    assert "error: kubectl delete pod newsapi-pod --grace-period=3 exited 1" in done.err


def test_restart_container_kills_pid_1_and_passes_a_failure_through(cluster: FakeCluster, invoke: Invoke) -> None:
    assert invoke("restart-container", "activemq-pod", "--container", "broker-log").code == 0
    cluster.answer("exec", stderr="error: unable to upgrade connection: container not found\n", code=1)
    done = invoke("restart-container", "newsapi-pod")
    assert done.code == 1
    assert "error: kubectl exec newsapi-pod -c newsapi -- /bin/sh -c kill 1 exited 1" in done.err
    assert cluster.calls() == [["exec", "activemq-pod", "-c", "broker-log", "--", "/bin/sh", "-c", "kill 1"],
                               ["exec", "newsapi-pod", "-c", "newsapi", "--", "/bin/sh", "-c", "kill 1"]]


def curl(url: str) -> list[str]:
    """The argv of `ping` from the broker's main container to `url`."""
    return ["exec", "activemq-pod", "-c", "activemq", "--", "/bin/sh", "-c",
            f"curl -sS -m 10 -w '\\nHTTP %{{http_code}}\\n' {url}"]


def test_ping_by_default_curls_the_api_pods_ip_on_its_port_from_the_broker(
        cluster: FakeCluster, invoke: Invoke) -> None:
    cluster.answer("get", "pod", "newsapi-pod", stdout="10.244.0.12")
    cluster.answer("exec", stdout="[]\nHTTP 200\n")
    done = invoke("ping")
    assert (done.code, done.out) == (0, "activemq-pod -> http://10.244.0.12:8080/\n[]\nHTTP 200\n")
    assert cluster.calls() == [["get", "pod", "newsapi-pod", "-o", "jsonpath={.status.podIP}"],
                               curl("http://10.244.0.12:8080/")]


def test_ping_a_host_name_with_port_and_path(cluster: FakeCluster, invoke: Invoke) -> None:
    assert invoke("ping", "--target", "activemq", "--port", "8161", "--path", "/admin/").code == 0
    assert cluster.calls() == [curl("http://activemq:8161/admin/")]


def test_ping_from_another_pod_to_a_pod_on_a_given_port(cluster: FakeCluster, invoke: Invoke) -> None:
    cluster.answer("get", "pod", "activemq-pod", stdout="10.244.0.11")
    assert invoke("ping", "--source", "newsapi-pod", "--target", "activemq-pod", "--port", "61613").code == 0
    assert cluster.calls()[-1] == ["exec", "newsapi-pod", "-c", "newsapi", "--", "/bin/sh", "-c",
                                   "curl -sS -m 10 -w '\\nHTTP %{http_code}\\n' http://10.244.0.11:61613/"]


def test_ping_a_pod_that_declares_no_port(cluster: FakeCluster, invoke: Invoke) -> None:
    cluster.answer("get", "pod", "newsproducer-pod", stdout="10.244.0.13")
    done = invoke("ping", "--target", "newsproducer-pod")
    assert done.code == 1
    assert "error: 'newsproducer-pod' declares no port: give --port" in done.err
    assert [call[0] for call in cluster.calls()] == ["get"]


def test_ping_a_pod_without_an_ip(cluster: FakeCluster, invoke: Invoke) -> None:
    done = invoke("ping")
    assert done.code == 1
    assert "error: pod 'newsapi-pod' has no IP yet" in done.err
    assert [call[0] for call in cluster.calls()] == ["get"]


def test_ping_fails_with_curls_exit_code_when_the_target_does_not_answer(
        cluster: FakeCluster, invoke: Invoke) -> None:
    cluster.answer("exec", stdout="\nHTTP 000\n",
                   stderr="curl: (28) Connection timed out after 10002 milliseconds\n"
                          "command terminated with exit code 28\n", code=28)
    done = invoke("ping", "--target", "activemq", "--port", "8161")
    assert done.code == 28
    assert "curl: (28) Connection timed out" in done.err
    assert "error: kubectl exec activemq-pod -c activemq -- /bin/sh -c curl" in done.err


@pytest.mark.parametrize(("argv", "message"), [
    (["--port", "0"], "error: --port: '0' is out of range (1-65535)"),
    (["--port", "65536"], "error: --port: '65536' is out of range (1-65535)"),
    (["--port", "http"], "error: --port: 'http' is not a whole number (1-65535)"),
    (["--path", "admin"], "error: --path: 'admin' must start with '/'"),
])
def test_ping_refuses_bad_options_before_kubectl_runs(
        cluster: FakeCluster, invoke: Invoke, argv: list[str], message: str) -> None:
    done = invoke("ping", "--target", "activemq", *argv)
    assert done.code == 1
    assert message in done.err
    assert cluster.calls() == []


def test_a_stack_never_deployed_has_no_outputs_yet(
        cluster: FakeCluster, invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    outputs_cache.forget(STACK)
    asked: list[str] = []
    monkeypatch.setattr(tasks.session.pulumi_stack, "outputs", lambda stack: asked.append(stack) or {})
    done = invoke("pods")
    assert done.code == 1
    assert "error: stack 'unit' has no outputs yet: run `invoke up` first" in done.err
    assert asked == [STACK]
    assert cluster.calls() == []


#: Modules a pod task never runs: loading every task and running one imports none of them.
NOT_FOR_POD_TASKS = ("pulumi", "grpc", "bench", "tools.stack", "tools.tour", "tools.timeline", "tools.doctor",
                     "tools.toolchain", "tools.images", "tools.cluster.kind", "tools.cluster.local.driver")


@pytest.mark.parametrize("driver", ["local", "kind"])
def test_a_pod_task_imports_only_what_it_runs(tmp_path: Path, driver: str) -> None:
    """invoke imports every task module on each start and a pod task is one kubectl run: the engine,
    the tour, the doctor and the cluster drivers' modules stay out (a tenth of a second, measured)."""
    fake_kubectl(tmp_path / "bin")
    state = tmp_path / "state"
    for kubeconfig in (state / "kubeconfig", state / "kind" / "kubeconfig"):
        kubeconfig.parent.mkdir(parents=True, exist_ok=True)
        kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    script = textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, ".")
        from tools import outputs_cache
        checkpoint = outputs_cache.BACKEND / ".pulumi/stacks/news-tracker/dev.json"
        checkpoint.parent.mkdir(parents=True)
        checkpoint.write_text("{{}}")
        outputs_cache.save("dev", {OUTPUTS!r})
        from invoke import Program
        import tasks
        Program(namespace=tasks.namespace).run(["invoke", "pods"], exit=False)
        print(json.dumps(sorted(name for name in sys.modules
                                if any(name == heavy or name.startswith(heavy + ".") for heavy in {NOT_FOR_POD_TASKS}))))
    """)
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}", "NEWS_TRACKER_STATE": str(state),
           "NEWS_TRACKER_PULUMI_STATE": str(tmp_path / "pulumi"), "NEWS_TRACKER_KUBECONFIG": str(state / "kubeconfig"),
           "NEWS_TRACKER_CACHE": str(tmp_path / "cache"), "NEWS_TRACKER_CLUSTER_DRIVER": driver,
           "INVOKE_NEWS_TRACKER_STACK": "dev"}
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True)
    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout.splitlines()[-1]) == []
    kubeconfig = state / "kind" / "kubeconfig" if driver == "kind" else state / "kubeconfig"
    calls = [json.loads(line) for line in (tmp_path / "bin" / KUBECTL_CALLS).read_text().splitlines()]
    assert calls == [["--kubeconfig", str(kubeconfig), "--namespace", NAMESPACE,
                      "get", "pods", "-o", "wide", "-l", "app.kubernetes.io/part-of=news-tracker"]]


@pytest.mark.parametrize(("rounds", "message"), [
    ("0", "error: --rounds: '0' is out of range (>= 1)"),
    ("three", "error: --rounds: 'three' is not a whole number (>= 1)"),
])
def test_bench_rounds_are_checked_before_the_bench_starts(
        invoke: Invoke, monkeypatch: pytest.MonkeyPatch, rounds: str, message: str) -> None:
    import bench.__main__
    monkeypatch.setattr(bench.__main__, "main", lambda argv: pytest.fail(f"bench started with {argv}"))
    done = invoke("bench", "--rounds", rounds)
    assert (done.code, done.err.strip()) == (1, message)


def test_bench_passes_its_rounds_on(invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    import bench.__main__
    started: list[list[str]] = []
    monkeypatch.setattr(bench.__main__, "main", lambda argv: started.append(argv) or 0)
    assert invoke("bench", "--rounds", "2", "--group", "local").code == 0
    assert invoke("bench").code == 0
    assert started == [["local", "--rounds", "2", "--stack", "bench"], ["--rounds", "3", "--stack", "bench"]]
