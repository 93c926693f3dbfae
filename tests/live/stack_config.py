"""The ci stack's config as the live tests use it: its broker logins (decrypted by the engine),
and the stack deployed for a while with config of a test's own, then deployed back as it was (a
config path the ci stack does not take by default: the job's newsapi source)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml

from settings import PROJECT
from tests.live.tasks_runner import invoke
from tools.paths import REPO
from tools.stack import open_stack
from tools.stack_secrets import set_secret


#: Broker role -> the stack secret holding its password, and its login (the ci stack's defaults).
LOGINS = {"admin": ("brokerPassword", "newsadmin"), "publisher": ("brokerPublisherPassword", "news-publisher"),
          "consumer": ("brokerConsumerPassword", "news-consumer")}


def stack_logins() -> dict[str, tuple[str, str]]:
    """Role -> the login the stack made: its user, and its secret password (decrypted by the engine)."""
    stack = open_stack("ci")
    return {role: (user, stack.get_config(f"{PROJECT}:{key}").value) for role, (key, user) in LOGINS.items()}


@contextmanager
def deployed_with(objects: dict[str, dict[str, Any]], secrets: dict[str, str]) -> Iterator[None]:
    """`invoke up` with each object key of `objects` merged into the ci stack's config and each
    of `secrets` set as a Pulumi secret; afterwards Pulumi.ci.yaml gets its exact text back and
    `invoke up` deploys that again, whether the block passed or failed."""
    path = REPO / "Pulumi.ci.yaml"
    original = path.read_text()
    try:
        document = yaml.safe_load(original)
        for key, fields in objects.items():
            document["config"].setdefault(f"{PROJECT}:{key}", {}).update(fields)
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        stack = open_stack("ci")
        for key, value in secrets.items():
            set_secret(stack, f"{PROJECT}:{key}", value)
        invoke("up")
        yield
    finally:
        path.write_text(original)
        invoke("up")
