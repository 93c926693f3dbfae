"""The image builder's cache: a layer or archive is rebuilt exactly when one of its inputs changes."""
from __future__ import annotations

import json
import os
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tools.errors import SetupError
from tools.images import build, cache
from tools.images.archive import ImageConfig, write_layer
from tools.images.cache import key_of, tree_digest
from tools.images.definition import ImageDefinition


@dataclass(frozen=True)
class CountingRecipe:
    """A layer of one file whose content is `text`; counts how often it is written."""
    text: str
    writes: list[str] = field(default_factory=list, compare=False)

    def inputs(self) -> object:
        return {"text": self.text}

    def write(self, dest: Path) -> None:
        self.writes.append(self.text)
        tree = dest.parent / "tree"
        tree.mkdir()
        (tree / "file").write_text(self.text)
        write_layer(tree, dest)


@pytest.fixture(autouse=True)
def cache_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setattr(cache, "IMAGES_CACHE", root)
    monkeypatch.setattr(build, "LAYERS", root / "layers")
    monkeypatch.setattr(build, "ARCHIVES", root / "archives")
    return root


def image(*layers: CountingRecipe, user: str = "10001:10001") -> ImageDefinition:
    return ImageDefinition("news-job", layers, ImageConfig(user=user))


def test_second_build_reuses_the_archive_and_writes_no_layer() -> None:
    base, app = CountingRecipe("base"), CountingRecipe("app")
    first = build.build_image(image(base, app))
    second = build.build_image(image(base, app))
    assert first == second
    assert (base.writes, app.writes) == (["base"], ["app"])


def test_changed_layer_input_rebuilds_that_layer_only(cache_in_tmp: Path) -> None:
    base = CountingRecipe("base")
    first = build.build_image(image(base, CountingRecipe("app v1")))
    changed_app = CountingRecipe("app v2")
    second = build.build_image(image(base, changed_app))
    assert second != first
    assert base.writes == ["base"] and changed_app.writes == ["app v2"]
    assert not first.exists(), "the archive the new one replaces is removed"
    with tarfile.open(second) as archive:
        manifest = json.loads(archive.extractfile("manifest.json").read())
        top = archive.extractfile(manifest[0]["Layers"][-1])
        with tarfile.open(fileobj=top) as layer:
            assert layer.extractfile("file").read() == b"app v2"


def test_changed_config_rewrites_the_archive_but_no_layer() -> None:
    base = CountingRecipe("base")
    first = build.build_image(image(base))
    second = build.build_image(image(base, user="10002:10002"))
    assert second != first and base.writes == ["base"]


def test_identical_recipes_share_one_cached_layer(cache_in_tmp: Path) -> None:
    build.build_image(image(CountingRecipe("shared"), CountingRecipe("one")))
    again = CountingRecipe("shared")
    build.build_image(ImageDefinition("news-api", (again, CountingRecipe("two")), ImageConfig()))
    assert again.writes == []
    assert len(list((cache_in_tmp / "layers").glob("*.tar"))) == 3


def test_unknown_image_name_is_a_setup_error() -> None:
    with pytest.raises(SetupError, match="unknown image"):
        build.build(["no-such-image"])


def test_key_depends_on_file_content_not_on_times(tmp_path: Path) -> None:
    source = tmp_path / "app.py"
    source.write_text("print(1)\n")
    key = key_of("x", source)
    os.utime(source, (1, 1))
    assert key_of("x", source) == key
    source.write_text("print(2)\n")
    assert key_of("x", source) != key


def test_tree_digest_sees_modes_and_names_but_not_bytecode(tmp_path: Path) -> None:
    tree = tmp_path / "pkg"
    tree.mkdir()
    (tree / "mod.py").write_text("x = 1\n")
    digest = tree_digest(tree)
    (tree / "__pycache__").mkdir()
    (tree / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"\0")
    assert tree_digest(tree) == digest
    (tree / "mod.py").chmod(0o755)
    assert tree_digest(tree) != digest
    (tree / "mod.py").chmod(0o644)
    (tree / "mod.py").rename(tree / "other.py")
    assert tree_digest(tree) != digest


def test_missing_input_is_a_setup_error(tmp_path: Path) -> None:
    with pytest.raises(SetupError, match="does not exist"):
        key_of(tmp_path / "missing")


def test_prune_deletes_only_layers_no_current_image_uses(
        cache_in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    current = image(CountingRecipe("base"), CountingRecipe("app v2"))
    build.build_image(image(CountingRecipe("base"), CountingRecipe("app v1")))
    build.build_image(current)
    monkeypatch.setattr(build, "definitions", lambda: {"news-job": current})
    removed = build.prune()
    assert [path.stem for path in removed] == [build.layer_key(CountingRecipe("app v1"))]
    assert sorted(path.stem for path in (cache_in_tmp / "layers").glob("*.tar")) == sorted(
        build.layer_key(recipe) for recipe in current.layers)
