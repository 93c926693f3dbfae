"""Invoke task: what this machine has for the project, and what is missing with how to get it."""
from __future__ import annotations

from typing import Any

from invoke import Context, task

from tasks.session import ImportedOnFirstUse, pulumi_stack, reports_setup_errors

# The machine report pulls in the toolchain's and the cluster preflight's modules: only this task
# needs them, and invoke imports every task module on each start.
machine: Any = ImportedOnFirstUse("tools.doctor")


@task
@reports_setup_errors
def doctor(c: Context) -> None:
    """One screen: Pulumi CLI, provider plugin, kubectl, Docker, kind, Go, root, packages, and the
    cluster driver and image builder that will be used; each missing piece with the command that gets it."""
    print(machine.report(pulumi_stack.PULUMI_HOME))
