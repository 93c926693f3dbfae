"""./setup.sh's package step leaves a running containerd it did not install running.

A real containerd of the test's own runs on its own socket, as a machine's container runtime
would (Docker's containerd.io, say). This machine has no service manager, so a stand-in
`systemctl` on PATH reports containerd active and stops that very process if asked to stop or
disable it, as systemd would; a stand-in `apt-get` records what would be installed (tests reach
no package mirror). The step must ask for neither a stop nor a reinstall of the runtime.

Needs root and containerd/ctr (apt-get install containerd)."""
from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.containerd import Containerd
from tests.unit.fake_tools import fake_executable
from tools.paths import REPO

pytestmark = pytest.mark.integration


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Containerd]:
    (tmp_path / "containerd").mkdir()
    running = Containerd(tmp_path / "containerd")
    try:
        yield running
    finally:
        running.stop()


def test_package_step_leaves_a_running_containerd_it_did_not_install_running(
        runtime: Containerd, tmp_path: Path) -> None:
    calls = tmp_path / "calls.log"
    calls.touch()
    fakes = tmp_path / "bin"
    fake_executable(fakes, "systemctl", f"""\
echo "systemctl $*" >> {calls}
case "$*" in
  *stop*containerd*|*disable*containerd*) kill {runtime.pid} ;;
  *is-active*containerd*) exit 0 ;;
esac
""")
    fake_executable(fakes, "apt-get", f'echo "apt-get $*" >> {calls}\n')

    step = subprocess.run(["bash", "-c", "source ./setup.sh && install_packages"], cwd=REPO,
                          env={**os.environ, "PATH": f"{fakes}:{os.environ['PATH']}"},
                          capture_output=True, text=True, timeout=120)

    assert step.returncode == 0, step.stderr
    assert runtime.answers(), f"the machine's containerd was stopped; calls:\n{calls.read_text()}"
    assert not [line for line in calls.read_text().splitlines()
                if line.startswith("apt-get install") and ("containerd" in line or "runc" in line)]
