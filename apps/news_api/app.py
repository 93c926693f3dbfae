"""Wires the api together: the consumer thread, the HTTP server thread, and a main thread that
waits for SIGTERM and then stops both."""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from apps.news_api.articles import ArticleStore
from apps.news_api.consumer import QueueConsumer
from apps.news_api.message_json import Limits
from apps.news_api.server import MAX_CONNECTIONS, TIMEOUT_SECONDS, make_server
from apps.newsbus.broker import Broker, StompBroker
from apps.newsbus.config import BrokerConfig, env_int, env_text
from apps.newsbus.lifecycle import Shutdown, run_process
from apps.newsbus.retry import Backoff

log = logging.getLogger("news_api")

#: How long stopping waits for each thread; well inside a 10 s grace period.
JOIN_SECONDS = 3.0


@dataclass(frozen=True)
class ApiConfig:
    broker: BrokerConfig
    bind: str = "0.0.0.0"
    port: int = 8080
    max_articles: int = 1000
    max_connections: int = MAX_CONNECTIONS
    timeout_seconds: int = TIMEOUT_SECONDS
    limits: Limits = Limits()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ApiConfig:
        return cls(broker=BrokerConfig.from_env(env),
                   bind=env_text(env, "NEWS_API_BIND", "0.0.0.0"),
                   port=env_int(env, "NEWS_API_PORT", 8080),
                   max_articles=env_int(env, "NEWS_API_MAX_ARTICLES", 1000, minimum=1),
                   max_connections=env_int(env, "NEWS_API_MAX_CONNECTIONS", MAX_CONNECTIONS, minimum=1),
                   timeout_seconds=env_int(env, "NEWS_API_TIMEOUT_SECONDS", TIMEOUT_SECONDS,
                                           minimum=1),
                   limits=Limits(max_bytes=env_int(env, "NEWS_API_MAX_MESSAGE_BYTES",
                                                   Limits.max_bytes, minimum=1)))


def serve(config: ApiConfig, broker: Broker, shutdown: Shutdown,
          backoff: Backoff = Backoff()) -> int:
    """Consume and serve until shutdown is requested; the process's exit code."""
    store = ArticleStore(config.max_articles)
    where = f"{config.broker.host}:{config.broker.port} {config.broker.destination}"
    consumer = QueueConsumer(broker, store, shutdown, backoff, where, config.limits)
    server = make_server(store, consumer.subscribed, config.bind, config.port,
                         config.max_connections, config.timeout_seconds)
    host, port = server.server_address[:2]
    threads = [threading.Thread(target=consumer.run, name="consumer", daemon=True),
               # A short poll interval: SIGTERM to exit stays well inside the grace period.
               threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                name="http", daemon=True)]
    for thread in threads:
        thread.start()
    log.info("serving on http://%s:%d (up to %d articles)", host, port, config.max_articles)
    shutdown.wait()
    log.info("stopping on %s", shutdown.reason)
    server.shutdown()
    server.server_close()
    for thread in threads:
        thread.join(JOIN_SECONDS)
    log.info("stopped")
    return 0


def main() -> int:
    return run_process(_serve_from_env, "news_api")


def _serve_from_env(shutdown: Shutdown) -> int:
    config = ApiConfig.from_env(os.environ)
    try:
        return serve(config, StompBroker(config.broker, shutdown=shutdown), shutdown)
    except OSError as error:  # e.g. the port is taken
        log.error("cannot serve on %s:%d: %s", config.bind, config.port, error)
        return 1
