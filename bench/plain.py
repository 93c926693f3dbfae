"""The plain-kubectl side of the bench: the committed manifests/ moved into the bench's namespace,
deployed and removed with the commands the README gives a kubectl user."""
from __future__ import annotations

import secrets
import shutil
from pathlib import Path

import yaml

from components.activemq import secret_name
from settings import BrokerSettings
from tools.kube import Kubectl
from tools.paths import REPO

MANIFESTS = REPO / "manifests"
#: Role -> the login the stacks use by default.
_DEFAULTS = BrokerSettings()
BROKER_USERS = {"admin": _DEFAULTS.user, "publisher": _DEFAULTS.publisher_user, "consumer": _DEFAULTS.consumer_user}


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

    def create_namespace(self) -> list[str]:
        return self.kubectl.command("create", "namespace", self.kubectl.namespace)

    def create_secrets(self) -> list[tuple[list[str], str]]:
        """A `kubectl create secret` per broker role, with the login it reads on stdin
        (`--from-env-file=/dev/stdin`): no password on a command line."""
        return [(self.kubectl.command("create", "secret", "generic", secret_name(role), "--from-env-file=/dev/stdin"),
                 f"username={user}\npassword={secrets.token_urlsafe(18)}\n") for role, user in BROKER_USERS.items()]

    def apply(self) -> list[str]:
        return self.kubectl.command("apply", "-f", str(self.manifests), "-R")

    def wait_ready(self) -> list[str]:
        return self.kubectl.command("wait", "--for=condition=Ready", "pod", "--all", "--timeout=300s")

    def delete(self) -> list[str]:
        return self.kubectl.command("delete", "-f", str(self.manifests), "-R", "--wait")

    def diff(self) -> list[str]:
        return self.kubectl.command("diff", "-f", str(self.manifests), "-R")
