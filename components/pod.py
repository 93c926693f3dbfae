"""Shared pod building blocks: typed container descriptions, the project's labels, the
restricted security defaults, and one function that turns them into a validated Pod.

The three components differ in what runs, not in how a pod is put together; that "how" lives
here once.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from apps.images import RUNTIME_UID
from components.validation import (
    ConfigError, check_grace_period, check_image, check_name, check_port, check_unique_ports,
)

PROJECT = "news-tracker"
#: Every object the project makes carries this label; `invoke down` is checked against it.
PART_OF_LABEL = ("app.kubernetes.io/part-of", PROJECT)
#: On a pod whose containers read Secrets: `name@resourceVersion` of each. A container reads its
#: environment from a Secret only when it starts, so a rotated password would never reach a pod
#: that keeps running; the API server gives every write of a Secret a new resourceVersion, and a
#: change of this annotation replaces the pod.
SECRETS_ANNOTATION = "news-tracker/secrets-version"


@dataclass(frozen=True)
class Port:
    name: str
    number: int


@dataclass(frozen=True)
class SecretEnv:
    """An environment variable read from a key of a Secret, never a literal."""
    secret: str
    key: str


@dataclass(frozen=True)
class Mount:
    volume: str
    path: str
    read_only: bool = False


@dataclass(frozen=True)
class Probe:
    """One of: an HTTP GET (path and port), a TCP connect (port) or a command (exec)."""
    port: int | None = None
    http_path: str | None = None
    command: tuple[str, ...] = ()
    initial_delay: int = 0
    period: int = 5
    failure_threshold: int = 3

    def to_k8s(self) -> k8s.core.v1.ProbeArgs:
        if self.command:
            action = dict(exec_=k8s.core.v1.ExecActionArgs(command=list(self.command)))
        elif self.http_path:
            action = dict(http_get=k8s.core.v1.HTTPGetActionArgs(path=self.http_path, port=self.port))
        else:
            action = dict(tcp_socket=k8s.core.v1.TCPSocketActionArgs(port=self.port))
        return k8s.core.v1.ProbeArgs(initial_delay_seconds=self.initial_delay or None,
                                     period_seconds=self.period,
                                     failure_threshold=self.failure_threshold, **action)


@dataclass(frozen=True)
class Resources:
    cpu_request: str
    memory_request: str
    memory_limit: str
    cpu_limit: str | None = None

    def to_k8s(self) -> k8s.core.v1.ResourceRequirementsArgs:
        limits = {"memory": self.memory_limit}
        if self.cpu_limit:
            limits["cpu"] = self.cpu_limit
        return k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": self.cpu_request, "memory": self.memory_request}, limits=limits)


@dataclass(frozen=True)
class Container:
    """What runs in one container of a pod. Sidecars are Containers too."""
    name: str
    image: str
    resources: Resources
    ports: Sequence[Port] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    secret_env: Mapping[str, SecretEnv] = field(default_factory=dict)
    command: Sequence[str] = ()
    mounts: Sequence[Mount] = ()
    readiness: Probe | None = None
    liveness: Probe | None = None

    def validate(self, pod: str) -> None:
        where = f"pod {pod!r} container {self.name!r}"
        check_name(f"pod {pod!r}: container name", self.name)
        check_image(f"{where}: image", self.image)
        for port in self.ports:
            check_port(f"{where}: port {port.name!r}", port.number)

    def to_k8s(self) -> k8s.core.v1.ContainerArgs:
        env = [k8s.core.v1.EnvVarArgs(name=name, value=value) for name, value in self.env.items()]
        env += [k8s.core.v1.EnvVarArgs(
                    name=name, value_from=k8s.core.v1.EnvVarSourceArgs(
                        secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(name=ref.secret, key=ref.key)))
                for name, ref in self.secret_env.items()]
        return k8s.core.v1.ContainerArgs(
            name=self.name,
            image=self.image,
            image_pull_policy="IfNotPresent",
            command=list(self.command) or None,
            ports=[k8s.core.v1.ContainerPortArgs(name=p.name, container_port=p.number, protocol="TCP")
                   for p in self.ports] or None,
            env=env or None,
            resources=self.resources.to_k8s(),
            volume_mounts=[k8s.core.v1.VolumeMountArgs(name=m.volume, mount_path=m.path,
                                                       read_only=m.read_only or None)
                           for m in self.mounts] or None,
            readiness_probe=self.readiness.to_k8s() if self.readiness else None,
            liveness_probe=self.liveness.to_k8s() if self.liveness else None,
            security_context=k8s.core.v1.SecurityContextArgs(
                allow_privilege_escalation=False,
                capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
            ),
        )


@dataclass(frozen=True)
class PodSettings:
    """What the pod around the containers needs: identity, lifecycle and volumes."""
    name: str
    namespace: pulumi.Input[str]
    labels: Mapping[str, str]
    grace_period: int
    restart_policy: str = "Always"
    run_as_user: int = RUNTIME_UID
    volumes: Sequence[k8s.core.v1.VolumeArgs] = ()
    spread_across_nodes: bool = False


def spread_over_nodes() -> k8s.core.v1.TopologySpreadConstraintArgs:
    """The project's pods at most one apart per node. Tainted nodes (a control plane) do not
    count, or a cluster whose pods may only run on two workers could never be within one."""
    return k8s.core.v1.TopologySpreadConstraintArgs(
        max_skew=1,
        topology_key="kubernetes.io/hostname",
        when_unsatisfiable="DoNotSchedule",
        node_taints_policy="Honor",
        label_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict([PART_OF_LABEL])),
    )


def labels(app: str, name: str, component: str, environment: str, instance: str) -> dict[str, str]:
    """The post's labels (app, part-of, env) plus the recommended app.kubernetes.io set."""
    return {
        "app": app,
        "part-of": "backend",
        "env": environment,
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": instance,
        "app.kubernetes.io/component": component,
        PART_OF_LABEL[0]: PART_OF_LABEL[1],
        "app.kubernetes.io/managed-by": "pulumi",
    }


def selector(pod_labels: Mapping[str, str]) -> dict[str, str]:
    """The labels that pick exactly one component's pod."""
    return {key: pod_labels[key] for key in ("app.kubernetes.io/name", "app.kubernetes.io/instance")}


def validate_pod(pod: str, containers: Sequence[Container], grace_period: int) -> None:
    check_name("pod name", pod)
    check_grace_period(f"pod {pod!r}: terminationGracePeriodSeconds", grace_period)
    names = [c.name for c in containers]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise ConfigError(f"pod {pod!r}: container name {duplicate!r} is used twice")
    for container in containers:
        container.validate(pod)
    check_unique_ports(pod, ((c.name, p.number) for c in containers for p in c.ports))


def secrets_version(secrets: Sequence[k8s.core.v1.Secret]) -> pulumi.Output[str]:
    """SECRETS_ANNOTATION's value. Not a Pulumi secret: a resourceVersion tells nothing of the
    value, and a secret annotation would make the pod's whole metadata (its name) secret."""
    versions = [pulumi.Output.unsecret(secret.metadata.apply(
                    lambda meta: f"{meta.name}@{meta.resource_version}")) for secret in secrets]
    return pulumi.Output.all(*versions).apply(",".join)


def replaced_with(secrets: Sequence[k8s.core.v1.Secret]) -> pulumi.ResourceOptions:
    """A pod's options: created after `secrets`, replaced when SECRETS_ANNOTATION changes (an
    annotation alone is patched in place, and the running containers keep their environment)."""
    return pulumi.ResourceOptions(
        depends_on=list(secrets),
        replace_on_changes=[f'metadata.annotations["{SECRETS_ANNOTATION}"]'],
        # The pod's name is fixed: the old pod must go before the new one can be created.
        delete_before_replace=True)


def pod(resource_name: str, settings: PodSettings, containers: Sequence[Container],
        opts: pulumi.ResourceOptions, secrets: Sequence[k8s.core.v1.Secret] = ()) -> k8s.core.v1.Pod:
    """A validated Pod under the `restricted` Pod Security Standard, replaced whenever one of
    the `secrets` its containers read is written (see SECRETS_ANNOTATION)."""
    validate_pod(settings.name, containers, settings.grace_period)
    if secrets:
        opts = pulumi.ResourceOptions.merge(opts, replaced_with(secrets))
    return k8s.core.v1.Pod(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=settings.name, namespace=settings.namespace, labels=dict(settings.labels),
            annotations={SECRETS_ANNOTATION: secrets_version(secrets)} if secrets else None),
        spec=k8s.core.v1.PodSpecArgs(
            containers=[c.to_k8s() for c in containers],
            restart_policy=settings.restart_policy,
            termination_grace_period_seconds=settings.grace_period,
            automount_service_account_token=False,
            enable_service_links=False,
            security_context=k8s.core.v1.PodSecurityContextArgs(
                run_as_non_root=True,
                run_as_user=settings.run_as_user,
                run_as_group=settings.run_as_user,
                fs_group=settings.run_as_user,
                seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
            ),
            volumes=list(settings.volumes) or None,
            topology_spread_constraints=[spread_over_nodes()] if settings.spread_across_nodes else None,
        ),
        opts=opts,
    )


class PodComponent(pulumi.ComponentResource):
    """A component built around one Pod, exposing what users and tasks need to reach it."""

    pod_name: pulumi.Output[str]
    pod_ip: pulumi.Output[str]
    container_names: list[str]
    ports: dict[str, int]

    def _expose(self, pod_resource: k8s.core.v1.Pod, containers: Sequence[Container]) -> None:
        """Set the typed outputs from the pod and its containers, and register them."""
        self.pod_name = pod_resource.metadata.name
        # No status while rendering manifests (nothing is applied): the IP is then None.
        self.pod_ip = pod_resource.status.apply(lambda status: status.pod_ip if status else None)
        self.container_names = [c.name for c in containers]
        self.ports = {p.name: p.number for c in containers for p in c.ports}
        self.register_outputs({"pod_name": self.pod_name, "pod_ip": self.pod_ip,
                               "container_names": self.container_names, "ports": self.ports})
