"""Container images as plain files: deterministic layer tarballs and docker-archive files.

No registry and no Docker daemon is needed: a layer is a tar of a directory, and a
docker-archive (what `docker save` writes) is a tar holding those layers, a config JSON and a
`manifest.json`. `ctr images import`, `docker load`, `kind load image-archive` and `skopeo`
all read it.

Both writers are deterministic: the same directory and config give the same bytes, so layer
digests (and image IDs) change only when content does. Owners are stored as numbers only (as
`tar --numeric-owner`), exactly as they are in the directory; modification times are fixed.

    from tools.images.archive import ImageConfig, write_docker_archive, write_layer

    write_layer(Path("rootfs"), Path("base.tar"))
    write_layer(Path("app-tree"), Path("app.tar"))
    write_docker_archive(
        Path("pause.tar"), "localhost/news-tracker/pause:3.10",
        [Path("base.tar"), Path("app.tar")],
        ImageConfig(entrypoint=("/pause",), user="65535:65535"),
    )
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import stat
import tarfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

FIXED_MTIME = 0
"""Every entry's modification time: 1970-01-01, the usual choice of reproducible builds."""

_CHUNK = 1 << 20
_ARCHITECTURES = {"x86_64": "amd64", "aarch64": "arm64"}


@dataclass(frozen=True)
class ImageConfig:
    """What a container runtime needs to start the image (the OCI image config's `config`).

    `user` is numeric ("10001:10001") so Kubernetes' runAsNonRoot can verify it without
    reading /etc/passwd. Ports are TCP port numbers.
    """

    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    workdir: str = "/"
    user: str = ""
    exposed_ports: tuple[int, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        """The `config` object of an OCI/Docker image config."""
        config: dict[str, object] = {
            "Env": [f"{name}={value}" for name, value in self.env.items()],
            "WorkingDir": self.workdir,
        }
        if self.entrypoint:
            config["Entrypoint"] = list(self.entrypoint)
        if self.cmd:
            config["Cmd"] = list(self.cmd)
        if self.user:
            config["User"] = self.user
        if self.exposed_ports:
            config["ExposedPorts"] = {f"{port}/tcp": {} for port in sorted(self.exposed_ports)}
        if self.labels:
            config["Labels"] = dict(sorted(self.labels.items()))
        return config


def write_layer(source: Path, dest: Path) -> str:
    """Tar the tree under `source` into `dest` (uncompressed) and return its diff_id.

    Entries are sorted, owners numeric and taken from the tree, times fixed; hard links stay
    hard links, sockets are skipped, extended attributes (file capabilities) are not kept.
    `dest` appears atomically.
    """
    with _atomic(dest) as partial:
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
            for path in _walk_sorted(source):
                info = tar.gettarinfo(str(path), arcname=path.relative_to(source).as_posix())
                if info is None:  # a socket: not part of an image
                    continue
                _normalise(info)
                if info.isreg():
                    with path.open("rb") as content:
                        tar.addfile(info, content)
                else:
                    tar.addfile(info)
    return sha256_digest(dest)


def write_docker_archive(
    dest: Path,
    reference: str,
    layers: Sequence[Path],
    config: ImageConfig,
    architecture: str | None = None,
) -> str:
    """Write a docker-archive of `layers` (bottom first) tagged `reference`; return the image ID.

    `reference` is a full name with a tag, e.g. "localhost/news-tracker/news-api:0.1.0".
    `architecture` defaults to the machine's. `dest` appears atomically.
    """
    if ":" not in reference.rsplit("/", 1)[-1]:
        raise ValueError(f"image reference {reference!r} has no tag (expected NAME:TAG)")
    diff_ids = [sha256_digest(layer) for layer in layers]
    image_config = {
        "architecture": architecture or _ARCHITECTURES.get(platform.machine(), platform.machine()),
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": config.to_json(),
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }
    config_bytes = _canonical_json(image_config)
    image_id = "sha256:" + hashlib.sha256(config_bytes).hexdigest()
    config_name = f"{_hex(image_id)}.json"
    layer_names = [f"{_hex(diff_id)}/layer.tar" for diff_id in diff_ids]
    manifest = [{"Config": config_name, "RepoTags": [reference], "Layers": layer_names}]

    with _atomic(dest) as partial, tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
        stored: set[str] = set()
        for name, layer in zip(layer_names, layers):
            if name in stored:  # the same layer twice in one image is stored once
                continue
            stored.add(name)
            _add_directory(tar, name.split("/")[0])
            info = _new_info(name, layer.stat().st_size)
            with layer.open("rb") as content:
                tar.addfile(info, content)
        _add_bytes(tar, config_name, config_bytes)
        _add_bytes(tar, "manifest.json", _canonical_json(manifest))
    return image_id


def sha256_digest(path: Path) -> str:
    """The "sha256:<hex>" digest of a file's bytes (a layer's diff_id when the file is a layer)."""
    digest = hashlib.sha256()
    with path.open("rb") as content:
        while chunk := content.read(_CHUNK):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


def _walk_sorted(root: Path) -> Iterator[Path]:
    """Every path below `root` (not `root` itself), parents first, siblings by name."""
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        path = Path(entry.path)
        yield path
        if entry.is_dir(follow_symlinks=False):
            yield from _walk_sorted(path)


def _normalise(info: tarfile.TarInfo) -> None:
    """Keep what the image needs (type, mode, numeric owner); drop what varies between builds."""
    info.mtime = FIXED_MTIME
    info.uname = info.gname = ""
    info.mode = stat.S_IMODE(info.mode)


def _new_info(name: str, size: int = 0, kind: bytes = tarfile.REGTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = size
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    info.mtime = FIXED_MTIME
    return info


def _add_directory(tar: tarfile.TarFile, name: str) -> None:
    tar.addfile(_new_info(name, kind=tarfile.DIRTYPE))


def _add_bytes(tar: tarfile.TarFile, name: str, content: bytes) -> None:
    tar.addfile(_new_info(name, len(content)), io.BytesIO(content))


def _canonical_json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def _hex(digest: str) -> str:
    return digest.split(":", 1)[1]


@contextmanager
def _atomic(dest: Path) -> Iterator[Path]:
    """Yield a temporary path beside `dest`; rename it onto `dest` only if the block succeeds."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f".{dest.name}.{os.getpid()}.partial")
    try:
        yield partial
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, dest)
