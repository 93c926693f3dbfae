"""The images kubeadm runs on a kind node, made from the project's own builds (no registry).

kubeadm names its control-plane images `<imageRepository>/<component>:<tag>`; the kind config
sets `imageRepository` to REPOSITORY and the etcd tag to ours, so these archives, preloaded in
the node image, are what the static pods and kube-proxy start from:

- kube-apiserver, kube-controller-manager, kube-scheduler: the multi-call `kube` binary with a
  link per component name in /usr/local/bin (one layer, stored once on a node);
- kube-proxy: Debian's iptables and conntrack (it drives the node's firewall with them), then
  that same layer;
- etcd: the static etcd binary.

CoreDNS is the local cluster's image and add-on (no upstream forwarding), so kubeadm's own
CoreDNS phase is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tools.cluster.local.builds import ETCD_VERSION, KUBERNETES_VERSION, Binaries
from tools.images.archive import ImageConfig, write_docker_archive, write_layer
from tools.images.build import cached_layer, layer_key
from tools.images.cache import IMAGES_CACHE, key_of, publish, scratch_dir
from tools.images.debian import DebianRootfs
from tools.images.definition import LayerRecipe
from tools.images.files import copy_as_root, in_tree

REPOSITORY = "localhost/news-tracker/kind"
ETCD_TAG = ETCD_VERSION
KUBE_COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy")
BIN = "/usr/local/bin"
PATH = f"{BIN}:/usr/sbin:/usr/bin:/sbin:/bin"
ARCHIVES = IMAGES_CACHE / "kind-node-images"


@dataclass(frozen=True)
class MultiCallBinary:
    """A layer with one executable in BIN and a link to it per name it answers to."""

    binary: Path
    links: tuple[str, ...]

    def inputs(self) -> object:
        return {"binary": self.binary, "links": list(self.links)}

    def write(self, dest: Path) -> None:
        with scratch_dir("multicall") as tree:
            target = in_tree(tree, f"{BIN}/{self.binary.name}")
            copy_as_root(self.binary, target)
            for link in self.links:
                (target.parent / link).symlink_to(self.binary.name)
            write_layer(tree, dest)


@dataclass(frozen=True)
class ControlPlaneImage:
    """One image kubeadm runs: its reference, layers (bottom first) and config."""

    reference: str
    layers: tuple[LayerRecipe, ...]
    config: ImageConfig


def control_plane_images(binaries: Binaries) -> list[ControlPlaneImage]:
    kube = MultiCallBinary(binaries.kube, KUBE_COMPONENTS)
    config = ImageConfig(env={"PATH": PATH})
    images = [
        ControlPlaneImage(f"{REPOSITORY}/{name}:{KUBERNETES_VERSION}", (kube,), config)
        for name in KUBE_COMPONENTS
        if name != "kube-proxy"
    ]
    images.append(
        ControlPlaneImage(
            f"{REPOSITORY}/kube-proxy:{KUBERNETES_VERSION}",
            (DebianRootfs(("iptables", "conntrack")), kube),
            config,
        )
    )
    images.append(
        ControlPlaneImage(f"{REPOSITORY}/etcd:{ETCD_TAG}", (MultiCallBinary(binaries.etcd, ()),), config)
    )
    return images


def ensure_archives(binaries: Binaries) -> list[Path]:
    """The docker-archive of every control-plane image, written unless cached with the same inputs."""
    return [_archive(image) for image in control_plane_images(binaries)]


def _archive(image: ControlPlaneImage) -> Path:
    keys = [layer_key(recipe) for recipe in image.layers]
    name = image.reference.rsplit("/", 1)[-1].replace(":", "-")
    dest = ARCHIVES / f"{name}-{key_of(image.reference, keys, image.config.to_json())}.tar"
    if dest.is_file():
        return dest
    layers = [cached_layer(recipe, key) for recipe, key in zip(image.layers, keys)]
    with scratch_dir("kind-image") as scratch:
        write_docker_archive(scratch / "image.tar", image.reference, layers, image.config)
        publish(scratch / "image.tar", dest)
    for stale in ARCHIVES.glob(f"{name}-*.tar"):
        if stale != dest:
            stale.unlink()
    return dest

