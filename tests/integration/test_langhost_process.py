"""The language host as the Pulumi CLI runs it: the installed launcher started in its own process
group, its port on the first stdout line, GetPluginInfo answered over gRPC, and the CLI's way of
stopping it (SIGINT to the group) ending it quietly; a host whose CLI died stops by itself."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import language_pb2_grpc

from tools.langhost import HOST_VERSION, install
from tools.paths import REPO

pytestmark = pytest.mark.integration


def start_host(home: Path, *argv: str) -> tuple[subprocess.Popen[str], int]:
    launcher = install(home, path="")
    host = subprocess.Popen([str(launcher), *argv], cwd=REPO, text=True, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PULUMI_HOME": str(home)})
    assert host.stdout is not None
    return host, int(host.stdout.readline())


def test_the_host_prints_its_port_answers_and_stops_quietly_on_sigint(tmp_path: Path) -> None:
    host, port = start_host(tmp_path / "home", "--logtostderr=false", "-v=9", "--tracing", "http://127.0.0.1:1", "127.0.0.1:1")
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            info = language_pb2_grpc.LanguageRuntimeStub(channel).GetPluginInfo(empty_pb2.Empty(), timeout=10)
        assert info.version == HOST_VERSION
        os.killpg(host.pid, signal.SIGINT)
        stdout, stderr = host.communicate(timeout=10)
    finally:
        if host.poll() is None:
            os.killpg(host.pid, signal.SIGKILL)
    assert (host.returncode, stdout, stderr) == (0, "", "")
    log = (tmp_path / "home" / "logs" / "pulumi-language-python.log").read_text()
    assert f"serving on 127.0.0.1:{port}" in log
    assert log.rstrip().endswith("langhost INFO stopped"), log  # the server was shut down, not cut off


def test_a_host_whose_cli_is_gone_stops_by_itself(tmp_path: Path) -> None:
    launcher = install(tmp_path / "home", path="")
    # A stand-in for the CLI: starts the host, reads its port, prints its pid, and exits.
    cli = subprocess.run(
        [sys.executable, "-c", "import subprocess, sys; "
         "h = subprocess.Popen([sys.argv[1], '127.0.0.1:1'], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL); "
         "h.stdout.readline(); print(h.pid)",
         str(launcher)], env={**os.environ, "PULUMI_HOME": str(tmp_path / "home")},
        capture_output=True, text=True, check=True, timeout=30)
    orphan = int(cli.stdout)
    deadline = time.monotonic() + 20
    while Path(f"/proc/{orphan}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    alive = Path(f"/proc/{orphan}").exists() and "Z" not in Path(f"/proc/{orphan}/stat").read_text().split()[2]
    if alive:
        os.kill(orphan, signal.SIGKILL)
    assert not alive, "the host outlived the CLI that started it"
