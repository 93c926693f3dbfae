"""The job's loop: fetch a batch, publish it, then stop or wait for the next interval."""
from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from apps.news_job.sources import ArticleSource, SourceError, source_from_env
from apps.newsbus.broker import Broker, BrokerUnavailable, StompBroker
from apps.newsbus.config import BrokerConfig, env_int
from apps.newsbus.lifecycle import Shutdown, run_process
from apps.newsbus.retry import Backoff, retry

log = logging.getLogger("news_job")

#: Publishing a batch is tried this often (each time after reconnecting) before the batch fails.
PUBLISH_ATTEMPTS = 3


@dataclass(frozen=True)
class JobConfig:
    broker: BrokerConfig
    interval_seconds: int = 0
    broker_wait_seconds: int = 300
    #: Exists while the last batch reached the broker (the pod's readiness probe tests for it).
    ready_file: Path | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> JobConfig:
        ready_file = env.get("NEWS_JOB_READY_FILE", "").strip()
        return cls(broker=BrokerConfig.from_env(env),
                   interval_seconds=env_int(env, "NEWS_JOB_INTERVAL_SECONDS", 0),
                   broker_wait_seconds=env_int(env, "NEWS_JOB_BROKER_WAIT_SECONDS", 300),
                   ready_file=Path(ready_file) if ready_file else None)


class NewsJob:
    def __init__(self, config: JobConfig, source: ArticleSource, broker: Broker,
                 shutdown: Shutdown, backoff: Backoff = Backoff()) -> None:
        self._config = config
        self._source = source
        self._broker = broker
        self._shutdown = shutdown
        self._backoff = backoff

    def run(self) -> int:
        """Publish once, or every interval until shutdown; the process's exit code."""
        once = self._config.interval_seconds == 0
        log.info("publishing articles from %s to %s %s", self._source.describe(),
                 self._config.broker.destination,
                 "once" if once else f"every {self._config.interval_seconds}s")
        try:
            while not self._shutdown.requested:
                published = self._publish_batch()
                self._show_ready(published)
                if once:
                    return 0 if published or self._shutdown.requested else 1
                self._shutdown.wait(self._config.interval_seconds)
            return 0
        finally:
            self._broker.close()
            if self._shutdown.requested:
                log.info("stopped on %s", self._shutdown.reason)

    def _show_ready(self, ready: bool) -> None:
        """Ready while the last batch went through: a job that cannot log in (its password
        rotated, the broker's not yet) or reach the broker keeps its pod out of Ready."""
        if self._config.ready_file is None:
            return
        if ready:
            self._config.ready_file.touch()
        else:
            self._config.ready_file.unlink(missing_ok=True)

    def _publish_batch(self) -> bool:
        try:
            articles = self._source.fetch()
        except SourceError as error:
            log.error("%s", error)
            return False
        bodies = [json.dumps(article) for article in articles]
        for _ in range(PUBLISH_ATTEMPTS):
            if not self._broker.is_connected() and not retry(
                    self._broker.connect, f"connecting to {self._config.broker.host}",
                    self._shutdown, self._backoff, give_up_after=self._config.broker_wait_seconds):
                return False
            try:
                self._broker.publish(bodies)
            except BrokerUnavailable as error:
                log.warning("publishing failed: %s; reconnecting", error)
                self._broker.close()
                continue
            log.info("published %d articles to %s", len(bodies), self._config.broker.destination)
            return True
        log.error("gave up publishing %d articles after %d attempts", len(bodies), PUBLISH_ATTEMPTS)
        return False


def main() -> int:
    return run_process(_run_from_env, "news_job")


def _run_from_env(shutdown: Shutdown) -> int:
    config = JobConfig.from_env(os.environ)
    source = source_from_env(os.environ)
    return NewsJob(config, source, StompBroker(config.broker, shutdown=shutdown), shutdown).run()
