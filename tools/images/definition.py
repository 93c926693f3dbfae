"""What an image is made of: layer recipes (bottom first), a runtime config and a reference."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from apps.images import IMAGES
from tools.images.archive import ImageConfig


class LayerRecipe(Protocol):
    """How to make one layer, and what its cache key depends on."""

    def inputs(self) -> object:
        """Everything the layer depends on, as JSON-serialisable data (Paths hash by content)."""

    def write(self, dest: Path) -> None:
        """Write the layer tarball to `dest` (see archive.write_layer)."""


@dataclass(frozen=True)
class ImageDefinition:
    """One image: its name in apps.images.IMAGES, its layers and how a container starts."""

    name: str
    layers: tuple[LayerRecipe, ...]
    config: ImageConfig

    @property
    def reference(self) -> str:
        return IMAGES[self.name]
