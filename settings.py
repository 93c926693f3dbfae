"""Typed stack settings: the stack config of `news-tracker:*` keys read once into one tree of
frozen dataclasses, checked once, with errors that name the key and the value.

Config keys are the camelCase spelling of the field names (`intervalSeconds`); a key that is
not a field is an error (with the closest known key), so a typo never silently falls back to a
default.
"""
from __future__ import annotations

import dataclasses
import difflib
import json
import re
import types
import typing
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from apps.images import IMAGES
from components.validation import (
    ConfigError, check_grace_period, check_label_value, check_name, check_port, check_storage_size,
    check_subdomain,
)

PROJECT = "news-tracker"
#: The project directory: relative paths in the config (articlesFile) are resolved from it.
PROJECT_DIR = Path(__file__).resolve().parent
#: The apps run without capabilities (restricted), so they cannot bind a port below this.
FIRST_UNPRIVILEGED_PORT = 1024
#: The job waits with threading.Event.wait, which overflows past ~9.2e9 s; a day is plenty.
MAX_INTERVAL_SECONDS = 86400
#: Stack config keys that must hold Pulumi secrets; the stack seam generates missing ones.
GENERATED_SECRETS = ("brokerPassword", "brokerPublisherPassword", "brokerConsumerPassword")


@dataclass(frozen=True)
class Persistence:
    enabled: bool = False
    size: str = "256Mi"
    storage_class: str | None = None


@dataclass(frozen=True)
class BrokerSettings:
    image: str = IMAGES["activemq"]
    #: The broker's logins, one per role (components.activemq.BrokerLogins): the admin (web
    #: console), the job's (publisher) and the api's (consumer).
    user: str = "newsadmin"
    publisher_user: str = "news-publisher"
    consumer_user: str = "news-consumer"
    persistence: Persistence = field(default_factory=Persistence)
    log_sidecar: bool = True
    grace_period_seconds: int = 30


@dataclass(frozen=True)
class JobSettings:
    image: str = IMAGES["news-job"]
    source: Literal["file", "newsapi"] = "file"
    #: A NewsAPI-shaped JSON file, relative to the project directory.
    articles_file: str = "apps/news_job/sample-articles.json"
    newsapi_url: str = "https://newsapi.org/v2/everything"
    query: str = "technology"
    interval_seconds: int = 30
    grace_period_seconds: int = 10


@dataclass(frozen=True)
class ApiSettings:
    image: str = IMAGES["news-api"]
    port: int = 8080
    max_articles: int = 1000
    grace_period_seconds: int = 10


@dataclass(frozen=True)
class Settings:
    namespace: str = "develop"
    environment: str = "dev"
    broker: BrokerSettings = field(default_factory=BrokerSettings)
    job: JobSettings = field(default_factory=JobSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    #: Write manifests to this directory (relative to the project) instead of applying them.
    render_directory: str | None = None
    #: The longest `up`/`down` waits for one object (a Pod to be Ready, an object to be gone);
    #: past it the update fails and says why (a NotReady node, a missing image).
    ready_timeout_seconds: int = 180
    #: Let the scheduler put the pods on different nodes where it can (a topology spread over
    #: nodes, at most one pod apart); off by default, so the manifests stay node-agnostic.
    spread_across_nodes: bool = False


#: Secret keys are read by the program with require_secret/get_secret, never as plain values.
SECRET_KEYS = frozenset({*GENERATED_SECRETS, "newsapiKey"})


def config_key(field_name: str) -> str:
    head, *rest = field_name.split("_")
    return head + "".join(part.title() for part in rest)


def parse(cls: type, raw: Any, prefix: str) -> Any:
    """Build dataclass `cls` from a config mapping, rejecting unknown keys and wrong types.

    `prefix` is the config path so far, ending in ':' or '.' (`news-tracker:job.`).
    """
    if not isinstance(raw, dict):
        raise ConfigError(f"{prefix[:-1]}: expected an object, got {raw!r}")
    fields = {config_key(f.name): f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(sorted(fields))}"
            raise ConfigError(f"{prefix}{key}: unknown config key{hint}")
        f = fields[key]
        values[f.name] = _coerce(hints[f.name], value, f"{prefix}{key}")
    return cls(**values)


def _coerce(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return parse(hint, value, f"{where}.")
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        return _coerce(next(o for o in options if o is not type(None)), value, where)
    if origin is Literal:
        if value not in typing.get_args(hint):
            raise ConfigError(f"{where}: {value!r} is not one of {', '.join(map(repr, typing.get_args(hint)))}")
        return value
    expected = {bool: bool, int: int, str: str}[hint]
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise ConfigError(f"{where}: expected {expected.__name__}, got {value!r}")
    return value


def from_config(config: dict[str, Any]) -> Settings:
    """Settings from the engine's config map (`news-tracker:key` -> JSON or plain string)."""
    raw: dict[str, Any] = {}
    for full_key, text in config.items():
        namespace, _, key = full_key.partition(":")
        if namespace != PROJECT or key in SECRET_KEYS:
            continue
        try:
            raw[key] = json.loads(text) if isinstance(text, str) else text
        except json.JSONDecodeError:
            raw[key] = text
    settings = parse(Settings, raw, f"{PROJECT}:")
    _check_values(settings)
    return settings


def articles_path(settings: Settings) -> Path:
    """The job's articles file: inside the project directory, and read by the job's own parser
    (imported here: it pulls in requests, which tasks that import settings never need)."""
    from apps.news_job.sources import FileSource, SourceError

    where, value = f"{PROJECT}:job.articlesFile", settings.job.articles_file
    path = (PROJECT_DIR / value).resolve()
    if not path.is_relative_to(PROJECT_DIR):
        raise ConfigError(f"{where}: {value!r} is outside the project directory {PROJECT_DIR}")
    if not path.is_file():
        raise ConfigError(f"{where}: {value!r} is not a file (looked for {path})")
    try:
        FileSource(path).fetch()
    except SourceError as error:
        raise ConfigError(f"{where}: {value!r} is not a NewsAPI-shaped articles file: {error}") from None
    return path


def _check_logins(broker: BrokerSettings) -> None:
    logins = {"user": broker.user, "publisherUser": broker.publisher_user, "consumerUser": broker.consumer_user}
    for key, login in logins.items():
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", login):
            raise ConfigError(f"{PROJECT}:broker.{key}: {login!r} is not a valid login (letters, digits, "
                              "'.', '_' and '-', starting with a letter or digit, 1-64 characters)")
    taken: dict[str, str] = {}
    for key, login in logins.items():
        if login in taken:
            raise ConfigError(f"{PROJECT}:broker.{key}: {login!r} is already broker.{taken[login]}; each "
                              "role needs a login of its own")
        taken[login] = key


def _check_values(settings: Settings) -> None:
    """Every value the types allow but the cluster or the apps would refuse, before the program
    registers anything (so `preview` reports it and `up` applies nothing)."""
    check_name(f"{PROJECT}:namespace", settings.namespace)
    if settings.namespace == "default" or settings.namespace.startswith("kube-"):
        raise ConfigError(f"{PROJECT}:namespace: {settings.namespace!r} is reserved (the cluster's own "
                          "namespaces); give the stack a namespace of its own")
    check_label_value(f"{PROJECT}:environment", settings.environment)
    _check_logins(settings.broker)
    check_storage_size(f"{PROJECT}:broker.persistence.size", settings.broker.persistence.size)
    if settings.broker.persistence.storage_class is not None:
        check_subdomain(f"{PROJECT}:broker.persistence.storageClass", settings.broker.persistence.storage_class)
    for section in ("broker", "job", "api"):
        check_grace_period(f"{PROJECT}:{section}.gracePeriodSeconds",
                           getattr(settings, section).grace_period_seconds)
    check_port(f"{PROJECT}:api.port", settings.api.port)
    if settings.api.port < FIRST_UNPRIVILEGED_PORT:
        raise ConfigError(f"{PROJECT}:api.port: port {settings.api.port} is privileged; the api runs "
                          f"without capabilities and can only bind {FIRST_UNPRIVILEGED_PORT}-65535")
    if not 0 <= settings.job.interval_seconds <= MAX_INTERVAL_SECONDS:
        raise ConfigError(f"{PROJECT}:job.intervalSeconds: {settings.job.interval_seconds} must be "
                          f"0 (publish once) to {MAX_INTERVAL_SECONDS} (a day)")
    if settings.job.source == "file":
        articles_path(settings)
    url = urllib.parse.urlsplit(settings.job.newsapi_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ConfigError(f"{PROJECT}:job.newsapiUrl: {settings.job.newsapi_url!r} is not an http(s) URL")
    if not settings.job.query.strip():
        raise ConfigError(f"{PROJECT}:job.query: {settings.job.query!r} is empty")
    if settings.render_directory is not None:
        rendered = (PROJECT_DIR / settings.render_directory).resolve()
        if rendered == PROJECT_DIR or not rendered.is_relative_to(PROJECT_DIR):
            raise ConfigError(f"{PROJECT}:renderDirectory: {settings.render_directory!r} must be a "
                              f"directory inside the project directory {PROJECT_DIR}")
    if settings.ready_timeout_seconds < 10:
        raise ConfigError(f"{PROJECT}:readyTimeoutSeconds: {settings.ready_timeout_seconds} must be >= 10")
    if settings.api.max_articles < 1:
        raise ConfigError(f"{PROJECT}:api.maxArticles: {settings.api.max_articles} must be >= 1")
