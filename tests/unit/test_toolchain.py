"""tools.toolchain: pins that agree with each other, the provider's generated embed files, and the
order in which pieces are chosen (installed, else cached, else built), with fake tools on PATH."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from invoke import Config, Context

from tasks import toolchain as toolchain_tasks
from tests.unit.fake_tools import fake_executable, fake_provider, fake_pulumi
from tools import gobuild, toolchain
from tools.paths import REPO
from tools.toolchain import CACHED, INSTALLED, KUBERNETES_PROVIDER, MISSING, OURS, PULUMI_CLI, resolve_toolchain
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


@pytest.fixture
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty machine: PATH holds only tmp/bin and the system tools (no go, so nothing is
    cached), an empty build cache, no user PULUMI_HOME; any Go build fails the test."""
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path / "user-home"))
    monkeypatch.setattr(gobuild, "BUILDS_DIR", tmp_path / "cache")
    monkeypatch.setattr(toolchain.gobuild, "ensure", _no_build)
    return tmp_path


def _no_build(build: gobuild.GoBuild) -> Path:
    raise AssertionError(f"{build.name} was built")


def _plugin_in(home: Path) -> Path:
    directory = home / "plugins" / f"resource-kubernetes-v{KUBERNETES_PROVIDER_VERSION}"
    directory.mkdir(parents=True)
    (directory / "pulumi-resource-kubernetes").write_text("")
    (directory / "pulumi-resource-kubernetes").chmod(0o755)
    return directory / "pulumi-resource-kubernetes"


def test_installed_cli_the_sdk_accepts_is_used_and_nothing_is_built(machine: Path) -> None:
    installed = fake_pulumi(machine / "bin", "3.200.0")
    _plugin_in(machine / "project-home")
    chosen = resolve_toolchain(machine / "project-home", build=True)
    assert (chosen.cli.source, chosen.cli.path) == (INSTALLED, installed)
    assert "v3.200.0 on PATH, accepted by the Python SDK" in chosen.cli.reason
    assert chosen.bin_dir is not None and (chosen.bin_dir / "pulumi").resolve() == installed
    assert [p.name for p in chosen.bin_dir.iterdir()] == ["pulumi"]


@pytest.mark.parametrize("version, why", [
    ("4.0.0", "Major version mismatch"),
    ("3.0.9", "Minimum version requirement failed"),
])
def test_installed_cli_of_a_version_the_sdk_refuses_is_refused_with_its_reason(
        machine: Path, version: str, why: str) -> None:
    installed = fake_pulumi(machine / "bin", version)
    chosen = resolve_toolchain(machine / "project-home", build=False)
    assert chosen.cli.source == MISSING and chosen.bin_dir is None
    assert f"refused {installed} on PATH: {why}" in chosen.cli.reason
    assert version in chosen.cli.reason
    assert "run `invoke toolchain`" in chosen.report()


def test_own_cached_build_on_path_counts_as_the_cached_build(machine: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cached = fake_pulumi(machine / "cache" / "pulumi-x" / "bin", "3.274.1")
    monkeypatch.setenv("PATH", f"{cached.parent}:{machine / 'bin'}:/usr/bin:/bin")
    monkeypatch.setattr(gobuild, "lookup", lambda build: cached.parent if build is PULUMI_CLI else None)
    chosen = resolve_toolchain(machine / "project-home", build=False)
    assert (chosen.cli.source, chosen.cli.path) == (CACHED, cached)
    assert chosen.cli.reason.startswith("no pulumi on PATH")


def test_provider_plugin_under_pulumi_home_is_used_without_installing(machine: Path) -> None:
    pulumi = fake_pulumi(machine / "bin", "3.274.1")
    plugin = _plugin_in(machine / "project-home")
    chosen = resolve_toolchain(machine / "project-home", build=True)
    assert (chosen.provider.source, chosen.provider.path) == (INSTALLED, plugin)
    assert "already installed in" in chosen.provider.reason
    assert "plugin" not in (pulumi.parent / "calls.log").read_text()


def test_provider_in_the_users_pulumi_home_is_installed_into_the_projects(machine: Path) -> None:
    pulumi = fake_pulumi(machine / "bin", "3.274.1")
    users = _plugin_in(machine / "user-home")
    chosen = resolve_toolchain(machine / "project-home", build=True)
    assert chosen.provider.source == INSTALLED
    assert chosen.provider.path == machine / "project-home/plugins/resource-kubernetes-v4.25.0/pulumi-resource-kubernetes"
    assert f"plugin install resource kubernetes v4.25.0 --file {users}" in (pulumi.parent / "calls.log").read_text()


def test_cached_provider_build_is_installed_as_a_plugin(machine: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_pulumi(machine / "bin", "3.274.1")
    built = _plugin_in(machine / "cache")  # any executable file stands for the cached binary
    monkeypatch.setattr(gobuild, "lookup", lambda build: built.parent if build is KUBERNETES_PROVIDER else None)
    chosen = resolve_toolchain(machine / "project-home", build=False)
    assert chosen.provider.source == CACHED
    assert chosen.provider.path is not None and chosen.provider.path.is_relative_to(machine / "project-home" / "plugins")


def test_provider_on_path_reporting_another_version_is_refused(machine: Path) -> None:
    fake_pulumi(machine / "bin", "3.274.1")
    provider = fake_provider(machine / "bin", "4.18.0")
    chosen = resolve_toolchain(machine / "project-home", build=False)
    assert chosen.provider.source == MISSING
    assert f"refused {provider} on PATH: it reports version 4.18.0, the SDK needs 4.25.0" in chosen.provider.reason


def test_provider_on_path_reporting_the_pinned_version_is_installed(machine: Path) -> None:
    pulumi = fake_pulumi(machine / "bin", "3.274.1")
    provider = fake_provider(machine / "bin", "4.25.0")
    chosen = resolve_toolchain(machine / "project-home", build=False)
    assert chosen.provider.source == INSTALLED
    assert f"--file {provider}" in (pulumi.parent / "calls.log").read_text()


def test_invoke_env_prints_exports_a_shell_evaluates_to_the_engine_environment(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    engine = {"PULUMI_HOME": "/a b/home", "PULUMI_CONFIG_PASSPHRASE_FILE": "/x/it's", "PATH": "/t/bin:/usr/bin:/bin"}
    monkeypatch.setattr(toolchain_tasks.pulumi_stack, "engine_env", lambda stack: engine)
    toolchain_tasks.env(Context(Config({"news_tracker": {"stack": "dev"}})))
    exports = capsys.readouterr().out
    shell = subprocess.run(["bash", "-c", f"{exports}\nenv -0"], capture_output=True, text=True, check=True)
    seen = dict(item.split("=", 1) for item in shell.stdout.split("\0") if "=" in item)
    assert {name: seen[name] for name in engine} == engine


def test_language_host_is_ours_only_where_the_cli_finds_no_upstream_one(machine: Path) -> None:
    pulumi = fake_pulumi(machine / "bin", "3.274.1")
    ours = resolve_toolchain(machine / "project-home", build=False).host
    assert ours.source == OURS and ours.path is not None
    assert ours.path.is_relative_to(machine / "project-home" / "plugins")
    upstream = fake_executable(pulumi.parent, "pulumi-language-python", "exit 0\n")
    chosen = resolve_toolchain(machine / "project-home", build=False).host
    assert (chosen.source, chosen.path) == (INSTALLED, upstream)


def test_the_engine_uses_our_build_without_asking_its_version_and_checks_a_cli_of_the_users(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Our build's version is the pin: starting it once more per stack task to ask (0.25 s) is
    skipped. A CLI the user installed is still checked by the SDK, with one `pulumi version`."""
    from tools import stack
    monkeypatch.setattr(gobuild, "BUILDS_DIR", tmp_path / "builds")
    ours = fake_pulumi(tmp_path / "builds" / f"pulumi-{PULUMI_VERSION}-0123" / "bin", PULUMI_VERSION)
    theirs = fake_pulumi(tmp_path / "usr" / "bin", PULUMI_VERSION)

    assert str(stack._pulumi_command(ours.parent.parent).version) == PULUMI_VERSION
    assert not (ours.parent / "calls.log").exists()
    assert str(stack._pulumi_command(theirs.parent.parent).version) == PULUMI_VERSION
    assert (theirs.parent / "calls.log").read_text() == "version\n"
