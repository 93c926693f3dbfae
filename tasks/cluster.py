"""Invoke tasks for the project's Kubernetes cluster (driver chosen by tools.cluster)."""

from __future__ import annotations

from invoke import Context, Exit, task

from tasks.session import reports_setup_errors
from tools.cluster import choose_driver


@task
@reports_setup_errors
def up(c: Context) -> None:
    """Start the cluster: create it, or restart whatever of it is stopped on its data (never wipes)."""
    driver = choose_driver()
    driver.up()
    print(driver.kubeconfig)


@task
@reports_setup_errors
def down(c: Context) -> None:
    """Delete the cluster with its data, and undo everything it changed on this machine."""
    choose_driver().down()


@task
@reports_setup_errors
def reset(c: Context) -> None:
    """Wipe the cluster and start an empty one (down, then up): everything deployed is lost."""
    driver = choose_driver()
    driver.down()
    driver.up()
    print(driver.kubeconfig)


@task
@reports_setup_errors
def status(c: Context) -> None:
    """Show the driver, its running components and node readiness (exit 1 unless Ready)."""
    report = choose_driver().status()
    print(report.describe())
    if not report.ready:
        raise Exit(code=1)


@task
@reports_setup_errors
def node_image(c: Context) -> None:
    """Build (or reuse) the kind node image from the project's cached builds; print it and its file."""
    from tools.cluster.kind.node_image import ensure_node_image  # the image builder's imports are heavy

    image = ensure_node_image()
    print(f"{image.reference}\t{image.archive}")
