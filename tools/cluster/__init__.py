"""A Kubernetes cluster for the project, behind one small driver interface.

    from tools.cluster import choose_driver
    driver = choose_driver()          # a ClusterDriver (see driver.py)
    driver.up(); driver.status(); driver.load_images([archive]); driver.kubeconfig; driver.down()
    chosen_kubeconfig()               # driver.kubeconfig, without importing the driver
    kubectl_command()                 # ["<built kube>", "kubectl"] or ["kubectl"]

Two drivers: `kind` (Docker containers, when a Docker engine and kind work) and `local`
(upstream Kubernetes as host processes; the default on the project's machines, which have no
Docker engine). NEWS_TRACKER_CLUSTER_DRIVER=local|kind overrides the choice.
"""

from __future__ import annotations

import importlib
import os
import shutil
from pathlib import Path

from tools import gobuild, paths
from tools.cluster.commands import succeeds
from tools.cluster.driver import ClusterDriver, ClusterStatus
from tools.cluster.local.builds import KUBERNETES
from tools.errors import SetupError

DRIVER_ENV = "NEWS_TRACKER_CLUSTER_DRIVER"
#: Driver classes by name, as (module, class): imported on use, since each module pulls in its whole
#: tool chain and the pod tasks, which only need `kubectl_command` and `chosen_kubeconfig`, should
#: not pay for it.
DRIVERS = {"kind": ("tools.cluster.kind", "KindDriver"), "local": ("tools.cluster.local.driver", "LocalDriver")}
#: Each driver's `kubeconfig`, for the tasks that need only that (a unit test holds them equal).
KUBECONFIGS = {"kind": paths.STATE_DIR / "kind" / "kubeconfig", "local": paths.KUBECONFIG}

__all__ = ["ClusterDriver", "ClusterStatus", "choose_driver", "chosen_kubeconfig", "kubectl_command"]


def choose_driver() -> ClusterDriver:
    """The driver named by NEWS_TRACKER_CLUSTER_DRIVER, else kind if Docker and kind work, else local."""
    return _driver(_chosen_name())


def chosen_kubeconfig() -> Path:
    """The kubeconfig of the driver choose_driver() picks, without importing that driver's modules."""
    return KUBECONFIGS[_chosen_name()]


def _chosen_name() -> str:
    requested = os.environ.get(DRIVER_ENV, "").strip()
    if requested:
        if requested not in DRIVERS:
            raise SetupError(
                f"{DRIVER_ENV}={requested!r} is not a cluster driver; use one of: {', '.join(DRIVERS)}"
            )
        return requested
    # kind first: where there is no kind (the project's machines) `docker info` is not waited for.
    return "kind" if succeeds(["kind", "version"]) and succeeds(["docker", "info"]) else "local"


def _driver(name: str) -> ClusterDriver:
    module, class_name = DRIVERS[name]
    return getattr(importlib.import_module(module), class_name)()


def kubectl_command() -> list[str]:
    """A kubectl of the cluster's version: the one built with the local cluster, else PATH's."""
    built = gobuild.lookup(KUBERNETES)
    if built is not None:
        return [str(built / "kube"), "kubectl"]
    if shutil.which("kubectl") is None:
        raise SetupError("no kubectl: run `invoke cluster.up` (builds one) or install kubectl 1.33-1.35")
    return ["kubectl"]
