"""set_secret against the toolchain's real pulumi CLI (a throw-away project and file backend; no
cluster, no network): the value read from stdin is stored encrypted, exactly, and was never in
the CLI's command line."""
from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from pulumi import automation as auto
from pulumi.automation._stack import StackInitMode

from tools import gobuild
from tools.stack_secrets import set_secret
from tools.toolchain import PULUMI_CLI

pytestmark = pytest.mark.integration


def test_the_real_cli_stores_the_value_it_reads_from_stdin(tmp_path: Path) -> None:
    bin_dir = gobuild.lookup(PULUMI_CLI)
    if bin_dir is None:
        pytest.skip("the pinned pulumi CLI is not built: run `invoke toolchain`")
    (tmp_path / "backend").mkdir()
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "Pulumi.yaml").write_text("name: secrets-check\nruntime: python\n")
    workspace = auto.LocalWorkspace(
        work_dir=str(tmp_path / "project"), pulumi_home=str(tmp_path / "home"),
        pulumi_command=auto.PulumiCommand(root=str(bin_dir.parent)),
        env_vars={"PULUMI_BACKEND_URL": f"file://{tmp_path / 'backend'}",
                  "PULUMI_CONFIG_PASSPHRASE": "integration", "PULUMI_SKIP_UPDATE_CHECK": "true"})
    stack = auto.Stack("check", workspace, StackInitMode.CREATE)
    value = f"{secrets.token_urlsafe(24)} $with 'quotes'"

    set_secret(stack, "secrets-check:password", value)

    stored = (tmp_path / "project" / "Pulumi.check.yaml").read_text()
    assert "secure:" in stored and value not in stored
    read_back = stack.get_config("secrets-check:password")
    assert (read_back.value, read_back.secret) == (value, True)
