"""The Docker engine kind talks to: the machine's own if one answers, else one the project runs.

A machine whose `docker info` works is used as it is. Elsewhere (Debian's `docker.io` installed,
no engine running) the project starts its own dockerd with its own socket, data and run
directories under STATE_DIR/docker, and stops it again on `cluster.down`:

- `--iptables=false --ip-forward=false --bridge=none`: it leaves the host's firewall, its
  FORWARD policy, ip_forward and docker0 alone (and so the local driver's chains and bridge);
  kind's nodes only need their own bridge network, published ports (docker-proxy) and Docker's
  embedded DNS, which all work without those. It also means containers cannot reach outside.
- where the host's capability bounding set lacks CAP_SYS_RESOURCE (some VMs), `--privileged`
  containers fail in runc; the default runtime is then `runc-without-sys-resource` beside this
  module, which drops that one capability and runs the real runc.

What the nodes' kubelets change on the host (kernel settings that are not per network
namespace) and the directories Docker creates for kind's bind mounts are recorded before the
engine starts and put back after it stops.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tools import paths
from tools.cluster.commands import succeeds, system_path
from tools.errors import SetupError
from tools.progress import step

CAP_SYS_RESOURCE = 24
RUNTIME_NAME = "ntk-runc"
RUNTIME_WRAPPER = Path(__file__).with_name("runc-without-sys-resource")
START_TIMEOUT = 60.0
STOP_TIMEOUT = 60.0
INSTALL_HINT = (
    "no Docker engine answers and `dockerd` is not installed: on Debian `apt-get install docker.io` "
    "(the project then runs its own engine), or install and start Docker"
)
HOST_SYSCTLS = (
    # written by the nodes' kubelets, and not per network namespace (ip_forward is: neither the
    # nodes nor our dockerd touch the host's, and the local driver's cluster may need it on)
    "vm/overcommit_memory",
    "vm/panic_on_oom",
    "kernel/panic",
    "kernel/panic_on_oops",
    "kernel/keys/root_maxkeys",
    "kernel/keys/root_maxbytes",
)
HOST_DIRS = ("/lib/modules",)
"""kind bind-mounts these into every node; Docker creates them on the host when they are missing."""


@dataclass(frozen=True)
class EngineLayout:
    """Where the project's own dockerd keeps its files (one engine per clone)."""

    root: Path

    @property
    def data_root(self) -> Path:
        """Images, containers and volumes: kept by `cluster.down` only as the node image's cache."""
        return self.root / "data"

    @property
    def socket(self) -> Path:
        return self.root / "docker.sock"

    @property
    def pidfile(self) -> Path:
        return self.root / "dockerd.pid"

    @property
    def log(self) -> Path:
        return self.root / "dockerd.log"

    @property
    def machine_before(self) -> Path:
        return self.root / "machine-before.json"

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"


def default_layout() -> EngineLayout:
    return EngineLayout(paths.STATE_DIR / "docker")


def machine_engine_answers() -> bool:
    """Whether a Docker engine other than ours answers (DOCKER_HOST or the default socket)."""
    return succeeds(["docker", "info"])


def command_env(layout: EngineLayout) -> dict[str, str]:
    """The environment for docker and kind commands: ours when our engine runs, else inherited."""
    environment = {**os.environ, "PATH": system_path()}
    if own_engine_running(layout):
        environment["DOCKER_HOST"] = layout.host
    return environment


def own_engine_running(layout: EngineLayout) -> bool:
    pid = _pid(layout)
    return pid is not None and _alive(pid)


def ensure_engine(layout: EngineLayout) -> dict[str, str]:
    """An engine that answers: the machine's, else ours (started now if needed); its environment."""
    if own_engine_running(layout) or not machine_engine_answers():
        if not own_engine_running(layout):
            _start(layout)
    return command_env(layout)


def stop_own_engine(layout: EngineLayout) -> None:
    """Stop our dockerd (if it runs) and put back what changed on the host while it ran."""
    pid = _pid(layout)
    if pid is not None and _alive(pid):
        with step("stop the project's dockerd"):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    layout.pidfile.unlink(missing_ok=True)
    layout.socket.unlink(missing_ok=True)
    _restore_machine(layout)


def needs_capability_wrapper(status: Path = Path("/proc/self/status")) -> bool:
    """True when this host's capability bounding set (CapBnd in `status`) lacks CAP_SYS_RESOURCE."""
    for line in status.read_text().splitlines():
        if line.startswith("CapBnd:"):
            return not (int(line.split()[1], 16) >> CAP_SYS_RESOURCE) & 1
    return False


def _start(layout: EngineLayout) -> None:
    if not succeeds(["sh", "-c", "command -v dockerd"]):
        raise SetupError(INSTALL_HINT)
    layout.root.mkdir(parents=True, exist_ok=True)
    _record_machine(layout)
    command = [
        "dockerd",
        f"--data-root={layout.data_root}",
        f"--exec-root={layout.root / 'run'}",
        f"--pidfile={layout.pidfile}",
        f"--host={layout.host}",
        "--iptables=false",
        "--ip-forward=false",
        "--bridge=none",
    ]
    if needs_capability_wrapper():
        command += [f"--add-runtime={RUNTIME_NAME}={RUNTIME_WRAPPER}", f"--default-runtime={RUNTIME_NAME}"]
    with step("start the project's dockerd"), layout.log.open("ab") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PATH": system_path()},
            start_new_session=True,  # not killed with the invoke that started it
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not succeeds(["docker", f"--host={layout.host}", "info"]):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SetupError(f"the project's dockerd did not start; see {layout.log}")
            time.sleep(0.3)


def _record_machine(layout: EngineLayout) -> None:
    """Note the host's settings before the first start (a later start keeps the first record)."""
    if layout.machine_before.is_file():
        return
    before = {
        "sysctls": {name: _sysctl(name).read_text().strip() for name in HOST_SYSCTLS if _sysctl(name).exists()},
        "absent_dirs": [directory for directory in HOST_DIRS if not Path(directory).exists()],
    }
    layout.machine_before.write_text(json.dumps(before, indent=2))


def _restore_machine(layout: EngineLayout) -> None:
    if not layout.machine_before.is_file():
        return
    before = json.loads(layout.machine_before.read_text())
    for name, value in before["sysctls"].items():
        if _sysctl(name).read_text().strip() != value:
            _sysctl(name).write_text(value)
    for directory in before["absent_dirs"]:
        path = Path(directory)
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    layout.machine_before.unlink()


def _sysctl(name: str) -> Path:
    return Path("/proc/sys") / name


def _pid(layout: EngineLayout) -> int | None:
    try:
        return int(layout.pidfile.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].endswith(b"dockerd")
    except OSError:
        return False

