"""The news-tracker program: stack config -> typed settings -> the three pod components ->
stack outputs that the invoke tasks and users read (pod names, IPs, namespace, ports)."""
from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s
from pulumi.runtime.config import CONFIG, get_config_env

from components import (
    ActiveMQBroker, ActiveMQBrokerArgs, BrokerLogins, Credentials, FileSource, NewsApi, NewsApiArgs,
    NewsApiSource, NewsJob, NewsJobArgs,
)
from components.pod import PART_OF_LABEL
from components.waits import bound_every_wait
from settings import PROJECT, Settings, articles_path, from_config

PROGRAM_DIR = Path(__file__).resolve().parent


def render_options(settings: Settings) -> pulumi.ResourceOptions | None:
    """With `renderDirectory` set, a provider that writes YAML there instead of applying it."""
    if settings.render_directory is None:
        return None
    provider = k8s.Provider("render", render_yaml_to_directory=str(PROGRAM_DIR / settings.render_directory))
    return pulumi.ResourceOptions(provider=provider)


def job_source(settings: Settings, config: pulumi.Config, rendering: bool) -> FileSource | NewsApiSource:
    if settings.job.source == "newsapi":
        # Rendered manifests reference the key's Secret by name and never carry its value.
        return NewsApiSource(settings.job.newsapi_url, settings.job.query,
                             None if rendering else config.require_secret("newsapiKey"))
    return FileSource(articles_path(settings).read_text())


def broker_logins(settings: Settings, config: pulumi.Config) -> BrokerLogins:
    """A login per role, each password its own stack secret."""
    return BrokerLogins(
        admin=Credentials(settings.broker.user, config.require_secret("brokerPassword")),
        publisher=Credentials(settings.broker.publisher_user, config.require_secret("brokerPublisherPassword")),
        consumer=Credentials(settings.broker.consumer_user, config.require_secret("brokerConsumerPassword")))


def main() -> None:
    settings = from_config({**get_config_env(), **CONFIG.get()})
    bound_every_wait(settings.ready_timeout_seconds)
    config = pulumi.Config(PROJECT)
    opts = render_options(settings)
    rendering = opts is not None

    namespace = k8s.core.v1.Namespace(
        "namespace",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=settings.namespace, labels={
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit": "restricted",
            PART_OF_LABEL[0]: PART_OF_LABEL[1],
        }),
        opts=opts)
    in_namespace = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[namespace]))

    broker = ActiveMQBroker("activemq", ActiveMQBrokerArgs(
        namespace=settings.namespace,
        environment=settings.environment,
        # Rendered manifests reference the Secrets by name and never carry their values.
        logins=None if rendering else broker_logins(settings, config),
        image=settings.broker.image,
        grace_period=settings.broker.grace_period_seconds,
        persistence_size=settings.broker.persistence.size if settings.broker.persistence.enabled else None,
        storage_class=settings.broker.persistence.storage_class,
        log_sidecar=settings.broker.log_sidecar,
        spread_across_nodes=settings.spread_across_nodes,
    ), in_namespace)
    # The job and the api are created together with the broker, as `kubectl apply` would: they
    # retry until the broker answers, so waiting for its pod to be Ready only serialises the
    # deploy. Each pod waits for the login Secret its containers read (components/pod.py).
    job = NewsJob("news-job", NewsJobArgs(
        namespace=settings.namespace,
        environment=settings.environment,
        broker=broker.publisher,
        source=job_source(settings, config, rendering),
        interval_seconds=settings.job.interval_seconds,
        image=settings.job.image,
        grace_period=settings.job.grace_period_seconds,
        spread_across_nodes=settings.spread_across_nodes,
    ), in_namespace)
    api = NewsApi("news-api", NewsApiArgs(
        namespace=settings.namespace,
        environment=settings.environment,
        broker=broker.consumer,
        max_articles=settings.api.max_articles,
        image=settings.api.image,
        port=settings.api.port,
        grace_period=settings.api.grace_period_seconds,
        spread_across_nodes=settings.spread_across_nodes,
    ), in_namespace)

    pulumi.export("namespace", namespace.metadata.name)
    pulumi.export("brokerService", {"name": broker.service_name, "ports": broker.ports})
    pulumi.export("pods", {
        role: {"name": component.pod_name, "ip": component.pod_ip,
               "containers": component.container_names, "ports": component.ports}
        for role, component in (("broker", broker), ("job", job), ("api", api))
    })


main()
