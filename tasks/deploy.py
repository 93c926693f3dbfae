"""Stack tasks: up, down, preview, refresh, outputs, and manifests rendered by the engine."""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from invoke import Context, task

from tasks.session import outputs as stack_outputs
from tasks.session import pulumi_stack, reports_setup_errors, stack_name
from tools.paths import REPO
from tools.progress import step

MANIFESTS = REPO / "manifests"


@task
@reports_setup_errors
def up(c: Context) -> None:
    """Deploy the stack (pulumi up): the broker, the job and the api, waiting until they are ready."""
    with step(f"pulumi up ({stack_name(c)})"):
        result = pulumi_stack.up(stack_name(c))
    print(f"changes: {json.dumps(result.summary.resource_changes)}")


@task
@reports_setup_errors
def preview(c: Context) -> None:
    """Show what `up` would change, validating the config; applies nothing."""
    result = pulumi_stack.preview(stack_name(c))
    print(f"changes: {json.dumps(result.change_summary)}")


@task
@reports_setup_errors
def down(c: Context) -> None:
    """Destroy everything the stack made (pulumi destroy)."""
    with step(f"pulumi destroy ({stack_name(c)})"):
        pulumi_stack.destroy(stack_name(c))


@task
@reports_setup_errors
def refresh(c: Context) -> None:
    """Read the cluster's live state back into the stack (pulumi refresh)."""
    pulumi_stack.refresh(stack_name(c))


@task
@reports_setup_errors
def outputs(c: Context) -> None:
    """Print the stack outputs as JSON: namespace, pod names, IPs, containers and ports."""
    print(json.dumps(stack_outputs(c), indent=2, sort_keys=True))


@task
@reports_setup_errors
def manifests(c: Context) -> None:
    """Regenerate manifests/ through the real engine (the render stack; applies nothing)."""
    for stale in MANIFESTS.glob("**/*.yaml"):
        stale.unlink()
    with tempfile.TemporaryDirectory(prefix="news-tracker-render-") as backend, \
            step("rendering manifests/ with pulumi up (render stack)"):
        pulumi_stack.up("render", backend=Path(backend))
    for empty in sorted((p for p in MANIFESTS.glob("**/*") if p.is_dir()), reverse=True):
        if not any(empty.iterdir()):
            shutil.rmtree(empty)
    print(f"wrote {len(list(MANIFESTS.glob('**/*.yaml')))} manifests under {MANIFESTS}")
