"""Run the real Pulumi program (__main__.py) against Pulumi's mock monitor and record what it
registers: type, name, parent URN and the camelCase inputs the provider would receive."""
from __future__ import annotations

import hashlib
import json
import runpy
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockMonitor

from settings import PROJECT, SECRET_KEYS
from tools.paths import REPO


@dataclass(frozen=True)
class Registered:
    type: str
    name: str
    urn: str
    inputs: dict[str, Any]
    #: Names of the resources the engine must create first (explicit and from Outputs).
    dependencies: frozenset[str] = frozenset()
    #: customTimeouts (create, update, delete) as registered; "" where none is set.
    timeouts: tuple[str, str, str] = ("", "", "")
    #: Property paths whose change replaces the resource, and whether the old one goes first.
    replace_on_changes: tuple[str, ...] = ()
    delete_before_replace: bool = False

    @property
    def parent_type(self) -> str:
        """The type of the resource this one is parented to (from its URN's type chain)."""
        chain = self.urn.split("::")[2].split("$")
        return chain[-2] if len(chain) > 1 else "pulumi:pulumi:Stack"


def _plain(value: Any) -> Any:
    """Inputs as YAML would hold them: protobuf carries every number as a float."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class _Mocks(pulumi.runtime.Mocks):
    """Echo inputs back as state; give Pods an IP, as the provider returns a live pod's status,
    and Secrets a resourceVersion that changes with their data, as the API server gives each
    write a new one (and the engine writes a Secret only when its inputs change)."""

    def __init__(self) -> None:
        self.pod_count = 0
        self.inputs: dict[tuple[str, str], dict[str, Any]] = {}
        #: The IP given to each Pod, by its Kubernetes name (what the outputs must carry).
        self.pod_ips: dict[str, str] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.inputs[(args.typ, args.name)] = args.inputs
        state = dict(args.inputs)
        if args.typ == "kubernetes:core/v1:Pod":
            self.pod_count += 1
            state["status"] = {"podIP": f"10.244.0.{10 + self.pod_count}"}
            self.pod_ips[args.inputs["metadata"]["name"]] = state["status"]["podIP"]
        if args.typ == "kubernetes:core/v1:Secret":
            data = json.dumps(args.inputs.get("stringData"), sort_keys=True).encode()
            state["metadata"] = {**args.inputs["metadata"],
                                 "resourceVersion": hashlib.sha256(data).hexdigest()[:8]}
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return {}


class _RecordingMonitor(MockMonitor):
    """The mock monitor, also keeping what each registration says it depends on."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.dependencies: dict[str, frozenset[str]] = {}
        self.timeouts: dict[str, tuple[str, str, str]] = {}
        self.replacement: dict[str, tuple[tuple[str, ...], bool]] = {}

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (the gRPC method's name)
        response = super().RegisterResource(request)
        self.dependencies[response.urn] = frozenset(urn.rsplit("::", 1)[1] for urn in request.dependencies)
        limits = request.customTimeouts
        self.timeouts[response.urn] = (limits.create, limits.update, limits.delete)
        self.replacement[response.urn] = (tuple(request.replaceOnChanges), request.deleteBeforeReplace)
        return response


@dataclass
class ProgramRun:
    resources: list[Registered]
    outputs: dict[str, Any]
    #: The IP the mock provider gave each Pod, by its Kubernetes name.
    pod_ips: dict[str, str]

    def one(self, type_: str, name: str) -> Registered:
        matches = [r for r in self.resources if r.type == type_ and r.name == name]
        assert len(matches) == 1, f"expected one {type_} {name!r}, got {len(matches)}"
        return matches[0]

    def of_type(self, type_: str) -> list[Registered]:
        return [r for r in self.resources if r.type == type_]


#: A value for each stack secret the program requires (the broker's three logins).
STACK_SECRETS = {"brokerPassword": "not-a-real-admin-password",
                 "brokerPublisherPassword": "not-a-real-publisher-password",
                 "brokerConsumerPassword": "not-a-real-consumer-password"}


def run_program(config: dict[str, Any], stack: str = "unit") -> ProgramRun:
    """Run __main__.py with `config` (keys without the project prefix; secrets as plain values)."""
    mocks = _Mocks()
    monitor = _RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(
        {f"{PROJECT}:{key}": value if isinstance(value, str) else json.dumps(value)
         for key, value in config.items()},
        secret_keys=[f"{PROJECT}:{key}" for key in sorted(SECRET_KEYS)])
    outputs: dict[str, Any] = {}

    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        runpy.run_path(str(REPO / "__main__.py"), run_name="__main__")
        stack_outputs = pulumi.runtime.get_root_resource().outputs  # type: ignore[union-attr]
        return pulumi.Output.from_input(stack_outputs).apply(outputs.update)

    program()
    resources = []
    for urn in monitor.resources:
        type_, name = urn.split("::")[2].split("$")[-1], urn.rsplit("::", 1)[1]
        resources.append(Registered(type_, name, urn, _plain(mocks.inputs.get((type_, name), {})),
                                    monitor.dependencies.get(urn, frozenset()),
                                    monitor.timeouts.get(urn, ("", "", "")),
                                    *monitor.replacement.get(urn, ((), False))))
    return ProgramRun(resources, outputs, mocks.pod_ips)
