"""NewsJob: the post's `newsproducer-pod`, which fetches articles and publishes them to the
broker's queue.

The post's job sent once and exited under restartPolicy Always, so it restarted for ever. Ours
publishes every `interval_seconds` (or once, with 0) under restartPolicy OnFailure: a clean exit
is final, a crash is retried with back-off, and `pulumi up` treats a Succeeded pod as done.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from apps.images import IMAGES
from components.activemq import BrokerClient
from components.pod import (
    Container, Mount, PodComponent, PodSettings, Probe, Resources, SecretEnv, labels, pod,
)

ARTICLES_DIR = "/etc/news-job"
ARTICLES_KEY = "articles.json"
#: The job's readiness: this file exists while its last batch reached the broker.
READY_FILE = "/tmp/news-job.ready"


@dataclass(frozen=True)
class FileSource:
    """Articles from a JSON file (NewsAPI's response shape), mounted from a ConfigMap."""
    articles_json: str


@dataclass(frozen=True)
class NewsApiSource:
    """Articles from a NewsAPI-compatible endpoint; the key is a Pulumi secret."""
    url: str
    query: str
    #: None: the key's Secret is managed outside this program (rendered manifests).
    api_key: pulumi.Input[str] | None


@dataclass(frozen=True)
class NewsJobArgs:
    namespace: pulumi.Input[str]
    environment: str
    broker: BrokerClient
    source: FileSource | NewsApiSource
    interval_seconds: int = 30
    image: str = IMAGES["news-job"]
    pod_name: str = "newsproducer-pod"
    container_name: str = "newsproducer"
    grace_period: int = 10
    spread_across_nodes: bool = False
    sidecars: tuple[Container, ...] = ()
    resources: Resources = field(default_factory=lambda: Resources(
        cpu_request="10m", memory_request="32Mi", memory_limit="128Mi"))


class NewsJob(PodComponent):
    """The job pod and the ConfigMap or Secret its article source needs."""

    def __init__(self, name: str, args: NewsJobArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("news-tracker:pods:NewsJob", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        pod_labels = labels("be-producer", "news-job", "producer", args.environment, name)

        env = {**args.broker.env(), "NEWS_JOB_INTERVAL_SECONDS": str(args.interval_seconds),
               "NEWS_JOB_READY_FILE": READY_FILE}
        secret_env = args.broker.secret_env()
        volumes: list[k8s.core.v1.VolumeArgs] = []
        mounts: list[Mount] = []
        secrets = list(args.broker.credentials)  # created before the pod that reads them
        if isinstance(args.source, FileSource):
            articles = k8s.core.v1.ConfigMap(
                f"{name}-articles",
                metadata=k8s.meta.v1.ObjectMetaArgs(name="news-job-articles", namespace=args.namespace,
                                                    labels=pod_labels),
                data={ARTICLES_KEY: args.source.articles_json},
                opts=child)
            volumes.append(k8s.core.v1.VolumeArgs(
                name="articles", config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(
                    name=articles.metadata.name)))
            mounts.append(Mount("articles", ARTICLES_DIR, read_only=True))
            env["NEWS_SOURCE_FILE"] = f"{ARTICLES_DIR}/{ARTICLES_KEY}"
        else:
            env["NEWSAPI_URL"] = args.source.url
            env["NEWSAPI_QUERY"] = args.source.query
            if args.source.api_key is not None:
                secrets.append(k8s.core.v1.Secret(
                    f"{name}-newsapi",
                    metadata=k8s.meta.v1.ObjectMetaArgs(name="news-job-newsapi",
                                                        namespace=args.namespace, labels=pod_labels),
                    type="Opaque", string_data={"apiKey": args.source.api_key}, opts=child))
            secret_env["NEWSAPI_KEY"] = SecretEnv("news-job-newsapi", "apiKey")

        job = Container(name=args.container_name, image=args.image, resources=args.resources,
                        env=env, secret_env=secret_env, mounts=tuple(mounts),
                        readiness=Probe(command=("test", "-e", READY_FILE), period=3))
        containers = [job, *args.sidecars]
        self._expose(pod(f"{name}-pod",
                         PodSettings(name=args.pod_name, namespace=args.namespace,
                                     labels=pod_labels, grace_period=args.grace_period,
                                     restart_policy="OnFailure", volumes=tuple(volumes),
                                     spread_across_nodes=args.spread_across_nodes),
                         containers, pulumi.ResourceOptions(parent=self), secrets=secrets),
                     containers)
