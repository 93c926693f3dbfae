"""The layer and docker-archive writers: format that runtimes import, and byte-for-byte determinism."""
from __future__ import annotations

import hashlib
import json
import os
import tarfile
from pathlib import Path

import pytest

from tools.images.archive import FIXED_MTIME, ImageConfig, sha256_digest, write_docker_archive, write_layer

REFERENCE = "localhost/news-tracker/demo:1.0"


def make_tree(root: Path) -> Path:
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "tool").write_text("#!/bin/sh\necho hi\n")
    (root / "bin" / "tool").chmod(0o755)
    (root / "bin" / "alias").symlink_to("tool")
    os.link(root / "bin" / "tool", root / "bin" / "hardlink")
    (root / "data").mkdir()
    (root / "data" / "owned").write_text("x")
    return root


def test_layer_is_identical_for_identical_content_whatever_the_times(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "tree")
    first = write_layer(tree, tmp_path / "first.tar")
    os.utime(tree / "bin" / "tool", (1_700_000_000, 1_700_000_000))
    second = write_layer(tree, tmp_path / "second.tar")
    assert first == second
    assert (tmp_path / "first.tar").read_bytes() == (tmp_path / "second.tar").read_bytes()


def test_layer_changes_when_content_changes(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "tree")
    before = write_layer(tree, tmp_path / "before.tar")
    (tree / "data" / "owned").write_text("y")
    assert write_layer(tree, tmp_path / "after.tar") != before


def test_layer_entries_are_sorted_numeric_and_timeless(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "tree")
    write_layer(tree, tmp_path / "layer.tar")
    with tarfile.open(tmp_path / "layer.tar") as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == [
        "bin", "bin/alias", "bin/hardlink", "bin/tool", "data", "data/owned",
    ]
    assert all(m.mtime == FIXED_MTIME and m.uname == "" and m.gname == "" for m in members)
    by_name = {m.name: m for m in members}
    assert by_name["bin/alias"].issym() and by_name["bin/alias"].linkname == "tool"
    assert by_name["bin/tool"].islnk() and by_name["bin/tool"].linkname == "bin/hardlink"
    assert by_name["bin/hardlink"].mode == 0o755


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_layer_keeps_owners_as_numbers(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "tree")
    os.chown(tree / "data" / "owned", 10001, 10002)
    write_layer(tree, tmp_path / "layer.tar")
    with tarfile.open(tmp_path / "layer.tar") as tar:
        owned = tar.getmember("data/owned")
        tool = tar.getmember("bin/hardlink")
    assert (owned.uid, owned.gid) == (10001, 10002)
    assert (tool.uid, tool.gid) == (0, 0)


def build_archive(tmp_path: Path, name: str) -> tuple[Path, str, list[Path]]:
    tree = make_tree(tmp_path / "tree")
    app = tmp_path / "app"
    (app / "app").mkdir(parents=True, exist_ok=True)
    (app / "app" / "main.py").write_text("print('hello')\n")
    layers = [tmp_path / "base.tar", tmp_path / "app.tar"]
    write_layer(tree, layers[0])
    write_layer(app, layers[1])
    config = ImageConfig(
        entrypoint=("/usr/bin/python3",), cmd=("/app/main.py",), env={"A": "1"},
        workdir="/app", user="10001:10001", exposed_ports=(8080,), labels={"k": "v"},
    )
    dest = tmp_path / name
    return dest, write_docker_archive(dest, REFERENCE, layers, config), layers


def test_docker_archive_manifest_config_and_layers_agree(tmp_path: Path) -> None:
    dest, image_id, layers = build_archive(tmp_path, "image.tar")
    with tarfile.open(dest) as archive:
        manifest = json.loads(archive.extractfile("manifest.json").read())
        assert len(manifest) == 1 and manifest[0]["RepoTags"] == [REFERENCE]
        config_bytes = archive.extractfile(manifest[0]["Config"]).read()
        stored_layers = [archive.extractfile(name).read() for name in manifest[0]["Layers"]]

    assert image_id == "sha256:" + hashlib.sha256(config_bytes).hexdigest()
    assert manifest[0]["Config"] == image_id.split(":")[1] + ".json"
    config = json.loads(config_bytes)
    diff_ids = ["sha256:" + hashlib.sha256(layer).hexdigest() for layer in stored_layers]
    assert config["rootfs"] == {"type": "layers", "diff_ids": diff_ids}
    assert diff_ids == [sha256_digest(layer) for layer in layers]
    assert [name.split("/")[0] for name in manifest[0]["Layers"]] == [d.split(":")[1] for d in diff_ids]
    assert config["config"] == {
        "Entrypoint": ["/usr/bin/python3"], "Cmd": ["/app/main.py"], "Env": ["A=1"],
        "WorkingDir": "/app", "User": "10001:10001", "ExposedPorts": {"8080/tcp": {}},
        "Labels": {"k": "v"},
    }


def test_docker_archive_is_byte_identical_when_rebuilt(tmp_path: Path) -> None:
    first, first_id, _ = build_archive(tmp_path / "one", "image.tar")
    second, second_id, _ = build_archive(tmp_path / "two", "image.tar")
    assert first_id == second_id
    assert first.read_bytes() == second.read_bytes()


def test_docker_archive_stores_a_repeated_layer_once(tmp_path: Path) -> None:
    layer = tmp_path / "layer.tar"
    write_layer(make_tree(tmp_path / "tree"), layer)
    dest = tmp_path / "image.tar"
    write_docker_archive(dest, REFERENCE, [layer, layer], ImageConfig())
    with tarfile.open(dest) as archive:
        names = archive.getnames()
        manifest = json.loads(archive.extractfile("manifest.json").read())
    assert len(manifest[0]["Layers"]) == 2
    assert names.count(manifest[0]["Layers"][0]) == 1


def test_reference_without_tag_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no tag"):
        write_docker_archive(tmp_path / "x.tar", "localhost:5000/news-tracker/demo", [], ImageConfig())
    assert not (tmp_path / "x.tar").exists()
