"""tools.gobuild: cache hits, atomic publishing, and the errors a user gets. No network."""
from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from tools import gobuild
from tools.errors import SetupError
from tools.gobuild import GoBuild

HELLO = """package main

import "fmt"

var greeting = "unset"

func main() { fmt.Println(greeting) }
"""


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    builds = tmp_path / "cache"
    monkeypatch.setattr(gobuild, "BUILDS_DIR", builds)
    return builds


def hello_module(root: Path, requires: str = "") -> Path:
    root.mkdir()
    (root / "go.mod").write_text(f"module example.test/hello\n\ngo 1.24\n{requires}")
    (root / "go.sum").write_text("")
    (root / "main.go").write_text(HELLO)
    return root


def hello_build(module_dir: Path) -> GoBuild:
    return GoBuild(
        name="hello",
        version="1.0.0",
        module_dir=module_dir,
        binaries={"hello": "."},
        ldflags="-X main.greeting=hi",
        env={"CGO_ENABLED": "0", "GOFLAGS": "-mod=mod", "GOPROXY": "off"},
    )


def test_second_ensure_is_a_cache_hit_and_runs_no_go_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build = hello_build(hello_module(tmp_path / "hello"))
    bin_dir = gobuild.ensure(build)
    assert subprocess.run([bin_dir / "hello"], check=True, capture_output=True, text=True).stdout == "hi\n"

    def no_build(*_: object) -> None:
        raise AssertionError("go build ran on a cache hit")

    monkeypatch.setattr(gobuild, "_go_build", no_build)
    assert gobuild.ensure(build) == bin_dir
    assert gobuild.lookup(build) == bin_dir


def test_lookup_never_builds(tmp_path: Path, isolated_cache: Path) -> None:
    assert gobuild.lookup(hello_build(hello_module(tmp_path / "hello"))) is None
    assert not isolated_cache.exists()


def test_changed_flags_get_their_own_cache_entry(tmp_path: Path) -> None:
    module = hello_module(tmp_path / "hello")
    assert gobuild.cache_key(hello_build(module)) != gobuild.cache_key(replace(hello_build(module), ldflags="-X main.greeting=yo"))


def write_stand_in_binary(_build: GoBuild, _source_dir: Path, _package: str, output: Path) -> None:
    """Replaces go build where a test is about the cache, not about Go."""
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("stand-in")


def test_interrupted_build_leaves_no_cache_dir(tmp_path: Path, isolated_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build = replace(hello_build(hello_module(tmp_path / "hello")), binaries={"first": ".", "second": "."})

    def interrupted_after_first(build: GoBuild, source_dir: Path, package: str, output: Path) -> None:
        if output.name == "second":
            raise KeyboardInterrupt
        write_stand_in_binary(build, source_dir, package, output)

    monkeypatch.setattr(gobuild, "_go_build", interrupted_after_first)
    with pytest.raises(KeyboardInterrupt):
        gobuild.ensure(build)
    assert list(isolated_cache.iterdir()) == []
    assert gobuild.lookup(build) is None


def test_temp_dir_of_a_dead_build_process_is_removed(tmp_path: Path, isolated_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gobuild, "_go_build", write_stand_in_binary)
    build = hello_build(hello_module(tmp_path / "hello"))
    final = gobuild._build_dir(build)
    abandoned = isolated_cache / f"{final.name}{gobuild.TEMP_MARK}999999999-x"
    (abandoned / "bin").mkdir(parents=True)
    gobuild.ensure(build)
    assert sorted(isolated_cache.iterdir()) == [final]


def test_missing_go_says_how_to_install_it(tmp_path: Path) -> None:
    empty_path = tmp_path / "no-go"
    empty_path.mkdir()
    build = replace(hello_build(hello_module(tmp_path / "hello")), env={"PATH": str(empty_path)})
    assert gobuild.lookup(build) is None
    with pytest.raises(SetupError, match="`go` was not found on PATH.*Install Go 1.21 or newer"):
        gobuild.ensure(build)


def test_unreachable_module_proxy_is_a_setup_error(tmp_path: Path) -> None:
    module = hello_module(tmp_path / "hello", requires="\nrequire example.invalid/missing v1.0.0\n")
    (module / "main.go").write_text(HELLO.replace('import "fmt"', 'import (\n\t"fmt"\n\t_ "example.invalid/missing"\n)'))
    with pytest.raises(SetupError, match="could not download module sources"):
        gobuild.ensure(hello_build(module))
