"""Which image archives were loaded into the local cluster, so a restart can put back lost ones.

Pods here run images that no registry serves: if containerd ever comes back without one (its
content store was lost, or an image was removed by hand), the pods would sit in
ErrImageNeverPull. `load_images` remembers each archive under the image reference it holds;
`up` asks containerd which references it has and imports the remembered archives of the others.
The record lives in the cluster's state directory, so `cluster.down` forgets it with the images.
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from tools.cluster.local.layout import Layout
from tools.errors import SetupError


def references_in(archive: Path) -> list[str]:
    """The image references (RepoTags) a docker-archive carries, from its manifest.json."""
    try:
        with tarfile.open(archive) as tar:
            member = tar.extractfile("manifest.json")
            if member is None:
                raise KeyError("manifest.json")
            manifest = json.loads(member.read())
    except (OSError, KeyError, tarfile.TarError, ValueError) as error:
        raise SetupError(f"{archive} is not a docker-archive with a manifest.json ({error})") from None
    return [tag for entry in manifest for tag in entry.get("RepoTags") or []]


def remember(state: Layout, archives: Sequence[Path]) -> None:
    """Record each archive under the references it holds (a newer archive replaces an older one)."""
    record = _read(state)
    for archive in archives:
        for reference in references_in(archive):
            record[reference] = str(archive)
    state.loaded_images.parent.mkdir(parents=True, exist_ok=True)
    state.loaded_images.write_text(json.dumps(record, indent=2, sort_keys=True))


def lost(state: Layout, present: Iterable[str]) -> dict[str, Path]:
    """Remembered references that containerd no longer has -> the archive to import again."""
    have = set(present)
    return {reference: Path(archive) for reference, archive in _read(state).items() if reference not in have}


def _read(state: Layout) -> dict[str, str]:
    if not state.loaded_images.is_file():
        return {}
    record: dict[str, str] = json.loads(state.loaded_images.read_text())
    return record
