"""Cluster add-ons applied after the API server is up: RBAC for kubelet access, DNS, storage.

The manifests are YAML files beside this module with ${name} placeholders; rendering them is
plain string substitution so what gets applied can be read in the files themselves.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from string import Template

from apps.images import RUNTIME_UID
from tools.cluster.commands import run
from tools.cluster.local import layout
from tools.cluster.local.images import BUSYBOX_IMAGE, COREDNS_IMAGE
from tools.cluster.local.layout import Layout
from tools.cluster.local.pki import APISERVER_KUBELET_CLIENT

MANIFESTS = Path(__file__).with_name("addons")


def render(manifest: str, **values: object) -> str:
    """The manifest addons/<manifest>.yaml with its ${placeholders} filled in."""
    return Template((MANIFESTS / f"{manifest}.yaml").read_text()).substitute(values)


def pv_recycler_template(state: Layout) -> Path:
    """Write the recycler pod template the controller-manager reads at start-up."""
    path = state.config / "pv-recycler.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render("pv-recycler", busybox_image=BUSYBOX_IMAGE))
    return path


def apply_addons(kubectl: Sequence[str], state: Layout) -> None:
    """Create the PV directories and apply every add-on (kubectl apply is idempotent)."""
    documents = [
        render("kubelet-api-access", apiserver_kubelet_client=APISERVER_KUBELET_CLIENT),
        render(
            "coredns",
            cluster_domain=layout.CLUSTER_DOMAIN,
            coredns_image=COREDNS_IMAGE,
            dns_service_ip=layout.DNS_SERVICE_IP,
        ),
        render("storage"),
    ]
    for index in range(layout.HOSTPATH_VOLUMES):
        directory = state.volumes / f"pv-{index}"
        directory.mkdir(parents=True, exist_ok=True)
        # The project's pods run as RUNTIME_UID (hostPath volumes get no fsGroup ownership): the
        # volume is that user's and its group's, and closed to every other.
        os.chown(directory, RUNTIME_UID, RUNTIME_UID)
        directory.chmod(0o770)
        documents.append(render("persistent-volume", name=f"news-tracker-pv-{index}", path=directory))
    run([*kubectl, "apply", "-f", "-"], stdin="\n---\n".join(documents))
