"""The kind driver's pieces that need no Docker: its cluster config, pod networking, the
capability wrapper, the engine's capability check and the node image's names."""

from __future__ import annotations

import importlib.util
import ipaddress
import json
from importlib.machinery import SourceFileLoader
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from tools.cluster.kind import CONFIG, KindDriver, engine, network
from tools.cluster.kind import images as control_plane
from tools.cluster.kind.node_image import CONTAINERD_CONFIG
from tools.cluster.local import layout
from tools.cluster.local.images import PAUSE_IMAGE


def kubeadm_patch(kind: str) -> dict:
    for patch in yaml.safe_load(CONFIG.read_text())["kubeadmConfigPatches"]:
        document = yaml.safe_load(patch)
        if document["kind"] == kind:
            return document
    raise AssertionError(f"no {kind} patch")


def test_kind_config_runs_without_kindnetd_on_subnets_clear_of_the_local_cluster() -> None:
    networking = yaml.safe_load(CONFIG.read_text())["networking"]
    assert networking["disableDefaultCNI"] is True
    local = [ipaddress.ip_network("10.244.0.0/16"), ipaddress.ip_network(layout.SERVICE_CIDR)]
    for subnet in (networking["podSubnet"], networking["serviceSubnet"]):
        assert not any(ipaddress.ip_network(subnet).overlaps(other) for other in local), subnet


def test_kubeadm_runs_the_preloaded_control_plane_images() -> None:
    cluster = kubeadm_patch("ClusterConfiguration")
    assert cluster["imageRepository"] == control_plane.REPOSITORY
    assert cluster["etcd"]["local"]["imageTag"] == control_plane.ETCD_TAG
    assert {"preflight", "addon/coredns"} <= set(kubeadm_patch("InitConfiguration")["skipPhases"])


def test_every_node_mounts_the_shared_volume_directory(tmp_path: Path) -> None:
    driver = KindDriver(root=tmp_path)
    nodes = driver.cluster_config()["nodes"]
    assert [node["role"] for node in nodes] == ["control-plane", "worker", "worker"]
    for node in nodes:
        assert {"hostPath": str(tmp_path / "volumes"), "containerPath": "/var/local/news-tracker-volumes"} in node[
            "extraMounts"
        ]
    assert driver.kubeconfig == tmp_path / "kubeconfig"


def test_pod_cidrs_skip_nodes_that_have_none_yet() -> None:
    listing = {
        "items": [
            {"metadata": {"name": "a"}, "spec": {"podCIDR": "10.245.0.0/24"}},
            {"metadata": {"name": "b"}, "spec": {}},
        ]
    }
    assert network.pod_cidrs(json.dumps(listing)) == {"a": "10.245.0.0/24"}


def test_cni_config_gives_pods_the_node_pod_cidr_without_masquerading() -> None:
    bridge = json.loads(network.cni_config("10.245.2.0/24"))["plugins"][0]
    assert bridge["ipam"]["ranges"] == [[{"subnet": "10.245.2.0/24"}]]
    assert bridge["ipMasq"] is False


def test_containerd_sandbox_image_is_the_preloaded_pause_image() -> None:
    assert f'sandbox_image = "{PAUSE_IMAGE}"' in CONTAINERD_CONFIG


@pytest.mark.parametrize(("capbnd", "needed"), [("000001fffeffffff", True), ("000001ffffffffff", False)])
def test_capability_wrapper_only_where_the_bounding_set_lacks_sys_resource(
    tmp_path: Path, capbnd: str, needed: bool
) -> None:
    status = tmp_path / "status"
    status.write_text(f"Name:\tx\nCapBnd:\t{capbnd}\n")
    assert engine.needs_capability_wrapper(status) is needed


def wrapper() -> ModuleType:
    """The wrapper script as a module (it has no .py suffix: dockerd runs it as a program)."""
    loader = SourceFileLoader("runc_wrapper", str(engine.RUNTIME_WRAPPER))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


def test_wrapper_drops_sys_resource_from_a_bundle_and_runs_real_runc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = wrapper()
    capabilities = ["CAP_CHOWN", "CAP_SYS_RESOURCE", "CAP_SYS_ADMIN"]
    (tmp_path / "config.json").write_text(
        json.dumps({"process": {"capabilities": {"bounding": capabilities, "effective": capabilities}}})
    )
    executed: list[list[str]] = []
    monkeypatch.setattr(module.os, "execv", lambda path, argv: executed.append(argv))
    args = ["--root", "/r", "create", "--bundle", str(tmp_path), "id"]
    module.main(args)
    process = json.loads((tmp_path / "config.json").read_text())["process"]
    assert process["capabilities"] == {
        "bounding": ["CAP_CHOWN", "CAP_SYS_ADMIN"],
        "effective": ["CAP_CHOWN", "CAP_SYS_ADMIN"],
    }
    assert executed == [[module.RUNC, *args]]


def test_wrapper_drops_sys_resource_from_an_exec_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = wrapper()
    process_file = tmp_path / "process.json"
    process_file.write_text(json.dumps({"capabilities": {"permitted": ["CAP_SYS_RESOURCE", "CAP_KILL"]}}))
    monkeypatch.setattr(module.os, "execv", lambda path, argv: None)
    module.main(["exec", "--process", str(process_file), "id"])
    assert json.loads(process_file.read_text())["capabilities"] == {"permitted": ["CAP_KILL"]}


def test_an_archive_already_loaded_into_these_node_containers_is_not_loaded_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """kind load image-archive imports every image again (about 12 s each on 3 nodes); the
    record of what went into which node containers skips that, and a new cluster loads anew."""
    from tools.cluster.kind import driver as kind_driver
    nodes = ["c0ffee", "beef"]
    loads: list[str] = []

    def run(argv: list[str], **_: object) -> str:
        if argv[:2] == ["docker", "ps"]:
            return "\n".join(nodes) + "\n"
        loads.append(argv[3])
        return ""

    monkeypatch.setattr(kind_driver, "run", run)
    monkeypatch.setattr(kind_driver, "succeeds_with", lambda *_: True)
    monkeypatch.setattr(KindDriver, "_containers", lambda self, env: {"node": True})
    monkeypatch.setattr(kind_driver, "kind_command", lambda: "kind")
    driver = KindDriver(root=tmp_path / "kind")
    api, job = tmp_path / "news-api" / "94d3.tar", tmp_path / "news-job" / "61c5.tar"

    driver.load_images([api])
    driver.load_images([api, job])
    assert loads == [str(api), str(job)]
    nodes[0] = "f00d"  # the cluster was made again
    driver.load_images([api])
    assert loads == [str(api), str(job), str(api)]
