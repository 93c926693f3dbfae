"""The kind node image for Kubernetes v1.34.4, assembled offline (what `kind build node-image`
would make, without its registry pulls).

Two layers, each cached by its inputs:

1. Debian bookworm with systemd, containerd, runc, the CNI plugins, iptables and the tools kind's
   entrypoint uses, trimmed the way kind's base image is (no units enabled but ours, no kmsg).
2. Everything of the project's and kind's: kind's own base files (entrypoint, /kind/bin scripts,
   systemd units for containerd and the kubelet) read from the kind module at the pinned version;
   a containerd 1.6 config; the multi-call `kube` binary as kubeadm, kubelet and kubectl;
   /kind/version, the default StorageClass manifest and the PV recycler's pod template; and, in
   containerd's store under /var/lib/containerd, the images kubeadm and the cluster run
   (control plane, etcd, pause, CoreDNS, busybox), imported by a throwaway containerd on this
   machine with no unpacking (the node's containerd unpacks them on first use).

The archive is tagged with a hash of all inputs, so `docker image inspect` tells whether an
engine already has this exact image.
"""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

from tools.cluster.commands import run
from tools.cluster.kind import images as control_plane
from tools.cluster.kind.binary import KIND, KIND_VERSION
from tools.cluster.local import addons
from tools.cluster.local.builds import KUBERNETES_VERSION, Binaries, ensure_binaries
from tools.cluster.local.images import BUSYBOX_IMAGE, PAUSE_IMAGE, ensure_images
from tools.errors import SetupError
from tools.images.archive import ImageConfig, write_docker_archive, write_layer
from tools.images.build import cached_layer, layer_key
from tools.images.cache import IMAGES_CACHE, key_of, publish, scratch_dir
from tools.images.debian import DebianRootfs
from tools.images.files import copy_as_root, in_tree
from tools.progress import step

REPOSITORY = "localhost/news-tracker/kind-node"
ARCHIVES = IMAGES_CACHE / "kind-node"
PACKAGES = (
    "systemd", "systemd-sysv", "containerd", "runc", "containernetworking-plugins", "iptables",
    "conntrack", "iproute2", "ethtool", "util-linux", "mount", "kmod", "procps", "bash",
    "ca-certificates", "libseccomp2",
)
TRIM_SYSTEMD = (
    "sh", "-c",
    "find /lib/systemd/system/sysinit.target.wants/ -name systemd-tmpfiles-setup.service -delete"
    " && rm -f /lib/systemd/system/multi-user.target.wants/* /etc/systemd/system/*.wants/*"
    " /lib/systemd/system/local-fs.target.wants/* /lib/systemd/system/sockets.target.wants/*udev*"
    " /lib/systemd/system/sockets.target.wants/*initctl* /lib/systemd/system/basic.target.wants/*"
    " && echo ReadKMsg=no >> /etc/systemd/journald.conf && systemctl mask systemd-binfmt.service",
)
"""kind's base image does the same: only the units the node needs start, journald leaves kmsg be."""
KIND_FILES = (
    "usr/local/bin/entrypoint",
    "kind/bin/mount-product-files.sh",
    "kind/bin/undo-mount-hacks.sh",
    "kind/bin/create-kubelet-cgroup-v2.sh",
    "etc/systemd/system/containerd.service",
    "etc/systemd/system/kubelet.service",
    "etc/systemd/system/kubelet.slice",
    "etc/systemd/system/undo-mount-hacks.service",
    "etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
    "etc/systemd/system/kubelet.service.d/11-kind.conf",
    "etc/sysctl.d/10-network-magic.conf",
    "etc/sysctl.d/10-network-security.conf",
    "etc/default/kubelet",
    "etc/crictl.yaml",
)
ENABLED_UNITS = ("containerd.service", "kubelet.service", "undo-mount-hacks.service")
NODE_BINARIES = ("kubeadm", "kubelet", "kubectl")
CNI_BIN_DIR = "/usr/lib/cni"
"""Where Debian's containernetworking-plugins put the plugins (not /opt/cni/bin)."""
PV_RECYCLER_TEMPLATE = "/kind/pv-recycler.yaml"
CONTAINERD_CONFIG = f"""\
# containerd 1.6 (Debian) on a news-tracker kind node: kind's settings, in 1.6's terms.
version = 2

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{PAUSE_IMAGE}"
  tolerate_missing_hugepages_controller = true
  # a pod may not ask for a lower OOM score than containerd's own: hosts without
  # CAP_SYS_RESOURCE cannot set lower ones at all
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    discard_unpacked_layers = true
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{CNI_BIN_DIR}"
    conf_dir = "/etc/cni/net.d"
"""
NODE_CONFIG = ImageConfig(
    entrypoint=("/usr/local/bin/entrypoint", "/sbin/init"),
    env={"container": "docker", "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
)
IMPORT_TIMEOUT = 30.0


@dataclass(frozen=True)
class NodeImage:
    """A built node image: its docker-archive and the reference it is tagged with."""

    archive: Path
    reference: str


@dataclass(frozen=True)
class NodeFiles:
    """Layer 2 (see the module docstring)."""

    kind_files: Path
    """images/base/files of the kind module."""
    kube: Path
    preloaded: tuple[Path, ...]
    """docker-archives imported into the node's containerd."""

    def inputs(self) -> object:
        return {
            "kind_files": [self.kind_files / name for name in KIND_FILES],
            "kube": self.kube,
            "preloaded": list(self.preloaded),
            "containerd": CONTAINERD_CONFIG,
            "version": KUBERNETES_VERSION,
            "storage": addons.render("storage"),
            "recycler": addons.render("pv-recycler", busybox_image=BUSYBOX_IMAGE),
        }

    def write(self, dest: Path) -> None:
        with scratch_dir("kind-node") as scratch:
            tree = scratch / "tree"
            tree.mkdir()
            self._files(tree)
            with step(f"preload {len(self.preloaded)} images into the node's containerd"):
                _preload(tree / "var/lib/containerd", self.preloaded, scratch / "containerd")
            with step("writing the node layer"):
                write_layer(tree, dest)

    def _files(self, tree: Path) -> None:
        for name in KIND_FILES:
            target = in_tree(tree, name)
            copy_as_root(self.kind_files / name, target)
            if name.startswith(("usr/local/bin/", "kind/bin/")):
                target.chmod(0o755)  # the module cache keeps no modes
        bin_dir = in_tree(tree, "/usr/local/bin")
        (bin_dir / "containerd").symlink_to("/usr/bin/containerd")  # kind's unit runs this path
        copy_as_root(self.kube, bin_dir / "kube")
        usr_bin = in_tree(tree, "/usr/bin")
        usr_bin.mkdir(parents=True)
        for name in NODE_BINARIES:
            (usr_bin / name).symlink_to("/usr/local/bin/kube")
        wants = in_tree(tree, "/etc/systemd/system/multi-user.target.wants")
        wants.mkdir(parents=True)
        for unit in ENABLED_UNITS:
            (wants / unit).symlink_to(f"/etc/systemd/system/{unit}")
        files = {
            "/etc/containerd/config.toml": CONTAINERD_CONFIG,
            "/kind/version": KUBERNETES_VERSION,
            "/kind/manifests/default-storage.yaml": addons.render("storage"),
            PV_RECYCLER_TEMPLATE: addons.render("pv-recycler", busybox_image=BUSYBOX_IMAGE),
        }
        for path, content in files.items():
            target = in_tree(tree, path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
        for directory in ("/etc/kubernetes/manifests", "/etc/cni/net.d"):
            in_tree(tree, directory).mkdir(parents=True, exist_ok=True)
        for path in [tree, *tree.rglob("*")]:
            os.lchown(path, 0, 0)
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o755)


def ensure_node_image(binaries: Binaries | None = None) -> NodeImage:
    """Build (or find in the cache) the node image and everything it is made of."""
    binaries = binaries or ensure_binaries()
    preloaded = (*control_plane.ensure_archives(binaries), *ensure_images(binaries).all())
    kind_files = kind_base_files()
    layers = (DebianRootfs(PACKAGES, (TRIM_SYSTEMD,)), NodeFiles(kind_files, binaries.kube, tuple(preloaded)))
    keys = [layer_key(recipe) for recipe in layers]
    key = key_of(keys, NODE_CONFIG.to_json())
    reference = f"{REPOSITORY}:{KUBERNETES_VERSION}-{key[:12]}"
    archive = ARCHIVES / f"{key}.tar"
    if archive.is_file():
        return NodeImage(archive, reference)
    built = [cached_layer(recipe, recipe_key) for recipe, recipe_key in zip(layers, keys)]
    with step(f"writing the node image {reference}"), scratch_dir("kind-node-image") as scratch:
        write_docker_archive(scratch / "image.tar", reference, built, NODE_CONFIG)
        publish(scratch / "image.tar", archive)
    for stale in ARCHIVES.glob("*.tar"):
        if stale != archive:
            stale.unlink()
    return NodeImage(archive, reference)


def kind_base_files() -> Path:
    """images/base/files of the kind module at KIND_VERSION, from Go's module cache (fetched if needed)."""
    module = f"sigs.k8s.io/kind@{KIND_VERSION}"
    done = subprocess.run(
        ["go", "mod", "download", "-json", module], cwd=KIND.module_dir, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SetupError(f"`go mod download {module}` failed (the Go module proxy must be reachable once):\n"
                         f"{done.stdout}{done.stderr}")
    return Path(json.loads(done.stdout)["Dir"]) / "images" / "base" / "files"


def _preload(root: Path, archives: tuple[Path, ...], scratch: Path) -> None:
    """Import docker-archives (content only) into a containerd store at `root`."""
    scratch.mkdir(parents=True)
    socket = scratch / "containerd.sock"
    config = scratch / "config.toml"
    config.write_text(
        "version = 2\n"
        f'root = "{root}"\n'
        f'state = "{scratch / "state"}"\n'
        'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
        f'[grpc]\n  address = "{socket}"\n'
    )
    log = (scratch / "containerd.log").open("wb")
    daemon = subprocess.Popen(["containerd", "--config", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + IMPORT_TIMEOUT
        while not socket.exists():
            if daemon.poll() is not None or time.monotonic() > deadline:
                raise SetupError(f"a throwaway containerd did not start:\n{(scratch / 'containerd.log').read_text()}")
            time.sleep(0.1)
        ctr = ["ctr", f"--address={socket}", "--namespace=k8s.io"]
        for archive in archives:
            run([*ctr, "images", "import", "--no-unpack", str(archive)])
        listed = run([*ctr, "images", "list", "--quiet"]).split()
        missing = [name for name in _references(archives) if name not in listed]
        if missing:
            raise SetupError(f"preloading the node image left out {', '.join(missing)}")
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)
        log.close()


def _references(archives: tuple[Path, ...]) -> list[str]:
    """The tags inside docker-archives (their manifest.json)."""
    names = []
    for archive in archives:
        with tarfile.open(archive) as tar:
            manifest = tar.extractfile("manifest.json")
            if manifest is None:
                raise SetupError(f"{archive} is not a docker-archive (no manifest.json)")
            names += [tag for entry in json.load(manifest) for tag in entry["RepoTags"]]
    return names
