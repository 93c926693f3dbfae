"""The kind driver: one control plane and two workers as Docker containers, made by kind from the
project's own node image.

`up` needs a Docker engine (the machine's, or one the project starts: engine.py), kind (PATH's or
built: binary.py) and the node image (node_image.py). It creates tools/cluster/kind-config.yaml's
cluster on a Docker network of its own, then does what kindnetd and kind's default add-ons would:
pod routes between nodes (network.py), CoreDNS and storage. Storage is the local driver's: a
default StorageClass and static hostPath volumes, recycled when released, whose directories
live in one host directory mounted into every node, so a volume's data is the same on whichever
node its pod lands.

Node containers that stopped (a Docker restart, a reboot) are started again, never recreated:
their /var volumes keep etcd, the kubelet's state and the images. Only `down` deletes.
"""

from __future__ import annotations

import ipaddress
import json
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tools import paths
from tools.cluster.commands import run
from tools.cluster.driver import ClusterStatus
from tools.cluster.kind import engine, network
from tools.cluster.kind.binary import kind_command
from tools.cluster.local import addons
from tools.cluster.local.images import COREDNS_IMAGE
from tools.cluster.local.layout import CLUSTER_DOMAIN, HOSTPATH_VOLUMES
from tools.cluster.nodes import nodes_ready
from tools.errors import SetupError
from tools.progress import say, step

CLUSTER_NAME = "news-tracker"
CONFIG = Path(__file__).parents[1] / "kind-config.yaml"
NETWORK = "news-tracker-kind"
"""The Docker network of the nodes (kind's KIND_EXPERIMENTAL_DOCKER_NETWORK), not kind's shared one."""
CLUSTER_LABEL = "io.x-k8s.kind.cluster"
VOLUMES_IN_NODE = "/var/local/news-tracker-volumes"
READY_TIMEOUT = "180s"
CONNECT_TIMEOUT = 180.0


@dataclass
class KindDriver:
    """A kind cluster named news-tracker; its state (kubeconfig, volumes) under STATE_DIR/kind."""

    root: Path = paths.STATE_DIR / "kind"
    engine_layout: engine.EngineLayout = field(default_factory=engine.default_layout)
    name: str = "kind"

    @property
    def kubeconfig(self) -> Path:
        return self.root / "kubeconfig"

    @property
    def volumes(self) -> Path:
        return self.root / "volumes"

    def up(self) -> None:
        """Create the cluster, start its stopped nodes, or leave a healthy one be."""
        env = engine.ensure_engine(self.engine_layout)
        kind = kind_command()
        if CLUSTER_NAME in run([kind, "get", "clusters"], env=env).split():
            self._restart(kind, env)
        else:
            self._create(kind, env)
        self._wait_usable()
        say(f"kubeconfig: {self.kubeconfig}")

    def down(self) -> None:
        """Delete the nodes, their network and volumes, our state, and our dockerd if we started it."""
        with step("kind cluster down"):
            env = engine.command_env(self.engine_layout)
            if not succeeds_with(["docker", "info"], env) and self.engine_layout.data_root.is_dir():
                env = engine.ensure_engine(self.engine_layout)  # our stopped engine may still hold nodes
            if succeeds_with(["docker", "info"], env):
                run([kind_command(), "delete", "cluster", "--name", CLUSTER_NAME, "--kubeconfig",
                     str(self.kubeconfig)], env=env)
                if NETWORK in run(["docker", "network", "ls", "--format", "{{.Name}}"], env=env).split():
                    run(["docker", "network", "rm", NETWORK], env=env)
            engine.stop_own_engine(self.engine_layout)
            shutil.rmtree(self.root, ignore_errors=True)

    def status(self) -> ClusterStatus:
        """The node containers' states and the nodes' readiness; starts nothing."""
        env = engine.command_env(self.engine_layout)
        if not succeeds_with(["docker", "info"], env):
            return ClusterStatus(driver=self.name, components={"docker engine": False}, nodes_ready={})
        return ClusterStatus(
            driver=self.name,
            components=self._containers(env) or {"kind nodes": False},
            nodes_ready=nodes_ready(_kubectl(), self.kubeconfig, run),
        )

    def load_images(self, archives: Sequence[Path]) -> None:
        """Import docker-archives into every node's containerd (`kind load image-archive`)."""
        env = engine.command_env(self.engine_layout)
        if not (succeeds_with(["docker", "info"], env) and any(self._containers(env).values())):
            raise SetupError("the kind cluster is not running: run `invoke cluster.up` first")
        kind = kind_command()
        nodes = run(["docker", "ps", "--all", "--quiet", "--no-trunc", "--filter",
                     f"label={CLUSTER_LABEL}={CLUSTER_NAME}"], env=env).split()
        loaded = self._loaded_archives(nodes)
        for archive in archives:
            if str(archive) in loaded:  # the archive's path names its content
                say(f"{archive.name}: already on every node")
                continue
            run([kind, "load", "image-archive", str(archive), "--name", CLUSTER_NAME], env=env)
            loaded.add(str(archive))
            self.root.mkdir(parents=True, exist_ok=True)
            self.loaded_record.write_text(json.dumps({"nodes": sorted(nodes), "archives": sorted(loaded)}))

    @property
    def loaded_record(self) -> Path:
        return self.root / "loaded-images.json"

    def _loaded_archives(self, nodes: list[str]) -> set[str]:
        """The archives loaded into these very node containers (a new cluster has new ones, and
        a stopped node keeps its images when started again)."""
        if not self.loaded_record.is_file():
            return set()
        record = json.loads(self.loaded_record.read_text())
        return set(record["archives"]) if record["nodes"] == sorted(nodes) else set()

    def _create(self, kind: str, env: dict[str, str]) -> None:
        from tools.cluster.kind.node_image import ensure_node_image  # the image builder's imports are heavy

        image = ensure_node_image()
        if not succeeds_with(["docker", "image", "inspect", image.reference], env):
            with step(f"docker load the node image ({image.archive.stat().st_size / 1e6:.0f} MB)"):
                run(["docker", "load", "--input", str(image.archive)], env=env)
        if NETWORK not in run(["docker", "network", "ls", "--format", "{{.Name}}"], env=env).split():
            # no masquerading: nodes and pods reach each other, never outside the machine
            run(["docker", "network", "create", "--driver=bridge",
                 "--opt=com.docker.network.bridge.enable_ip_masquerade=false", NETWORK], env=env)
        self.root.mkdir(parents=True, exist_ok=True)
        for index in range(HOSTPATH_VOLUMES):
            directory = self.volumes / f"pv-{index}"
            directory.mkdir(parents=True, exist_ok=True)
            directory.chmod(0o777)  # pods run as any user; the volume is theirs
        config = self.root / "kind-config.yaml"
        config.write_text(yaml.safe_dump(self.cluster_config()))
        with step("kind create cluster (1 control plane, 2 workers)"):
            run([kind, "create", "cluster", "--name", CLUSTER_NAME, "--config", str(config), "--image",
                 image.reference, "--kubeconfig", str(self.kubeconfig)],
                env={**env, "KIND_EXPERIMENTAL_DOCKER_NETWORK": NETWORK})
        self._connect_pods(env)
        self._apply_addons()

    def _restart(self, kind: str, env: dict[str, str]) -> None:
        stopped = [name for name, running in self._containers(env).items() if not running]
        if stopped:
            with step(f"docker start {' '.join(stopped)}"):
                run(["docker", "start", *stopped], env=env)
        run([kind, "export", "kubeconfig", "--name", CLUSTER_NAME, "--kubeconfig", str(self.kubeconfig)], env=env)
        self._connect_pods(env)  # a started node has lost its routes (and may have a new address)

    def cluster_config(self) -> dict:
        """kind-config.yaml with this clone's volume directory mounted into every node."""
        config = yaml.safe_load(CONFIG.read_text())
        mount = {"hostPath": str(self.volumes), "containerPath": VOLUMES_IN_NODE}
        for node in config["nodes"]:
            node["extraMounts"] = [*node.get("extraMounts", []), mount]
        return config

    def _connect_pods(self, env: dict[str, str]) -> None:
        """Routes and CNI configs, once every node has its podCIDR. Node addresses come from
        Docker: a node started again may have a new one that its Node object does not show yet."""
        with step("pod routes between nodes"):
            containers = self._containers(env)
            deadline = time.monotonic() + CONNECT_TIMEOUT
            cidrs: dict[str, str] = {}
            while set(cidrs) != set(containers):
                if time.monotonic() > deadline:
                    raise SetupError(f"not every kind node got a podCIDR within {CONNECT_TIMEOUT:.0f}s "
                                     f"(have: {cidrs}); see `kubectl get nodes -o yaml`")
                time.sleep(1)
                try:  # the API server may still be starting (refused, or RBAC not loaded yet)
                    cidrs = network.pod_cidrs(self._kubectl("get", "nodes", "-o", "json"))
                except SetupError:
                    continue
            nodes = [network.NodeAddress(name, self._address(name, env), cidr) for name, cidr in cidrs.items()]
            network.connect(nodes, env)

    def _address(self, container: str, env: dict[str, str]) -> str:
        template = f'{{{{(index .NetworkSettings.Networks "{NETWORK}").IPAddress}}}}'
        return run(["docker", "inspect", "--format", template, container], env=env).strip()

    def _apply_addons(self) -> None:
        """CoreDNS (no upstream) and static hostPath volumes, as on the local driver."""
        service_subnet = yaml.safe_load(CONFIG.read_text())["networking"]["serviceSubnet"]
        documents = [
            addons.render(
                "coredns",
                cluster_domain=CLUSTER_DOMAIN,
                coredns_image=COREDNS_IMAGE,
                dns_service_ip=str(ipaddress.ip_network(service_subnet)[10]),  # kubeadm's choice
            )
        ]
        documents += [
            addons.render("persistent-volume", name=f"news-tracker-pv-{index}", path=f"{VOLUMES_IN_NODE}/pv-{index}")
            for index in range(HOSTPATH_VOLUMES)
        ]
        self._kubectl("apply", "-f", "-", stdin="\n---\n".join(documents))

    def _wait_usable(self) -> None:
        with step("wait for Ready nodes and cluster DNS"):
            self._kubectl("wait", "--for=condition=Ready", "nodes", "--all", f"--timeout={READY_TIMEOUT}")
            self._kubectl("--namespace=kube-system", "rollout", "status", "deployment/coredns",
                          f"--timeout={READY_TIMEOUT}")
            self._kubectl("--namespace=default", "wait", "--for=create", "serviceaccount/default",
                          f"--timeout={READY_TIMEOUT}")

    def _containers(self, env: dict[str, str]) -> dict[str, bool]:
        """Node container name -> running."""
        listing = run(["docker", "ps", "--all", "--filter", f"label={CLUSTER_LABEL}={CLUSTER_NAME}",
                       "--format", "{{.Names}} {{.State}}"], env=env)
        return {name: state == "running" for name, state in (line.split() for line in listing.splitlines())}

    def _kubectl(self, *args: str, stdin: str | None = None) -> str:
        return run([*_kubectl(), "--kubeconfig", str(self.kubeconfig), *args], stdin=stdin)


def _kubectl() -> list[str]:
    from tools.cluster import kubectl_command  # imported here: tools.cluster imports this module

    return kubectl_command()


def succeeds_with(args: Sequence[str], env: dict[str, str]) -> bool:
    """Whether a command exits 0 in `env` (a probe such as `docker info`)."""
    return subprocess.run(list(args), env=env, capture_output=True, check=False, timeout=60).returncode == 0

