"""The Pulumi and kubectl seams say what is missing and how to get it, before anything runs."""
from __future__ import annotations

from pathlib import Path

import pytest

from tools import cluster, stack
from tools.errors import SetupError
from tools.kube import Kubectl
from tools.target import ClusterTarget, cluster_target, stack_config


def test_missing_toolchain_says_how_to_build_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stack.toolchain, "lookup_toolchain", lambda pulumi_home: None)
    with pytest.raises(SetupError, match=r"not built yet: run `invoke toolchain` \(or ./setup.sh\)"):
        stack.engine_env("ci")


def test_missing_kubeconfig_says_how_to_start_the_cluster(tmp_path: Path) -> None:
    kubectl = Kubectl(ClusterTarget(tmp_path / "nope", None), "develop")
    with pytest.raises(SetupError, match=r"no kubeconfig at .*nope: start the local cluster with "
                                         r"`invoke cluster.up`"):
        kubectl.command("get", "pods")


def test_missing_kubectl_says_how_to_get_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster.gobuild, "lookup", lambda build: None)
    monkeypatch.setattr(cluster.shutil, "which", lambda name: None)
    with pytest.raises(SetupError, match=r"no kubectl: run `invoke cluster.up` \(builds one\)"):
        cluster.kubectl_command()


def test_unknown_stack_lists_the_known_ones() -> None:
    with pytest.raises(SetupError, match=r"no stack config Pulumi.prod.yaml; known stacks: bench, ci, dev, render, terminal, tour"):
        stack_config("prod")


def test_kubectl_carries_kubeconfig_context_and_namespace(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text("")
    command = Kubectl(ClusterTarget(kubeconfig, "other"), "develop").command("get", "pods")
    assert command[-8:] == ["--kubeconfig", str(kubeconfig), "--context", "other",
                            "--namespace", "develop", "get", "pods"]


def test_stacks_without_cluster_keys_target_the_local_cluster() -> None:
    assert cluster_target("dev").context is None
    assert cluster_target("dev").kubeconfig.name == "kubeconfig"
