"""Reading the file backend directly: a stack's existence, its outputs and its last update, and
None (ask the CLI) whenever the files cannot be read with certainty."""
from __future__ import annotations

import json
from pathlib import Path

from tools import file_backend


def write(path: Path, value: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))
    return path


def checkpoint(outputs: dict[str, object]) -> dict[str, object]:
    stack = {"urn": "urn:pulumi:dev::news-tracker::pulumi:pulumi:Stack::news-tracker-dev",
             "type": "pulumi:pulumi:Stack", "outputs": outputs}
    pod = {"urn": "urn:...::kubernetes:core/v1:Pod::api", "type": "kubernetes:core/v1:Pod", "outputs": {}}
    return {"version": 3, "checkpoint": {"stack": "dev", "latest": {"resources": [stack, pod]}}}


def test_a_stack_exists_when_its_checkpoint_does(tmp_path: Path) -> None:
    assert file_backend.checkpoint("dev", tmp_path) is None
    write(tmp_path / ".pulumi/stacks/news-tracker/dev.json.bak", {})
    assert file_backend.checkpoint("dev", tmp_path) is None
    path = write(tmp_path / ".pulumi/stacks/news-tracker/dev.json", checkpoint({}))
    assert file_backend.checkpoint("dev", tmp_path) == path


def test_outputs_are_the_root_stack_resources_and_none_when_one_is_secret(tmp_path: Path) -> None:
    path = tmp_path / ".pulumi/stacks/news-tracker/dev.json"
    write(path, checkpoint({"namespace": "develop", "pods": {"api": {"name": "newsapi-pod"}}}))
    assert file_backend.stack_outputs("dev", tmp_path) == {"namespace": "develop",
                                                           "pods": {"api": {"name": "newsapi-pod"}}}
    write(path, checkpoint({"token": {file_backend.SECRET_SIGNATURE: "1b47061264138c4ac30d75fd1eb44270",
                                      "ciphertext": "v1:abc"}}))
    assert file_backend.stack_outputs("dev", tmp_path) is None
    write(path, {"version": 3, "checkpoint": {"stack": "dev", "latest": None}})
    assert file_backend.stack_outputs("dev", tmp_path) == {}


def test_a_gzipped_checkpoint_is_left_to_the_cli(tmp_path: Path) -> None:
    (tmp_path / ".pulumi/stacks/news-tracker").mkdir(parents=True)
    (tmp_path / ".pulumi/stacks/news-tracker/dev.json.gz").write_bytes(b"\x1f\x8b")
    assert file_backend.stack_outputs("dev", tmp_path) is None


def test_last_update_is_the_newest_record_of_that_stack(tmp_path: Path) -> None:
    history = tmp_path / ".pulumi/history/news-tracker/dev"
    write(history / "dev-1795870915464999719.history.json", {"kind": "update", "resourceChanges": {"create": 8}})
    write(history / "dev-1795870969613149085.history.json", {"kind": "update", "resourceChanges": {"same": 8}})
    write(history / "dev-1795870969613149085.checkpoint.json", {})
    write(tmp_path / ".pulumi/history/news-tracker/dev-2/dev-2-1895870969613149085.history.json", {"kind": "destroy"})
    assert file_backend.last_update("dev", tmp_path) == {"kind": "update", "resourceChanges": {"same": 8}}
    assert file_backend.last_update("ci", tmp_path) is None


def test_attribute_files_left_empty_or_cut_short_are_found_and_whole_ones_kept(tmp_path: Path) -> None:
    stacks = tmp_path / ".pulumi" / "stacks" / "news-tracker"
    stacks.mkdir(parents=True)
    (stacks / "ci.json").write_text("{}")
    (stacks / "ci.json.attrs").write_text("")  # an engine SIGKILLed while saving (seen in CI)
    (stacks / "ci.json.bak.attrs").write_text(json.dumps({"user.cache_control": "", "user.md5": "x"}))
    (stacks / "dev.json.attrs").write_text('{"user.md5": "ab')
    assert file_backend.torn_attributes(tmp_path) == [stacks / "ci.json.attrs", stacks / "dev.json.attrs"]
