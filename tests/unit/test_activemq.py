"""tools.activemq.fetch against a local stand-in for Maven Central: verified, unpacked atomically,
and refused with a clear message when the checksum does not match or the version is not served."""
from __future__ import annotations

import hashlib
import io
import tarfile
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.news_apps import serving
from tools import activemq
from tools.errors import SetupError

VERSION = "5.99.0"


def publish_artifact(repository: Path, checksum: str | None = None) -> None:
    """A tiny apache-activemq-VERSION-bin.tar.gz and its .sha1 laid out as Maven Central does."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        script = f"#!/bin/sh\necho activemq {VERSION}\n".encode()
        entry = tarfile.TarInfo(f"apache-activemq-{VERSION}/bin/activemq")
        entry.size, entry.mode = len(script), 0o755
        tar.addfile(entry, io.BytesIO(script))
    folder = repository / activemq.ARTIFACT_PATH / VERSION
    folder.mkdir(parents=True)
    archive = folder / f"apache-activemq-{VERSION}-bin.tar.gz"
    archive.write_bytes(buffer.getvalue())
    (folder / f"{archive.name}.sha1").write_text(checksum or hashlib.sha1(buffer.getvalue()).hexdigest())


@pytest.fixture
def maven(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A repository directory served on 127.0.0.1, with the cache moved into tmp_path."""
    repository = tmp_path / "repository"
    repository.mkdir()

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(repository)))
    with serving(server) as url:
        monkeypatch.setattr(activemq, "MAVEN_CENTRAL", url)
        monkeypatch.setattr(activemq, "CACHE_ROOT", tmp_path / "cache")
        yield repository


def test_fetch_unpacks_a_verified_archive_into_the_cache(maven: Path, tmp_path: Path) -> None:
    publish_artifact(maven)

    home = activemq.fetch(VERSION)

    assert home == tmp_path / "cache" / "activemq" / VERSION / f"apache-activemq-{VERSION}"
    assert (home / "bin" / "activemq").read_text().startswith("#!/bin/sh")
    assert [p.name for p in (tmp_path / "cache" / "activemq").iterdir()] == [VERSION]


def test_a_cached_distribution_is_not_fetched_again(maven: Path) -> None:
    publish_artifact(maven)
    home = activemq.fetch(VERSION)
    (maven / activemq.ARTIFACT_PATH / VERSION / f"apache-activemq-{VERSION}-bin.tar.gz").unlink()

    assert activemq.fetch(VERSION) == home


def test_a_checksum_mismatch_is_refused_and_leaves_nothing_behind(maven: Path, tmp_path: Path) -> None:
    publish_artifact(maven, checksum="0" * 40)

    with pytest.raises(SetupError, match="does not match Maven Central's"):
        activemq.fetch(VERSION)
    assert list((tmp_path / "cache" / "activemq").iterdir()) == []


def test_a_version_maven_central_does_not_serve_names_the_constant_to_change(maven: Path) -> None:
    with pytest.raises(SetupError, match="ACTIVEMQ_VERSION"):
        activemq.fetch("5.0.404")


def test_the_broker_command_carries_no_login() -> None:
    command = activemq.java_command("/opt/activemq", "/opt/activemq/conf", "/opt/activemq/data")

    assert command[-3:] == ["-jar", "/opt/activemq/bin/activemq.jar", "start"]
    assert "-Dactivemq.conf=/opt/activemq/conf" in command
    assert not any("ACTIVEMQ_PASSWORD" in part or "password" in part.lower() for part in command)
