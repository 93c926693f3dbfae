"""Invoke tasks that build the project's images offline and load them into the cluster."""
from __future__ import annotations

from typing import Any

from invoke import Context, task

from tasks.session import ImportedOnFirstUse, reports_setup_errors
from tools.cluster import choose_driver

# The image builder pulls in requests and the broker's recipe: only the image tasks need them.
image_builds: Any = ImportedOnFirstUse("tools.images.build")

NAMES_HELP = {"name": "an image to build (activemq, news-job, news-api); repeat for more; default all"}


@task(iterable=["name"], help=NAMES_HELP)
@reports_setup_errors
def build(c: Context, name: list[str] | None = None) -> None:
    """Build the images (all, or those named) as docker-archives; print each file."""
    for image, archive in image_builds.build(name or ()).items():
        print(f"{image}\t{archive}")


@task(iterable=["name"], help=NAMES_HELP)
@reports_setup_errors
def load(c: Context, name: list[str] | None = None) -> None:
    """Build the images if needed and load them into the cluster's container runtime."""
    driver = choose_driver()  # first: a driver that cannot be had fails before minutes of builds
    archives = image_builds.build(name or ())
    driver.load_images(list(archives.values()))
    print(f"loaded: {', '.join(archives)}")


@task
@reports_setup_errors
def prune(c: Context) -> None:
    """Delete cached image layers that no current image uses (other clones may rebuild them)."""
    for layer in image_builds.prune():
        print(f"removed {layer}")
