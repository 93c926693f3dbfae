"""set_secret hands the value to the stack's pulumi CLI on stdin only: a stand-in CLI records
its arguments, environment and stdin."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from pulumi import automation as auto
from pulumi.automation._stack import StackInitMode

from tests.unit.fake_tools import fake_executable
from tools.stack_secrets import set_secret

VALUE = "-v 'gen$rated' value\twith spaces"

RECORDING_CLI = """\
import json, os, sys
args = sys.argv[1:]
if args == ["version"]:
    print("v3.274.1")
    sys.exit(0)
if "config" not in args:
    sys.exit(0)  # stack select
record = {"argv": sys.argv, "stdin": sys.stdin.read(), "env": dict(os.environ)}
with open(os.path.join(os.path.dirname(sys.argv[0]), "calls.jsonl"), "a") as calls:
    calls.write(json.dumps(record) + "\\n")
if os.environ.get("FAKE_PULUMI_FAILS"):
    print("error: passphrase must be set", file=sys.stderr)
    sys.exit(255)
"""


def stack_with(root: Path, env: dict[str, str]) -> auto.Stack:
    """A real Stack whose workspace runs the stand-in `root/bin/pulumi`."""
    fake_executable(root / "bin", "pulumi", RECORDING_CLI, interpreter=sys.executable)
    workspace = auto.LocalWorkspace(work_dir=str(root), env_vars=env, pulumi_home=str(root / "home"),
                                    pulumi_command=auto.PulumiCommand(root=str(root)))
    return auto.Stack("dev", workspace, StackInitMode.SELECT)


def calls(root: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (root / "bin" / "calls.jsonl").read_text().splitlines()]


def test_the_value_goes_on_stdin_only(tmp_path: Path) -> None:
    set_secret(stack_with(tmp_path, {"PULUMI_BACKEND_URL": "file:///state"}), "news-tracker:brokerPassword",
               VALUE)

    [call] = calls(tmp_path)
    argv = call["argv"]
    assert isinstance(argv, list) and argv[0] == str(tmp_path / "bin" / "pulumi")
    assert argv[1:] == ["--non-interactive", "config", "set", "--secret", "--stack", "dev", "--",
                        "news-tracker:brokerPassword"]
    assert call["stdin"] == VALUE
    assert not any(VALUE in str(arg) for arg in argv)
    env = call["env"]
    assert isinstance(env, dict) and not any(VALUE in value for value in env.values())
    assert env["PULUMI_BACKEND_URL"] == "file:///state"  # the workspace's environment
    assert env["PULUMI_HOME"] == str(tmp_path / "home")


def test_a_failing_cli_raises_a_command_error_with_its_message(tmp_path: Path) -> None:
    stack = stack_with(tmp_path, {"FAKE_PULUMI_FAILS": "1"})

    with pytest.raises(auto.CommandError, match="passphrase must be set") as failure:
        set_secret(stack, "news-tracker:brokerPassword", VALUE)

    assert VALUE not in str(failure.value)
