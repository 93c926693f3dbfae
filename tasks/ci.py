"""Tasks the hosted CI pipelines call (.github/workflows): preview on pull requests, deploy on
main. They are the same stack operations as `invoke preview` / `invoke up`, plus a summary a CI
page can show, so what runs in the pipeline is what the live tests run here."""
from __future__ import annotations

import json
import os
from pathlib import Path

from invoke import Context, task

from tasks.session import pulumi_stack, reports_setup_errors, stack_name
from tools.errors import SetupError


def _summarize(c: Context, title: str, changes: dict[str, int]) -> None:
    """Print the change counts, and append them to the CI page summary when there is one."""
    line = f"{title} ({stack_name(c)}): " + ", ".join(f"{k}={v}" for k, v in sorted(changes.items()))
    print(line)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with Path(summary).open("a") as out:
            out.write(f"- {line}\n")


@task(name="preview")
@reports_setup_errors
def ci_preview(c: Context) -> None:
    """CI on pull requests: preview the stack (validates config; applies nothing)."""
    result = pulumi_stack.preview(stack_name(c))
    _summarize(c, "preview", dict(result.change_summary))


@task(name="deploy")
@reports_setup_errors
def ci_deploy(c: Context) -> None:
    """CI on main: deploy the stack (up waits for Ready pods), then fail if a pod has no IP."""
    result = pulumi_stack.up(stack_name(c))
    _summarize(c, "deploy", dict(result.summary.resource_changes or {}))
    outputs = pulumi_stack.outputs(stack_name(c))
    print(json.dumps(outputs["pods"], indent=2, sort_keys=True))
    if not all(pod["ip"] for pod in outputs["pods"].values()):
        raise SetupError("a deployed pod has no IP: see `invoke pods`")
