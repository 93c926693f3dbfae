"""Invoke tasks for the Pulumi toolchain: resolve (reuse or build) it, and print the terminal
environment that makes a plain `pulumi` command work on this project's stacks."""
from __future__ import annotations

import json
import shlex
from typing import Any

from invoke import Context, task

from tasks.session import ImportedOnFirstUse, pulumi_stack, reports_setup_errors, stack_name
from tools.errors import SetupError

# The toolchain resolver's modules are imported on first use: invoke imports every task module on
# each start, and only `toolchain` needs them.
toolchains: Any = ImportedOnFirstUse("tools.toolchain")


@task
@reports_setup_errors
def toolchain(c: Context) -> None:
    """Reuse the installed Pulumi CLI and provider if compatible, else the cached build, else
    build; say which one is used for each and why."""
    chosen = toolchains.resolve_toolchain(pulumi_stack.PULUMI_HOME, build=True)
    print(chosen.report())
    if chosen.bin_dir is None:
        raise SetupError("the toolchain is incomplete (see the pieces above): the stack tasks cannot run")
    print(f"bin dir (first on PATH): {chosen.bin_dir}")


@task(help={"format": "shell (export lines, the default) or json (one object, for CI step outputs)"})
@reports_setup_errors
def env(c: Context, format: str = "shell") -> None:
    """Print the selected stack's engine environment: `eval "$(invoke env)"`, then `pulumi ...`."""
    values = pulumi_stack.engine_env(stack_name(c))
    if format == "json":
        print(json.dumps(values))
    elif format == "shell":
        print("\n".join(f"export {name}={shlex.quote(value)}" for name, value in values.items()))
    else:
        raise SetupError(f"--format {format!r}: use shell or json")
