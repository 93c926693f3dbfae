"""Keeps one subscription to the queue alive: connects with backoff, subscribes, and starts over
when the broker goes away (a restarted broker pod comes back behind the same Service name)."""
from __future__ import annotations

import logging
import threading

from apps.news_api.articles import ArticleStore, parse
from apps.news_api.message_json import Limits
from apps.newsbus.broker import Broker
from apps.newsbus.lifecycle import Shutdown
from apps.newsbus.retry import Backoff, retry

log = logging.getLogger(__name__)

#: How often a live subscription checks that its connection still stands.
CHECK_SECONDS = 0.5


class QueueConsumer:
    def __init__(self, broker: Broker, store: ArticleStore, shutdown: Shutdown,
                 backoff: Backoff = Backoff(), where: str = "the broker",
                 limits: Limits = Limits()) -> None:
        self._broker = broker
        self._store = store
        self._shutdown = shutdown
        self._backoff = backoff
        self._where = where
        self._limits = limits
        self.subscribed = threading.Event()

    def run(self) -> None:
        """Until shutdown: subscribe, hold the subscription while it lasts, then start again."""
        while retry(self._subscribe, f"subscribing at {self._where}", self._shutdown, self._backoff):
            self.subscribed.set()
            log.info("subscribed at %s", self._where)
            while self._broker.is_connected() and not self._shutdown.wait(CHECK_SECONDS):
                pass
            self.subscribed.clear()
            self._broker.close()
            if not self._shutdown.requested:  # the Broker already logged why
                log.info("subscribing again at %s", self._where)
        self._broker.close()

    def _subscribe(self) -> None:
        self._broker.connect()
        try:
            self._broker.subscribe(self._receive)
        except BaseException:
            self._broker.close()
            raise

    def _receive(self, body: str) -> None:
        article = parse(body, self._limits)
        if article is not None:
            self._store.add(article)
            log.info("received %s (%d articles held)", article["url"], len(self._store))
