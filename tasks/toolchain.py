"""Invoke task that builds (or finds cached) the Pulumi CLI and Kubernetes provider."""
from __future__ import annotations

from invoke import Context, task

from tasks.session import reports_setup_errors
from tools.toolchain import ensure_toolchain
from tools.toolchain.pins import KUBERNETES_PROVIDER_VERSION, PULUMI_VERSION


@task
@reports_setup_errors
def toolchain(c: Context) -> None:
    """Build or reuse the pinned Pulumi CLI and Kubernetes provider; print their bin dir."""
    bin_dir = ensure_toolchain()
    print(f"pulumi {PULUMI_VERSION}, pulumi-resource-kubernetes {KUBERNETES_PROVIDER_VERSION}")
    print(bin_dir)
