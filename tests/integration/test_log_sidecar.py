"""The broker's `broker-log` sidecar command, run as PID 1 of a PID namespace of its own as in its
container: it streams the log file and stops at once on SIGTERM with exit code 0 (a bare `tail`
as PID 1 ignores SIGTERM, so the pod's graceful delete used to wait for the SIGKILL)."""
from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from components.activemq import log_tail_command
from tests.news_apps import wait_until

pytestmark = pytest.mark.integration


def test_log_tail_as_pid_1_streams_the_file_and_exits_0_on_sigterm(tmp_path: Path) -> None:
    log = tmp_path / "activemq.log"
    log.write_text("Apache ActiveMQ 5.18.3 started\n")
    # `unshare --fork` runs the command as PID 1 of a new PID namespace and exits with its code.
    process = subprocess.Popen(["unshare", "--pid", "--fork", "--kill-child", *log_tail_command(str(log))],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "Apache ActiveMQ 5.18.3 started\n"
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
        wait_until(lambda: children.read_text().split(), "unshare's child", 5)
        pid_1 = int(children.read_text().split()[0])
        os.kill(pid_1, signal.SIGTERM)
        assert process.wait(timeout=5) == 0
    finally:
        process.kill()
        process.wait()
