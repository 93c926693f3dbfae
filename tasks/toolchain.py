"""Invoke task that builds (or finds cached) the Pulumi CLI and Kubernetes provider."""
from __future__ import annotations

from invoke import Context, Exit, task

from tools.errors import SetupError
from tools.toolchain import ensure_toolchain
from tools.toolchain.pins import KUBERNETES_PROVIDER_VERSION, PULUMI_VERSION


@task
def toolchain(c: Context) -> None:
    """Build or reuse the pinned Pulumi CLI and Kubernetes provider; print their bin dir."""
    try:
        bin_dir = ensure_toolchain()
    except SetupError as error:
        raise Exit(str(error), code=1) from error
    print(f"pulumi {PULUMI_VERSION}, pulumi-resource-kubernetes {KUBERNETES_PROVIDER_VERSION}")
    print(bin_dir)
