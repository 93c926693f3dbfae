"""Where articles come from: a NewsAPI-shaped JSON file, or a NewsAPI-compatible endpoint.

Both give NewsAPI's response shape, `{"status": "ok", "articles": [...]}`; the job forwards the
articles as they are and leaves checking them to the consumer.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import requests

from apps.newsbus.config import env_text

SAMPLE_FILE = Path(__file__).with_name("sample-articles.json")
#: Kept well inside the pod's grace period, so a SIGTERM during a fetch still ends in time.
HTTP_TIMEOUT_SECONDS = 5.0

Article = dict[str, Any]


class SourceError(Exception):
    """The source could not give articles; the message says which and why."""


class ArticleSource(Protocol):
    def fetch(self) -> list[Article]: ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class FileSource:
    path: Path

    def fetch(self) -> list[Article]:
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise SourceError(f"cannot read articles from {self.path}: {error}") from None
        return _articles(document, str(self.path))

    def describe(self) -> str:
        return f"file {self.path}"


@dataclass(frozen=True)
class NewsApiSource:
    url: str
    query: str
    api_key: str = field(repr=False)

    def fetch(self) -> list[Article]:
        try:
            response = requests.get(
                self.url, headers={"X-Api-Key": self.api_key}, timeout=HTTP_TIMEOUT_SECONDS,
                params={"q": self.query, "language": "en", "sortBy": "publishedAt"})
            document = response.json()
        except (requests.RequestException, ValueError) as error:
            raise SourceError(f"{self.url}: {error}") from None
        if not response.ok or not isinstance(document, dict) or document.get("status") != "ok":
            message = document.get("message") if isinstance(document, dict) else None
            raise SourceError(f"{self.url}: HTTP {response.status_code}: {message or 'not a NewsAPI answer'}")
        return _articles(document, self.url)

    def describe(self) -> str:
        return f"{self.url}?q={self.query}"


def source_from_env(env: Mapping[str, str]) -> ArticleSource:
    """NEWSAPI_URL selects the endpoint; otherwise NEWS_SOURCE_FILE, or the bundled sample."""
    if env.get("NEWSAPI_URL", "").strip():
        return NewsApiSource(url=env_text(env, "NEWSAPI_URL"),
                             query=env_text(env, "NEWSAPI_QUERY", "technology"),
                             api_key=env_text(env, "NEWSAPI_KEY"))
    return FileSource(Path(env_text(env, "NEWS_SOURCE_FILE", str(SAMPLE_FILE))))


def _articles(document: Any, where: str) -> list[Article]:
    articles = document.get("articles") if isinstance(document, dict) else None
    if not isinstance(articles, list):
        raise SourceError(f"{where}: expected NewsAPI's shape, an object with an 'articles' list")
    return [article for article in articles if isinstance(article, dict)]
