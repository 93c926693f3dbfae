"""The ActiveMQ layer: the full distribution (with the web console) and this project's config.

tools/activemq.py fetches the distribution and writes the configuration (logins from the
environment, console and log locations); this layer only places them: the distribution under
HOME, owned by root, with the configuration over its conf/, and the data and log directories
owned by the runtime user (the only places the broker writes, besides /tmp).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from apps.images import ACTIVEMQ_DATA_DIR, ACTIVEMQ_HOME, ACTIVEMQ_LOG_DIR, BROKER_LOGIN_ENV, NEWS_QUEUE
from tools import activemq
from tools.images.archive import write_layer
from tools.images.cache import scratch_dir
from tools.images.files import copy_as_root, in_tree, make_owned_dir, own_by_root

HOME = ACTIVEMQ_HOME
CONF_DIR = f"{HOME}/conf"


@dataclass(frozen=True)
class ActiveMQInstall:
    """ActiveMQ Classic `version` in HOME, configured by tools.activemq, writable by `owner`."""

    version: str
    owner: tuple[int, int]

    def inputs(self) -> object:
        # The configuration is written by tools/activemq.py from these constants of apps/images.py.
        return {"version": self.version, "owner": list(self.owner),
                "configuration": Path(activemq.__file__), "logins": BROKER_LOGIN_ENV, "queue": NEWS_QUEUE}

    def write(self, dest: Path) -> None:
        with scratch_dir("activemq") as tree:
            distribution = activemq.fetch(self.version)
            copy_as_root(distribution, in_tree(tree, HOME))
            activemq.write_conf(in_tree(tree, CONF_DIR), activemq_home=distribution, log_dir=ACTIVEMQ_LOG_DIR)
            own_by_root(in_tree(tree, CONF_DIR))
            for directory in (ACTIVEMQ_DATA_DIR, ACTIVEMQ_LOG_DIR):
                make_owned_dir(in_tree(tree, directory), *self.owner)
            write_layer(tree, dest)


def command() -> tuple[str, ...]:
    """The container's command: the broker in the foreground as PID 1 (see tools.activemq)."""
    return tuple(activemq.java_command(HOME, CONF_DIR, ACTIVEMQ_DATA_DIR))
