"""The images the local cluster itself needs, built from local files (no registry is reachable).

- pause: the static pause binary; containerd's sandbox image.
- coredns: the static CoreDNS binary; its Corefile comes from a ConfigMap.
- busybox: Debian's busybox-static with an applet link per command (sh, httpd, wget, nslookup):
  the PV recycler's image, and a small image for tests.

Archives are written with tools.images.archive and cached under CACHE_ROOT/cluster-images,
keyed by the binaries' content.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tools.cluster.local.builds import COREDNS_VERSION, PAUSE_VERSION, Binaries
from tools.images.archive import (
    ImageConfig,
    sha256_digest,
    write_docker_archive,
    write_layer,
)
from tools.paths import CACHE_ROOT

BUSYBOX = Path("/bin/busybox")
IMAGES_DIR = CACHE_ROOT / "cluster-images"
PAUSE_IMAGE = f"localhost/news-tracker/pause:{PAUSE_VERSION}"
COREDNS_IMAGE = f"localhost/news-tracker/coredns:{COREDNS_VERSION.removeprefix('v')}"
BUSYBOX_IMAGE = "localhost/news-tracker/busybox:1.35"
NOBODY = "65534:65534"


@dataclass(frozen=True)
class ClusterImages:
    """docker-archive files of the cluster's own images."""

    pause: Path
    coredns: Path
    busybox: Path

    def all(self) -> tuple[Path, ...]:
        return (self.pause, self.coredns, self.busybox)


def ensure_images(binaries: Binaries) -> ClusterImages:
    """Write the archives that are not cached yet; return all three."""
    return ClusterImages(
        pause=_single_binary_image(
            PAUSE_IMAGE, binaries.pause, "/pause", ImageConfig(entrypoint=("/pause",), user=NOBODY)
        ),
        coredns=_single_binary_image(
            COREDNS_IMAGE,
            binaries.coredns,
            "/coredns",
            ImageConfig(entrypoint=("/coredns",), user=NOBODY, exposed_ports=(1053,)),
        ),
        busybox=_busybox_image(),
    )


def _single_binary_image(reference: str, binary: Path, target: str, config: ImageConfig) -> Path:
    def fill(rootfs: Path) -> None:
        shutil.copy2(binary, rootfs / target.lstrip("/"))

    return _cached_image(reference, sha256_digest(binary), fill, config)


def _busybox_image() -> Path:
    def fill(rootfs: Path) -> None:
        for directory in ("bin", "tmp", "www", "etc"):  # www: httpd's document root in tests
            (rootfs / directory).mkdir()
        (rootfs / "tmp").chmod(0o1777)
        shutil.copy2(BUSYBOX, rootfs / "bin" / "busybox")
        applets = subprocess.run(
            [str(BUSYBOX), "--list"], capture_output=True, text=True, check=True
        ).stdout.split()
        for applet in applets:
            if applet != "busybox":
                (rootfs / "bin" / applet).symlink_to("busybox")
        (rootfs / "etc" / "passwd").write_text(
            "root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n"
        )
        (rootfs / "etc" / "group").write_text("root:x:0:\nnobody:x:65534:\n")

    config = ImageConfig(cmd=("sh",), env={"PATH": "/bin"})
    return _cached_image(BUSYBOX_IMAGE, sha256_digest(BUSYBOX), fill, config)


def _cached_image(
    reference: str, content_key: str, fill: Callable[[Path], None], config: ImageConfig
) -> Path:
    """The archive of `reference`, written by `fill`ing a rootfs unless the same inputs made it."""
    name = reference.rsplit("/", 1)[-1].replace(":", "-")
    inputs = json.dumps([reference, content_key, config.to_json()], sort_keys=True).encode()
    archive = IMAGES_DIR / f"{name}-{hashlib.sha256(inputs).hexdigest()[:16]}.tar"
    if archive.is_file():
        return archive
    with tempfile.TemporaryDirectory(prefix=f"{name}-") as scratch:
        rootfs = Path(scratch) / "rootfs"
        rootfs.mkdir()
        fill(rootfs)
        layer = Path(scratch) / "layer.tar"
        write_layer(rootfs, layer)
        write_docker_archive(archive, reference, [layer], config)
    return archive
