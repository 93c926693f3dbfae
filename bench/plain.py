"""The plain-kubectl side of the bench: the committed manifests/ moved into the bench's namespace,
deployed and removed with the commands the README gives a kubectl user."""
from __future__ import annotations

import secrets
import shutil
from pathlib import Path

import yaml

from tools.kube import Kubectl
from tools.paths import REPO

MANIFESTS = REPO / "manifests"
SECRET_NAME = "activemq-credentials"
BROKER_USER = "newsadmin"


def manifests_in(namespace: str, directory: Path) -> Path:
    """A copy of manifests/ under `directory` with every object moved to `namespace`."""
    copy = directory / "manifests"
    shutil.rmtree(copy, ignore_errors=True)
    for source in sorted(MANIFESTS.glob("**/*.yaml")):
        target = copy / source.relative_to(MANIFESTS)
        target.parent.mkdir(parents=True, exist_ok=True)
        manifest = yaml.safe_load(source.read_text())
        if manifest["kind"] == "Namespace":
            manifest["metadata"]["name"] = namespace
        else:
            manifest["metadata"]["namespace"] = namespace
        target.write_text(yaml.safe_dump(manifest, sort_keys=False))
    return copy


class PlainKubectl:
    """The README's plain-kubectl commands against the bench namespace, as command lines."""

    def __init__(self, kubectl: Kubectl, manifests: Path) -> None:
        self.kubectl = kubectl
        self.manifests = manifests
        # Read by `kubectl create secret --from-env-file=/dev/stdin`: never on a command line.
        self.secret_env = f"username={BROKER_USER}\npassword={secrets.token_urlsafe(18)}\n"

    def create_namespace(self) -> list[str]:
        return self.kubectl.command("create", "namespace", self.kubectl.namespace)

    def create_secret(self) -> list[str]:
        return self.kubectl.command("create", "secret", "generic", SECRET_NAME,
                                    "--from-env-file=/dev/stdin")

    def apply(self) -> list[str]:
        return self.kubectl.command("apply", "-f", str(self.manifests), "-R")

    def wait_ready(self) -> list[str]:
        return self.kubectl.command("wait", "--for=condition=Ready", "pod", "--all", "--timeout=300s")

    def delete(self) -> list[str]:
        return self.kubectl.command("delete", "-f", str(self.manifests), "-R", "--wait")

    def diff(self) -> list[str]:
        return self.kubectl.command("diff", "-f", str(self.manifests), "-R")
