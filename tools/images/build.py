"""Building images into docker-archive files, each step cached by the hash of its inputs.

A layer's key is its recipe's inputs plus the source of the module that makes it; an archive's
key is its reference, its layers' keys and its config. So `build` redoes exactly the layers
whose inputs changed (usually only the app layer), and is a no-op when nothing did.

    CACHE_ROOT/images/layers/<key>.tar          one per layer recipe, shared between images
    CACHE_ROOT/images/archives/<name>/<key>.tar the docker-archive (older ones are removed)

Layers that no current image uses stay until `prune`.
"""
from __future__ import annotations

import inspect
from collections.abc import Iterable
from pathlib import Path

from tools.errors import SetupError
from tools.images import archive
from tools.images.cache import IMAGES_CACHE, key_of, publish, scratch_dir
from tools.images.catalog import definitions
from tools.images.definition import ImageDefinition, LayerRecipe
from tools.progress import say, step

LAYERS = IMAGES_CACHE / "layers"
ARCHIVES = IMAGES_CACHE / "archives"


def build(names: Iterable[str] = ()) -> dict[str, Path]:
    """Build the named images (all when none are named); return each one's docker-archive."""
    known = definitions()
    wanted = list(names) or list(known)
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise SetupError(f"unknown image(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return {name: build_image(known[name]) for name in wanted}


def build_image(image: ImageDefinition) -> Path:
    """The image's docker-archive, from cache when its inputs are unchanged."""
    keys = [layer_key(recipe) for recipe in image.layers]
    dest = ARCHIVES / image.name / f"{key_of(image.reference, keys, image.config.to_json(), _source(archive))}.tar"
    if dest.exists():
        say(f"{image.reference}: up to date ({dest})")
        return dest
    layers = [cached_layer(recipe, key) for recipe, key in zip(image.layers, keys)]
    with step(f"writing {image.reference}"):
        archive.write_docker_archive(dest, image.reference, layers, image.config)
    for stale in dest.parent.glob("*.tar"):
        if stale != dest:
            stale.unlink()
    say(f"{image.reference}: {dest} ({dest.stat().st_size / 1e6:.0f} MB)")
    return dest


def layer_key(recipe: LayerRecipe) -> str:
    """What a layer depends on: its recipe's inputs and the code that makes it."""
    return key_of(type(recipe).__qualname__, recipe.inputs(), _source(type(recipe)), _source(archive))


def cached_layer(recipe: LayerRecipe, key: str) -> Path:
    dest = LAYERS / f"{key}.tar"
    if dest.exists():
        return dest
    with step(f"building layer {type(recipe).__name__} {key[:12]}"), scratch_dir("layer") as scratch:
        recipe.write(scratch / "layer.tar")
        return publish(scratch / "layer.tar", dest)


def prune() -> list[Path]:
    """Delete cached layers that none of the current images uses; return what was deleted.

    Not done by `build`: clones of other versions share the cache and may still need them.
    """
    wanted = {layer_key(recipe) for image in definitions().values() for recipe in image.layers}
    stale = [layer for layer in LAYERS.glob("*.tar") if layer.stem not in wanted]
    for layer in stale:
        layer.unlink()
    return stale


def _source(code: object) -> Path:
    return Path(inspect.getsourcefile(code))  # type: ignore[arg-type]
