"""Setting a stack secret without putting its value on a command line.

The Automation API's `set_config` runs `pulumi config set KEY --secret ... -- VALUE`: while it
runs, the value is in `ps` and /proc/<pid>/cmdline for every local user. `pulumi config set`
reads the value from standard input when none is given and stdin is not a terminal, so we run
the stack's own CLI (same binary, directory and environment as its workspace) with the value on
a pipe, and in neither the arguments nor the environment.
"""
from __future__ import annotations

import os
import subprocess

from pulumi import automation as auto


def set_secret(stack: auto.Stack, key: str, value: str) -> None:
    """`pulumi config set --secret KEY` for `stack`, the value read from stdin.

    Raises auto.CommandError (as set_config does) when the CLI fails."""
    workspace = stack.workspace
    if not isinstance(workspace, auto.LocalWorkspace):
        raise TypeError(f"set_secret needs a LocalWorkspace (its CLI), not {type(workspace).__name__}")
    command = [workspace.pulumi_command.command, "--non-interactive", "config", "set", "--secret",
               "--stack", stack.name, "--", key]
    home = {"PULUMI_HOME": workspace.pulumi_home} if workspace.pulumi_home else {}
    # pulumi drops one trailing newline from what it reads: write exactly the value.
    result = subprocess.run(command, input=value, text=True, capture_output=True,
                            cwd=workspace.work_dir, env={**os.environ, **home, **workspace.env_vars},
                            check=False)
    if result.returncode != 0:
        raise auto.errors.create_command_error(
            auto.CommandResult(stdout=result.stdout, stderr=result.stderr, code=result.returncode))
