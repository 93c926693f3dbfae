"""tools.toolchain: pins that agree with each other, and the provider's generated embed files."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tools import gobuild
from tools.paths import REPO
from tools.toolchain import PULUMI_CLI, lookup_toolchain
from tools.toolchain.pins import KUBERNETES_PROVIDER_VERSION, PULUMI_VERSION
from tools.toolchain.provider_source import PINNED_MODULE_DIR, write_embedded_files


def required_version(go_mod: Path, module: str) -> str:
    match = re.search(rf"^\s*(?:require\s+)?{re.escape(module)} (\S+)", go_mod.read_text(), re.MULTILINE)
    assert match, f"{module} not required in {go_mod}"
    return match.group(1)


def test_cli_wrapper_pins_pkg_and_sdk_at_the_cli_version() -> None:
    go_mod = PULUMI_CLI.module_dir / "go.mod"
    assert required_version(go_mod, "github.com/pulumi/pulumi/pkg/v3") == f"v{PULUMI_VERSION}"
    assert required_version(go_mod, "github.com/pulumi/pulumi/sdk/v3") == f"v{PULUMI_VERSION}"


def test_provider_uses_its_released_sdk_instead_of_a_sibling_directory() -> None:
    go_mod = PINNED_MODULE_DIR / "go.mod"
    assert "=> ../sdk" not in go_mod.read_text()
    assert required_version(go_mod, "github.com/pulumi/pulumi-kubernetes/sdk/v4") == f"v{KUBERNETES_PROVIDER_VERSION}"


def test_python_sdk_asks_for_the_provider_version_that_is_built() -> None:
    assert f"pulumi-kubernetes=={KUBERNETES_PROVIDER_VERSION}\n" in (REPO / "requirements.txt").read_text()


def test_embedded_files_are_minified_and_the_schema_carries_the_version(tmp_path: Path) -> None:
    (tmp_path / "schema.json").write_text(json.dumps({"name": "kubernetes", "types": {"a": "é"}}, indent=4))
    (tmp_path / "terraform-mapping.json").write_text(json.dumps({"b": [1, 2]}, indent=4))
    write_embedded_files(tmp_path, "4.25.0")
    assert (tmp_path / "schema-embed.json").read_text(encoding="utf-8") == '{"name":"kubernetes","types":{"a":"é"},"version":"4.25.0"}'
    assert (tmp_path / "terraform-mapping-embed.json").read_text() == '{"b":[1,2]}'


def test_lookup_with_an_empty_cache_finds_nothing_and_builds_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gobuild, "BUILDS_DIR", tmp_path / "cache")
    assert lookup_toolchain() is None
    assert not (tmp_path / "cache").exists()
