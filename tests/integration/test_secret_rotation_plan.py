"""The real engine and the pinned Kubernetes provider (render mode: no cluster, no network) plan
what components/pod.py asks for when a pod's SECRETS_ANNOTATION changes: a replacement, the old
pod deleted first. Without those options the same change is an in-place update, which leaves the
running containers with the environment (the password) they started with."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s
import pytest
from pulumi import automation as auto

from components.pod import SECRETS_ANNOTATION, replaced_with
from tools import gobuild
from tools.toolchain import KUBERNETES_PROVIDER, PULUMI_CLI, plugin

pytestmark = pytest.mark.integration


def program(out: Path, version: str, opts: pulumi.ResourceOptions) -> Callable[[], None]:
    def run() -> None:
        render = k8s.Provider("render", render_yaml_to_directory=str(out))
        k8s.core.v1.Pod(
            "pod", metadata={"name": "p", "namespace": "n", "annotations": {SECRETS_ANNOTATION: version}},
            spec={"containers": [{"name": "c", "image": "example.invalid/c:1"}]},
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(provider=render)))
    return run


@pytest.fixture(scope="module")
def workspace_options(tmp_path_factory: pytest.TempPathFactory) -> auto.LocalWorkspaceOptions:
    cli, provider = gobuild.lookup(PULUMI_CLI), gobuild.lookup(KUBERNETES_PROVIDER)
    if cli is None or provider is None:
        pytest.skip("the pinned pulumi CLI and provider are not built: run `invoke toolchain`")
    root = tmp_path_factory.mktemp("rotation")
    (root / "backend").mkdir()
    plugin.install(cli / "pulumi", provider / plugin.BINARY, root / "home")
    return auto.LocalWorkspaceOptions(
        work_dir=str(root), pulumi_home=str(root / "home"),
        pulumi_command=auto.PulumiCommand(root=str(cli.parent)),
        env_vars={"PULUMI_BACKEND_URL": f"file://{root / 'backend'}", "PULUMI_CONFIG_PASSPHRASE": "",
                  "PULUMI_SKIP_UPDATE_CHECK": "true", "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true"})


def planned_after_a_new_version(options: auto.LocalWorkspaceOptions, name: str,
                                opts: pulumi.ResourceOptions) -> dict[str, int]:
    out = Path(str(options.work_dir)) / name
    stack = auto.create_stack(name, project_name="rotation", program=program(out, "credentials@1", opts),
                              opts=options)
    stack.up(color="never")
    stack.workspace.program = program(out, "credentials@2", opts)
    return stack.preview(color="never").change_summary


def test_a_new_secrets_version_replaces_the_pod(workspace_options: auto.LocalWorkspaceOptions) -> None:
    assert planned_after_a_new_version(workspace_options, "ours", replaced_with([])).get("replace") == 1
    # What the options are for: the engine alone would only patch the annotation.
    assert planned_after_a_new_version(workspace_options, "bare", pulumi.ResourceOptions()) == {
        "same": 2, "update": 1}
