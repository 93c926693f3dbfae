"""NewsApi: the post's `newsapi-pod`, serving `GET /news/getAll` on 8080.

The post's api needed a MongoDB that the post never deployed; ours keeps the articles it
consumes from the broker's queue in memory, and reports ready only once it is subscribed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from apps.images import IMAGES
from components.activemq import BrokerClient
from components.pod import (
    Container, PodComponent, PodSettings, Port, Probe, Resources, labels, pod,
)

HTTP = Port("http", 8080)


@dataclass(frozen=True)
class NewsApiArgs:
    namespace: pulumi.Input[str]
    environment: str
    broker: BrokerClient
    max_articles: int = 1000
    image: str = IMAGES["news-api"]
    pod_name: str = "newsapi-pod"
    container_name: str = "newsapi"
    port: int = HTTP.number
    grace_period: int = 10
    spread_across_nodes: bool = False
    sidecars: tuple[Container, ...] = ()
    resources: Resources = field(default_factory=lambda: Resources(
        cpu_request="20m", memory_request="48Mi", memory_limit="192Mi"))


class NewsApi(PodComponent):
    """The api pod."""

    def __init__(self, name: str, args: NewsApiArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("news-tracker:pods:NewsApi", name, None, opts)
        pod_labels = labels("be-api", "news-api", "api", args.environment, name)
        api = Container(
            name=args.container_name,
            image=args.image,
            resources=args.resources,
            ports=(Port(HTTP.name, args.port),),
            env={**args.broker.env(), "NEWS_API_PORT": str(args.port),
                 "NEWS_API_MAX_ARTICLES": str(args.max_articles)},
            secret_env=args.broker.secret_env(),
            readiness=Probe(args.port, http_path="/readyz", period=3),
            liveness=Probe(args.port, http_path="/healthz", initial_delay=10, period=10),
        )
        containers = [api, *args.sidecars]
        self._expose(pod(f"{name}-pod",
                         PodSettings(name=args.pod_name, namespace=args.namespace,
                                     labels=pod_labels, grace_period=args.grace_period,
                                     spread_across_nodes=args.spread_across_nodes),
                         containers, pulumi.ResourceOptions(parent=self),
                         secrets=args.broker.credentials),
                     containers)
