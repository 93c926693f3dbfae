"""Pod tasks: the post's kubectl exercises against the stack's pods (get, describe, logs, exec,
port-forward, delete, kill 1, pod-to-pod by IP). Pod and container names come from the stack
outputs, so they are typed once, in the components."""
from __future__ import annotations

import shlex
from typing import Any

from invoke import Context, Exit, task

from tasks.session import kubectl, reports_setup_errors, whole_number
from tools.errors import SetupError
from tools.kube import Kubectl


def _pods_by_name(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {pod["name"]: pod for pod in values["pods"].values()}


def _pod(values: dict[str, Any], name: str) -> dict[str, Any]:
    pods = _pods_by_name(values)
    if name not in pods:
        raise SetupError(f"no pod {name!r} in this stack; its pods: {', '.join(sorted(pods))}")
    return pods[name]


def _container(values: dict[str, Any], pod: str, container: str | None) -> str:
    """The named container (checked against the stack's outputs), else the pod's main one."""
    containers = _pod(values, pod)["containers"]
    if container is None:
        return containers[0]
    if container not in containers:
        raise SetupError(f"pod {pod!r} has no container {container!r}; it has: {', '.join(containers)}")
    return container


def _broker(values: dict[str, Any]) -> str:
    return values["pods"]["broker"]["name"]


def _run(k: Kubectl, *args: str) -> None:
    """kubectl with the terminal attached; when it fails, the task fails with kubectl's exit code
    and names the command (kubectl's own message is already on stderr)."""
    code = k.run(*args)
    if code != 0:
        raise Exit(f"error: kubectl {' '.join(args)} exited {code}", code=code)


def _pod_ip(k: Kubectl, pod: str) -> str:
    """A pod's current IP from the cluster; an error while it has none (Pending, not scheduled)."""
    ip = k.output("get", "pod", pod, "-o", "jsonpath={.status.podIP}").strip()
    if not ip:
        raise SetupError(f"pod {pod!r} has no IP yet (not scheduled or still starting): see `invoke pods`")
    return ip


@task
@reports_setup_errors
def pods(c: Context) -> None:
    """List the stack's pods like `kubectl get pods -o wide`: ready, status, restarts, IP, node."""
    k, _ = kubectl(c)
    _run(k, "get", "pods", "-o", "wide", "-l", "app.kubernetes.io/part-of=news-tracker")


@task
@reports_setup_errors
def describe(c: Context, pod: str) -> None:
    """Describe one pod (containers, ports, IP, events)."""
    k, values = kubectl(c)
    _run(k, "describe", "pod", _pod(values, pod)["name"])


@task
@reports_setup_errors
def ip(c: Context, pod: str) -> None:
    """Print a pod's current IP (from the cluster, not from the last deploy)."""
    k, values = kubectl(c)
    print(_pod_ip(k, _pod(values, pod)["name"]))


@task(help={"container": "container name (default: the pod's main container)",
            "follow": "stream new lines", "previous": "the previous (crashed) container's log"})
@reports_setup_errors
def logs(c: Context, pod: str, container: str | None = None, follow: bool = False,
         previous: bool = False) -> None:
    """Show a container's log (kubectl logs POD -c CONTAINER)."""
    k, values = kubectl(c)
    args = ["logs", pod, "-c", _container(values, pod, container)]
    args += ["--follow"] * follow + ["--previous"] * previous
    _run(k, *args)


@task(name="exec", help={"command": "run this instead of an interactive shell",
                         "container": "container name (default: the pod's main container)"})
@reports_setup_errors
def exec_(c: Context, pod: str, command: str | None = None, container: str | None = None) -> None:
    """Open a shell in a container, or run one command there (kubectl exec)."""
    k, values = kubectl(c)
    in_container = [pod, "-c", _container(values, pod, container), "--", "/bin/sh", "-c"]
    if command is None:
        _run(k, "exec", "-it", *in_container, "command -v bash >/dev/null && exec bash || exec sh")
    else:
        _run(k, "exec", *in_container, command)


@task(name="port-forward", help={"pod": "default: the broker pod",
                                 "ports": "LOCAL:REMOTE (default 8161:8161, the ActiveMQ console)"})
@reports_setup_errors
def port_forward(c: Context, pod: str | None = None, ports: str = "8161:8161") -> None:
    """Forward a local port on 127.0.0.1 only to a pod's port (default: the broker console)."""
    k, values = kubectl(c)
    name = _pod(values, pod or _broker(values))["name"]
    print(f"forwarding 127.0.0.1:{ports.split(':')[0]} -> {name}:{ports.split(':')[-1]} (Ctrl-C stops)")
    _run(k, "port-forward", "--address", "127.0.0.1", f"pod/{name}", ports)


@task(name="delete-pod", help={"grace": "seconds to wait after SIGTERM (default: the pod's own)",
                               "force": "delete at once (grace 0, --force) without waiting"})
@reports_setup_errors
def delete_pod(c: Context, pod: str, grace: int | str | None = None, force: bool = False) -> None:
    """Delete a pod gracefully (SIGTERM, then SIGKILL after the grace period), or by force."""
    seconds = whole_number("grace", grace, 0)
    if force and seconds is not None:
        raise SetupError("--grace and --force together: --force deletes at once, without a grace period")
    k, values = kubectl(c)
    args = ["delete", "pod", _pod(values, pod)["name"]]
    if force:
        args += ["--grace-period=0", "--force"]
    elif seconds is not None:
        args += [f"--grace-period={seconds}"]
    _run(k, *args)


@task(name="restart-container", help={"container": "default: the pod's main container"})
@reports_setup_errors
def restart_container(c: Context, pod: str, container: str | None = None) -> None:
    """Restart one container by killing its PID 1 (the kubelet starts it again)."""
    k, values = kubectl(c)
    _run(k, "exec", pod, "-c", _container(values, pod, container), "--", "/bin/sh", "-c", "kill 1")


@task(help={"source": "pod to run from (default: the broker pod, as in the post)",
            "target": "pod name (reached by its IP) or a host name such as the Service `activemq`",
            "port": "port on the target (default: the target pod's first port)",
            "path": "HTTP path (default /)"})
@reports_setup_errors
def ping(c: Context, source: str | None = None, target: str | None = None,
         port: int | str | None = None, path: str = "/") -> None:
    """From inside one pod, HTTP GET another pod by its IP (the post's curl to newsapi:8080)."""
    number = whole_number("port", port, 1, 65535)
    if not path.startswith("/"):
        raise SetupError(f"--path: {path!r} must start with '/'")
    k, values = kubectl(c)
    source = source or _broker(values)
    target = target or values["pods"]["api"]["name"]
    pods = _pods_by_name(values)
    if target in pods:
        host = _pod_ip(k, target)
        number = number or next(iter(pods[target]["ports"].values()), None)
    else:
        host = target
    if not number:
        raise SetupError(f"{target!r} declares no port: give --port")
    url = f"http://{host}:{number}{path}"
    print(f"{source} -> {url}")
    script = f"curl -sS -m 10 -w '\\nHTTP %{{http_code}}\\n' {shlex.quote(url)}"
    _run(k, "exec", source, "-c", _container(values, source, None), "--", "/bin/sh", "-c", script)
