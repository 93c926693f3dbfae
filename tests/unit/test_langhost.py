"""The project's language host (tools/langhost): how it reads the CLI's arguments, which plugins
it reports, how a Run request becomes the program's process and its exit a Run response, and
that it is installed only where no upstream host exists. The live run through the real CLI is
tests/live/test_pulumi_cli.py."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf import struct_pb2
from pulumi.runtime.proto import language_pb2

from tests.unit.fake_tools import fake_executable
from tools.langhost import HOST_VERSION, install
from tools.langhost.argv import HostArgs, parse_args
from tools.langhost.install import MARKER, find_upstream
from tools.langhost.interpreter import InterpreterError, resolve
from tools.langhost.packages import Distribution, RequiredPlugin, plugin_version, required_plugins
from tools.langhost.program import SHIM, program_command, run_response
from tools.paths import REPO


# --- the CLI's arguments -------------------------------------------------------------------------

@pytest.mark.parametrize(("argv", "expected"), [
    (["127.0.0.1:4000"], HostArgs(engine_address="127.0.0.1:4000")),
    (["--logtostderr", "-v=9", "--tracing", "http://t", "127.0.0.1:4000"],
     HostArgs("127.0.0.1:4000", "http://t", 9, True)),
    (["-tracing=http://t", "-v", "3", "localhost:1"], HostArgs("localhost:1", "http://t", 3)),
    # Flags of other CLI versions, with or without values, never end up as the engine address.
    (["-root", "/p", "-virtualenv", "venv", "--future-flag", "--other=x", "127.0.0.1:5"],
     HostArgs(engine_address="127.0.0.1:5")),
    ([], HostArgs()),
    (["-virtualenv", "venv", "-root", "/p"], HostArgs()),
    (["-v=lots", "e:1"], HostArgs(engine_address="e:1")),
])
def test_arguments_are_parsed_leniently_with_the_engine_address_last(argv: list[str], expected: HostArgs) -> None:
    assert parse_args(argv) == expected


# --- required plugins ----------------------------------------------------------------------------

def site_packages(tmp_path: Path, plugins: dict[str, dict | None]) -> Path:
    """A site-packages directory with one module per package, each with its pulumi-plugin.json
    (None: the module has none)."""
    site = tmp_path / "site-packages"
    for module, manifest in plugins.items():
        (site / module).mkdir(parents=True)
        if manifest is not None:
            (site / module / "pulumi-plugin.json").write_text(json.dumps(manifest))
    return site


def test_required_plugins_come_from_pulumi_plugin_json_and_pulumi_package_names(tmp_path: Path) -> None:
    site = site_packages(tmp_path, {
        "pulumi_kubernetes": {"resource": True, "name": "kubernetes", "version": "4.25.0"},
        "pulumi_random": None,
        "pulumi_policy": None,
        "pulumi_nonresource": {"resource": False},
        "acme_thing": {"resource": True, "name": "acme", "version": "v1.2.3", "server": "https://acme"},
        "requests": None,
        "pulumi": None,
    })
    dists = [Distribution("pulumi_kubernetes", "4.25.0", site), Distribution("pulumi-random", "4.16", site),
             Distribution("pulumi-policy", "1.0.0", site), Distribution("pulumi_nonresource", "1.0.0", site),
             Distribution("acme-thing", "9.9.9", site), Distribution("requests", "2.0", site),
             Distribution("pulumi", "3.272.0", site)]
    assert required_plugins(dists) == [
        RequiredPlugin("acme", "v1.2.3", "https://acme"),
        RequiredPlugin("kubernetes", "v4.25.0"),
        RequiredPlugin("random", "v4.16.0"),
    ]


@pytest.mark.parametrize(("pep440", "semver"), [
    ("4.25.0", "4.25.0"), ("1.2", "1.2.0"), ("1.2.3a4", "1.2.3-alpha.4"), ("1.2.3rc1", "1.2.3-rc.1"),
    ("1.2.3.post4", "1.2.3+post4"), ("1.2.3.post4.dev5", "1.2.3+post4dev5"), ("1!2.0", None), ("1.0+local", None),
])
def test_package_versions_become_plugin_semvers_as_upstream_translates_them(pep440: str, semver: str | None) -> None:
    assert plugin_version(pep440) == semver


def test_the_projects_virtualenv_requires_the_pinned_kubernetes_plugin() -> None:
    from tools.langhost.packages import installed_distributions
    from tools.toolchain.pins import KUBERNETES_PROVIDER_VERSION
    interpreter = resolve(str(REPO), {"toolchain": "pip", "virtualenv": ".venv"}, os.environ)
    assert required_plugins(installed_distributions(interpreter)) == [
        RequiredPlugin("kubernetes", f"v{KUBERNETES_PROVIDER_VERSION}")]


# --- which Python runs the program ---------------------------------------------------------------

def fake_venv(root: Path, name: str = "venv") -> Path:
    return fake_executable(root / name / "bin", "python", "exit 0\n")


def test_a_relative_virtualenv_is_found_from_the_project_root_and_activated(tmp_path: Path) -> None:
    python = fake_venv(tmp_path)
    chosen = resolve(str(tmp_path), {"virtualenv": "venv"}, {"PATH": "/usr/bin", "PYTHONHOME": "/x", "KEEP": "1"})
    assert chosen.python == python
    assert chosen.env == {"PATH": f"{tmp_path}/venv/bin:/usr/bin", "VIRTUAL_ENV": f"{tmp_path}/venv", "KEEP": "1"}


def test_a_missing_virtualenv_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(InterpreterError, match=r"virtualenv 'venv' named in Pulumi.yaml .* create it with "
                                               r"`python3 -m venv .*/venv && .*/venv/bin/pip install -r"):
        resolve(str(tmp_path), {"virtualenv": "venv"}, {})


@pytest.mark.parametrize("options", [{"toolchain": "uv"}, {"toolchain": "poetry"}, {"typechecker": "mypy"}])
def test_unsupported_runtime_options_are_refused_not_ignored(options: dict, tmp_path: Path) -> None:
    with pytest.raises(InterpreterError, match="not supported by this project's Python language host"):
        resolve(str(tmp_path), options, {})


def test_without_a_virtualenv_pulumi_python_cmd_then_python3_from_path(tmp_path: Path) -> None:
    python3 = fake_executable(tmp_path / "bin", "python3", "exit 0\n")
    custom = fake_executable(tmp_path / "bin", "mypython", "exit 0\n")
    assert resolve(str(tmp_path), {}, {"PATH": str(tmp_path / "bin")}).python == python3
    assert resolve(str(tmp_path), {}, {"PATH": str(tmp_path / "bin"), "PULUMI_PYTHON_CMD": "mypython"}).python == custom


# --- Run request -> the program's process ---------------------------------------------------------

def run_request(root: Path, **fields: object) -> language_pb2.RunRequest:
    options = struct_pb2.Struct()
    options.update({"toolchain": "pip", "virtualenv": "venv"})
    info = language_pb2.ProgramInfo(root_directory=str(root), program_directory=str(root), entry_point=".",
                                    options=options)
    defaults: dict[str, object] = dict(
        project="news-tracker", stack="ci", pwd=str(root), program=".", dryRun=True, parallel=8,
        monitor_address="127.0.0.1:7001", organization="organization", info=info,
        config={"news-tracker:namespace": "news-ci", "news-tracker:brokerPassword": "s3cret"},
        configSecretKeys=["news-tracker:brokerPassword"])
    return language_pb2.RunRequest(**{**defaults, **fields})


def test_a_run_request_becomes_upstreams_exec_shim_command_in_the_virtualenv(tmp_path: Path) -> None:
    python = fake_venv(tmp_path)
    command = program_command(run_request(tmp_path), "127.0.0.1:7000", "http://trace", {"PATH": "/usr/bin"})
    assert command.argv == [
        str(python), str(SHIM),
        "--monitor", "127.0.0.1:7001", "--engine", "127.0.0.1:7000", "--project", "news-tracker",
        "--root_directory", str(tmp_path), "--stack", "ci", "--pwd", str(tmp_path),
        "--dry_run", "true", "--parallel", "8", "--tracing", "http://trace", "--organization", "organization",
        ".",
    ]
    assert json.loads(command.env["PULUMI_CONFIG"]) == {"news-tracker:namespace": "news-ci",
                                                        "news-tracker:brokerPassword": "s3cret"}
    assert json.loads(command.env["PULUMI_CONFIG_SECRET_KEYS"]) == ["news-tracker:brokerPassword"]
    assert command.env["VIRTUAL_ENV"] == str(tmp_path / "venv")


def test_an_update_passes_dry_run_false_and_the_programs_arguments(tmp_path: Path) -> None:
    fake_venv(tmp_path)
    argv = program_command(run_request(tmp_path, dryRun=False, args=["x", "y"]), None, None, {}).argv
    assert argv[argv.index("--dry_run") + 1] == "false"
    assert "--engine" not in argv and "--tracing" not in argv
    assert argv[-3:] == [".", "x", "y"]


# --- the program's exit -> Run response -----------------------------------------------------------

@pytest.mark.parametrize(("returncode", "response"), [
    (0, language_pb2.RunResponse()),
    (32, language_pb2.RunResponse(bail=True)),
    (1, language_pb2.RunResponse(error="program exited with non-zero exit code: 1")),
    (-2, language_pb2.RunResponse(error="program was stopped by SIGINT")),
])
def test_exit_codes_map_to_run_responses_as_upstream(returncode: int, response: language_pb2.RunResponse) -> None:
    assert run_response(returncode) == response


def run_shim(program_dir: Path, main: str, sigint_ignored: bool = False) -> subprocess.CompletedProcess[str]:
    """The shim as the host starts it, without an engine: pulumi.log then writes to stderr."""
    program_dir.mkdir()
    (program_dir / "__main__.py").write_text(main)
    return subprocess.run(
        [sys.executable, str(SHIM), "--project", "p", "--stack", "s", "--pwd", str(program_dir),
         "--dry_run", "true", "--parallel", "2", "."],
        env={**os.environ, "PULUMI_CONFIG": json.dumps({"p:key": "value", "p:pw": "s3"}),
             "PULUMI_CONFIG_SECRET_KEYS": json.dumps(["p:pw"])},
        preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if sigint_ignored else None,
        capture_output=True, text=True, timeout=60)


def test_the_shim_gives_the_program_its_config_secrets_and_settings(tmp_path: Path) -> None:
    done = run_shim(tmp_path / "prog", "import pulumi, sys\n"
                    "c = pulumi.Config('p')\n"
                    "print(c.get('key'), pulumi.runtime.config.is_config_secret('p:pw'),\n"
                    "      pulumi.runtime.is_dry_run(), pulumi.get_stack(), pulumi.get_project(), sys.path[0])\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["value", "True", "True", "s", "p", str(tmp_path / "prog")]


def test_a_run_error_exits_1_with_its_message_alone(tmp_path: Path) -> None:
    done = run_shim(tmp_path / "prog", "import pulumi\nraise pulumi.RunError('news-tracker:api.port: out of range')\n")
    assert done.returncode == 1
    assert "news-tracker:api.port: out of range" in done.stderr and "Traceback" not in done.stderr


def test_an_unhandled_exception_exits_32_with_the_traceback_from_the_programs_frames(tmp_path: Path) -> None:
    done = run_shim(tmp_path / "prog", "def fail():\n    raise ValueError('bad value')\nfail()\n")
    assert done.returncode == 32
    assert "Program failed with an unhandled exception:" in done.stderr
    assert "ValueError: bad value" in done.stderr
    assert "runpy" not in done.stderr and "shim.py" not in done.stderr


def test_a_cancel_sigint_ends_the_program_quietly_as_already_reported(tmp_path: Path) -> None:
    # Started with SIGINT ignored, as by a CLI run from a background job: the cancel still works.
    done = run_shim(tmp_path / "prog", "import os, signal, time\nos.kill(os.getpid(), signal.SIGINT)\ntime.sleep(5)\n",
                    sigint_ignored=True)
    assert done.returncode == 32
    assert "Traceback" not in done.stderr and "KeyboardInterrupt" not in done.stderr


# --- installed only where no upstream host exists -------------------------------------------------

def test_with_no_upstream_host_ours_is_installed_into_the_plugin_cache(tmp_path: Path) -> None:
    pulumi = fake_executable(tmp_path / "cli", "pulumi", "exit 0\n")
    host = install(tmp_path / "home", path=str(tmp_path / "cli"))
    assert host == tmp_path / "home" / "plugins" / f"language-python-v{HOST_VERSION}" / "pulumi-language-python"
    assert os.access(host, os.X_OK) and MARKER in host.read_text()
    assert host.read_text().startswith(f"#!{sys.executable}\n")
    assert find_upstream(pulumi, str(tmp_path / "cli")) is None
    assert install(tmp_path / "home", path=str(tmp_path / "cli")) == host  # idempotent


def test_an_upstream_host_on_path_is_used_and_ours_removed(tmp_path: Path) -> None:
    ours = install(tmp_path / "home", path="")
    upstream = fake_executable(tmp_path / "bin", "pulumi-language-python", "exit 0\n")
    assert install(tmp_path / "home", path=str(tmp_path / "bin")) == upstream
    assert not ours.parent.exists()


def test_an_upstream_host_beside_the_real_pulumi_binary_is_used(tmp_path: Path) -> None:
    real = fake_executable(tmp_path / "dist", "pulumi", "exit 0\n")
    upstream = fake_executable(tmp_path / "dist", "pulumi-language-python", "exit 0\n")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "pulumi").symlink_to(real)  # as the toolchain links it: resolved like the CLI does
    assert install(tmp_path / "home", path=str(tmp_path / "bin")) == upstream
    assert not (tmp_path / "home" / "plugins").exists()


def test_an_older_copy_of_ours_is_replaced_and_a_foreign_one_left_alone(tmp_path: Path) -> None:
    plugins = tmp_path / "home" / "plugins"
    old = fake_executable(plugins / "language-python-v3.0.0", "pulumi-language-python", f"{MARKER}\n")
    foreign = fake_executable(plugins / "language-python-v3.1.0", "pulumi-language-python", "exit 0\n")
    install(tmp_path / "home", path="")
    assert not old.exists() and foreign.exists()
