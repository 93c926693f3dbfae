"""Articles as the api keeps them: parsed from queue messages, deduplicated by url, bounded."""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Any

from apps.news_api.message_json import Limits, Rejected, decode

log = logging.getLogger(__name__)

#: The post's article fields (NewsAPI's shape), in the order the api returns them.
FIELDS = ("source", "author", "title", "description", "url", "urlToImage", "publishedAt", "content")

Article = dict[str, Any]


def parse(body: str, limits: Limits = Limits()) -> Article | None:
    """The article in a message body, reduced to FIELDS; None (logged) if it has no url or is
    outside `limits`."""
    try:
        document = decode(body, limits)
    except Rejected as reason:
        log.warning("dropped a message: %s", reason)
        return None
    url = document.get("url") if isinstance(document, dict) else None
    if not isinstance(url, str) or not url:
        log.warning("dropped a message without an article url")
        return None
    return {name: document.get(name) for name in FIELDS}


class ArticleStore:
    """The latest `capacity` articles by url. An article received again replaces the stored one
    and counts as the newest; past capacity, the least recently received is evicted."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._articles: OrderedDict[str, Article] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, article: Article) -> None:
        with self._lock:
            self._articles[article["url"]] = article
            self._articles.move_to_end(article["url"])
            while len(self._articles) > self._capacity:
                self._articles.popitem(last=False)

    def all(self) -> list[Article]:
        """Oldest received first."""
        with self._lock:
            return list(self._articles.values())

    def __len__(self) -> int:
        with self._lock:
            return len(self._articles)
