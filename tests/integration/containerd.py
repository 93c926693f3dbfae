"""A throwaway containerd for running images without a cluster: its own root, state and socket
under a temporary directory, started and stopped by PID, its containers removed before it stops."""
from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from tests.news_apps import wait_until
from tools.images.mounts import unmount_below

CONFIG = """\
version = 2
root = "{dir}/root"
state = "{dir}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "{dir}/containerd.sock"
[ttrpc]
  address = "{dir}/containerd.sock.ttrpc"
"""
#: Bounds `ctr run --rm` of a short command and the wait for containerd's socket.
COMMAND_SECONDS = 120.0


class Containerd:
    """One containerd process and the `ctr` commands the tests need."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        (directory / "config.toml").write_text(CONFIG.format(dir=directory))
        self._log = (directory / "containerd.log").open("w")
        self._process = subprocess.Popen(["containerd", "--config", str(directory / "config.toml")],
                                         stdout=self._log, stderr=subprocess.STDOUT)
        wait_until(lambda: self._ctr("version").returncode == 0, "containerd to answer")

    @property
    def pid(self) -> int:
        return self._process.pid

    def answers(self) -> bool:
        """Whether this containerd is alive and serving its socket."""
        return self._process.poll() is None and self._ctr("version").returncode == 0

    def import_archive(self, archive: Path) -> None:
        self._check("images", "import", str(archive))

    def run(self, image: str, name: str, *command: str, env: dict[str, str] | None = None,
            netns_of: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run a container to completion (`ctr run --rm`); its output and exit code."""
        return self._ctr("run", "--rm", *self._options(env, netns_of), image, name, *command,
                         timeout=COMMAND_SECONDS)

    def start(self, image: str, name: str, *, env: dict[str, str] | None = None,
              netns_of: str | None = None) -> None:
        """Start a container in the background, with its own network namespace or another's."""
        self._check("run", "-d", *self._options(env, netns_of), image, name)

    def exec(self, name: str, *command: str) -> subprocess.CompletedProcess[str]:
        """Run a command in a running container, as its user."""
        return self._ctr("task", "exec", "--exec-id", f"exec-{time.monotonic_ns()}", name, *command,
                         timeout=COMMAND_SECONDS)

    def stop(self) -> None:
        """Remove every container, stop containerd by PID, unmount and delete its directory."""
        for name in self._ctr("containers", "list", "--quiet").stdout.split():
            self._ctr("task", "kill", "--signal", "SIGKILL", name)
            self._ctr("task", "delete", "--force", name)
            self._ctr("containers", "delete", name)
        self._process.terminate()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._log.close()
        unmount_below(self.directory)
        shutil.rmtree(self.directory)

    def _pid(self, name: str) -> str:
        for line in self._ctr("task", "list").stdout.splitlines()[1:]:
            task, pid, *_ = line.split()
            if task == name:
                return pid
        raise AssertionError(f"no running task {name}")

    def _options(self, env: dict[str, str] | None, netns_of: str | None) -> list[str]:
        options = [f"--env={key}={value}" for key, value in (env or {}).items()]
        if netns_of:
            options.append(f"--with-ns=network:/proc/{self._pid(netns_of)}/ns/net")
        return options

    def _check(self, *args: str) -> None:
        result = self._ctr(*args, timeout=COMMAND_SECONDS)
        assert result.returncode == 0, f"ctr {' '.join(args)} failed: {result.stderr}"

    def _ctr(self, *args: str, timeout: float = 10.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["ctr", "--address", str(self.directory / "containerd.sock"), *args],
                              capture_output=True, text=True, timeout=timeout)
