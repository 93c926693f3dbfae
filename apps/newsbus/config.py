"""Settings read from the environment, checked once at start with errors that name the variable.

Secrets (the broker password, the NewsAPI key) arrive as environment variables from Kubernetes
Secrets; they are kept out of every repr so no log line can carry them.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


class ConfigError(Exception):
    """An environment variable is missing or malformed; the message names it."""


def env_text(env: Mapping[str, str], name: str, default: str | None = None) -> str:
    """The variable's value, or `default`; a missing variable without a default is an error."""
    value = env.get(name, "").strip()
    if value:
        return value
    if default is None:
        raise ConfigError(f"{name} is not set")
    return default


def env_int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    """A whole number >= `minimum` from the environment, or `default` when unset."""
    text = env_text(env, name, str(default))
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{name}={text!r}: expected a whole number") from None
    if value < minimum:
        raise ConfigError(f"{name}={value}: must be >= {minimum}")
    return value


@dataclass(frozen=True)
class BrokerConfig:
    """How to reach the queue over STOMP."""
    user: str
    password: str = field(repr=False)
    host: str = "activemq"
    port: int = 61613
    queue: str = "news-queue"

    @property
    def destination(self) -> str:
        """The STOMP destination: ActiveMQ reads `/queue/NAME` as a queue."""
        return self.queue if self.queue.startswith("/") else f"/queue/{self.queue}"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> BrokerConfig:
        return cls(
            user=env_text(env, "ACTIVEMQ_USER"),
            password=env_text(env, "ACTIVEMQ_PASSWORD"),
            host=env_text(env, "ACTIVEMQ_HOST", "activemq"),
            port=env_int(env, "ACTIVEMQ_STOMP_PORT", 61613, minimum=1),
            queue=env_text(env, "ACTIVEMQ_QUEUE", "news-queue"),
        )
