"""Invoke task: what this machine has for the project, and what is missing with how to get it."""
from __future__ import annotations

from invoke import Context, task

from tasks.session import pulumi_stack, reports_setup_errors
from tools import doctor as machine


@task
@reports_setup_errors
def doctor(c: Context) -> None:
    """One screen: Pulumi CLI, provider plugin, kubectl, Docker, kind, Go, root, packages, and the
    cluster driver and image builder that will be used; each missing piece with the command that gets it."""
    print(machine.report(pulumi_stack.PULUMI_HOME))
