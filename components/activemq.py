"""ActiveMQBroker: the post's `activemq-pod`, plus what the post lacked around it.

The post's job pointed at a host `activemq` that nothing provided, and a pod's IP changes each
time the pod is recreated; so the broker also owns the ClusterIP Service `activemq` that the job
and the api use. It has a login per role (BrokerLogins), each in a Secret of its own made from a
Pulumi secret, so each client pod reads only its own and rotating one replaces only the pods that
use it; its data directory can sit on a PersistentVolumeClaim so queued articles survive a new
broker pod.
"""
from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from apps.images import (
    ACTIVEMQ_DATA_DIR, ACTIVEMQ_LOG_DIR, ACTIVEMQ_LOG_FILE, BROKER_LOGIN_ENV, BROKER_ROLES, IMAGES, NEWS_QUEUE,
)
from components.pod import (
    Container, Mount, PodComponent, PodSettings, Port, Probe, Resources, SecretEnv, labels, pod,
    selector,
)

CONSOLE = Port("console", 8161)
OPENWIRE = Port("openwire", 61616)
STOMP = Port("stomp", 61613)


@dataclass(frozen=True)
class Credentials:
    """Broker login; the password is a Pulumi secret and only ever reaches a Secret."""
    username: pulumi.Input[str]
    password: pulumi.Input[str]


@dataclass(frozen=True)
class BrokerLogins:
    """The broker's users, one per role (apps.images.BROKER_ROLES): `admin` for the web console,
    `publisher` (the job) may only send to the news queue, `consumer` (the api) may only read it."""
    admin: Credentials
    publisher: Credentials
    consumer: Credentials


def secret_name(role: str) -> str:
    """The Secret holding the login of `role` (keys `username` and `password`)."""
    return f"activemq-{role}"


@dataclass(frozen=True)
class BrokerClient:
    """How a client pod reaches the broker: the Service name and its role's login Secret."""
    host: str
    stomp_port: int
    secret_name: str
    queue: str = NEWS_QUEUE
    #: The Secret, when this program manages it: a client pod is replaced when it changes.
    credentials: tuple[k8s.core.v1.Secret, ...] = ()

    def env(self) -> dict[str, str]:
        return {"ACTIVEMQ_HOST": self.host, "ACTIVEMQ_STOMP_PORT": str(self.stomp_port),
                "ACTIVEMQ_QUEUE": self.queue}

    def secret_env(self) -> dict[str, SecretEnv]:
        return {"ACTIVEMQ_USER": SecretEnv(self.secret_name, "username"),
                "ACTIVEMQ_PASSWORD": SecretEnv(self.secret_name, "password")}


@dataclass(frozen=True)
class ActiveMQBrokerArgs:
    namespace: pulumi.Input[str]
    environment: str
    #: None: the Secrets are managed outside this program (rendered manifests reference them by name).
    logins: BrokerLogins | None
    image: str = IMAGES["activemq"]
    pod_name: str = "activemq-pod"
    container_name: str = "activemq"
    service_name: str = "activemq"
    grace_period: int = 30
    persistence_size: str | None = None
    storage_class: str | None = None
    log_sidecar: bool = False
    spread_across_nodes: bool = False
    sidecars: Sequence[Container] = ()
    resources: Resources = field(default_factory=lambda: Resources(
        cpu_request="100m", memory_request="384Mi", memory_limit="768Mi"))


class ActiveMQBroker(PodComponent):
    """The broker pod, its Service, a login Secret per role and (optionally) its data claim."""

    #: The ClusterIP Service's name: the broker's host name for the pods in its namespace.
    service_name: str
    #: How the job reaches the broker: as the publisher.
    publisher: BrokerClient
    #: How the api reaches the broker: as the consumer.
    consumer: BrokerClient

    def __init__(self, name: str, args: ActiveMQBrokerArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("news-tracker:pods:ActiveMQBroker", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        pod_labels = labels("be-activemq", "activemq", "broker", args.environment, name)

        # Each Secret is created before any pod that reads it, so no pod starts without its login
        # (kubectl users create them first, as the README says).
        secrets: dict[str, k8s.core.v1.Secret] = {}
        if args.logins is not None:
            for role in BROKER_ROLES:
                login: Credentials = getattr(args.logins, role)
                secrets[role] = k8s.core.v1.Secret(
                    f"{name}-{role}",
                    metadata=k8s.meta.v1.ObjectMetaArgs(name=secret_name(role), namespace=args.namespace,
                                                        labels=pod_labels),
                    type="Opaque",
                    string_data={"username": login.username, "password": login.password},
                    opts=child)
        self.service_name = args.service_name
        self.publisher, self.consumer = (
            BrokerClient(args.service_name, STOMP.number, secret_name(role),
                         credentials=(secrets[role],) if role in secrets else ())
            for role in ("publisher", "consumer"))

        volumes = [k8s.core.v1.VolumeArgs(name="logs", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs())]
        mounts = [Mount("logs", ACTIVEMQ_LOG_DIR)]
        if args.persistence_size:
            claim = k8s.core.v1.PersistentVolumeClaim(
                f"{name}-data",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name="activemq-data", namespace=args.namespace, labels=pod_labels,
                    # A WaitForFirstConsumer class binds the claim only once the pod is scheduled,
                    # and the pod is created after the claim: awaiting "Bound" would deadlock.
                    annotations={"pulumi.com/skipAwait": "true"}),
                spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                    access_modes=["ReadWriteOnce"],
                    storage_class_name=args.storage_class,
                    resources=k8s.core.v1.VolumeResourceRequirementsArgs(
                        requests={"storage": args.persistence_size})),
                opts=child,
            )
            volumes.append(k8s.core.v1.VolumeArgs(
                name="data", persistent_volume_claim=k8s.core.v1.PersistentVolumeClaimVolumeSourceArgs(
                    claim_name=claim.metadata.name)))
            mounts.append(Mount("data", ACTIVEMQ_DATA_DIR))

        broker = Container(
            name=args.container_name,
            image=args.image,
            resources=args.resources,
            ports=(CONSOLE, OPENWIRE, STOMP),
            secret_env={variable: SecretEnv(secret_name(role), key)
                        for role in BROKER_ROLES
                        for variable, key in zip(BROKER_LOGIN_ENV[role], ("username", "password"))},
            mounts=tuple(mounts),
            readiness=Probe(STOMP.number, initial_delay=5, period=3),
            liveness=Probe(OPENWIRE.number, initial_delay=60, period=10),
        )
        log_tail = [log_tail_sidecar(args.image)] if args.log_sidecar else []
        containers = [broker, *log_tail, *args.sidecars]
        broker_pod = pod(
            f"{name}-pod",
            PodSettings(name=args.pod_name, namespace=args.namespace, labels=pod_labels,
                        grace_period=args.grace_period, volumes=tuple(volumes),
                        spread_across_nodes=args.spread_across_nodes),
            containers, pulumi.ResourceOptions(parent=self), secrets=list(secrets.values()))
        k8s.core.v1.Service(
            f"{name}-service",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.service_name, namespace=args.namespace,
                                                labels=pod_labels),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="ClusterIP",
                selector=selector(pod_labels),
                ports=[k8s.core.v1.ServicePortArgs(name=p.name, port=p.number, target_port=p.name)
                       for p in (STOMP, OPENWIRE, CONSOLE)]),
            opts=child)
        self._expose(broker_pod, containers)


def log_tail_command(path: str) -> tuple[str, ...]:
    """`tail -F path` that stops at once on SIGTERM with exit code 0.

    As PID 1, `tail` would ignore SIGTERM (the kernel drops signals PID 1 has no handler for), so
    every graceful delete of the pod waited its whole grace period for the SIGKILL. A shell that
    traps TERM runs as PID 1 instead; when it exits, the kernel ends `tail` with it.
    """
    return ("/bin/sh", "-c", f"trap 'exit 0' TERM; tail -n +1 -F {shlex.quote(path)} & wait")


def log_tail_sidecar(image: str) -> Container:
    """Streams the broker's log file from the shared emptyDir to this container's stdout, so
    `kubectl logs activemq-pod -c broker-log` shows it (the post's multi-container pattern)."""
    return Container(
        name="broker-log",
        image=image,
        resources=Resources(cpu_request="5m", memory_request="16Mi", memory_limit="64Mi"),
        command=log_tail_command(ACTIVEMQ_LOG_FILE),
        mounts=(Mount("logs", ACTIVEMQ_LOG_DIR, read_only=True),),
    )
