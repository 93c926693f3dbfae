"""The one place every kubectl call goes through: it knows the kubeconfig, the context and the
namespace, and says how to get kubectl when it is missing."""
from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tools.cluster import kubectl_command
from tools.errors import SetupError
from tools.target import ClusterTarget


class KubectlFailed(SetupError):
    """kubectl exited non-zero; a task exits with its code, not a generic 1."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Kubectl:
    target: ClusterTarget
    namespace: str

    def command(self, *args: str) -> list[str]:
        if not self.target.kubeconfig.is_file():
            raise SetupError(f"no kubeconfig at {self.target.kubeconfig}: start the local cluster "
                             "with `invoke cluster.up`, or set kubernetes:kubeconfig in the stack config")
        base = [*kubectl_command(), "--kubeconfig", str(self.target.kubeconfig)]
        if self.target.context:
            base += ["--context", self.target.context]
        return [*base, "--namespace", self.namespace, *args]

    def run(self, *args: str) -> int:
        """Run with the terminal attached (logs -f, exec -it, port-forward); returns the exit code."""
        return subprocess.call(self.command(*args))

    def output(self, *args: str) -> str:
        done = subprocess.run(self.command(*args), capture_output=True, text=True)
        if done.returncode != 0:
            raise KubectlFailed(f"kubectl {' '.join(args)} failed (exit {done.returncode}): "
                                f"{done.stderr.strip()}", done.returncode)
        return done.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.output(*args, "-o", "json"))

    def popen(self, args: Sequence[str], **kwargs: Any) -> subprocess.Popen[str]:
        """Start a long-running kubectl (port-forward) that the caller stops."""
        return subprocess.Popen(self.command(*args), text=True, **kwargs)


def require_reachable(target: ClusterTarget) -> None:
    """Fail before the engine plans anything when the stack's cluster does not answer."""
    probe = Kubectl(target, "default").command("get", "--raw", "/readyz", "--request-timeout=10s")
    done = subprocess.run(probe, capture_output=True, text=True)
    if done.returncode != 0:
        raise SetupError(f"the cluster of {target.kubeconfig} does not answer ({done.stderr.strip()}); "
                         "for the local cluster run `invoke cluster.up` (see `invoke cluster.status`)")
