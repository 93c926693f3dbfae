"""The Kubernetes provider as a real Pulumi plugin in the project's PULUMI_HOME.

Installed where Pulumi keeps plugins (`pulumi plugin install resource kubernetes v<ver> --file`),
the engine loads it by the exact version the pulumi_kubernetes SDK asks for, and never takes a
provider from PATH (which it would use whatever its version, with a warning on every command).
A provider binary the user already has (another PULUMI_HOME, or on PATH) is reused only after it
reports the pinned version itself, over the plugin protocol the engine uses.
"""
from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
from pathlib import Path

from tools.errors import SetupError
from tools.toolchain.pins import KUBERNETES_PROVIDER_VERSION

BINARY = "pulumi-resource-kubernetes"
#: How long a provider may take to print its port and answer GetPluginInfo.
PROBE_SECONDS = 20.0


def plugin_binary(pulumi_home: Path) -> Path | None:
    """The pinned provider if it is fully installed under `pulumi_home`, as the engine sees it
    (the versioned directory, the executable in it, no `.partial` marker of an unfinished install)."""
    directory = pulumi_home / "plugins" / f"resource-kubernetes-v{KUBERNETES_PROVIDER_VERSION}"
    binary = directory / BINARY
    unfinished = directory.with_name(f"{directory.name}.partial").exists()
    return binary if binary.is_file() and os.access(binary, os.X_OK) and not unfinished else None


def user_pulumi_home() -> Path:
    """Where the user's own Pulumi keeps plugins: $PULUMI_HOME, else ~/.pulumi."""
    return Path(os.environ.get("PULUMI_HOME") or Path.home() / ".pulumi")


def find_on_path(own_builds: Path) -> Path | None:
    """The first provider binary on PATH that is not one of this project's builds."""
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        found = shutil.which(BINARY, path=directory) if directory else None
        if found is not None and not Path(found).resolve().is_relative_to(own_builds.resolve()):
            return Path(found)
    return None


def reported_version(binary: Path) -> str:
    """The version a provider binary reports through GetPluginInfo, as the engine would ask it.

    Started with no engine address (the protocol's attach mode), it prints its port and serves
    until SIGINT.
    """
    # Imported here: every task imports this module, and gRPC with Pulumi's stubs costs 0.2 s.
    import grpc
    from google.protobuf import empty_pb2
    from pulumi.runtime.proto import provider_pb2_grpc

    process = subprocess.Popen([str(binary)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               stdin=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], PROBE_SECONDS)
        port = process.stdout.readline().strip() if ready else ""
        if not port.isdigit():
            raise SetupError(f"{binary} did not start as a Pulumi plugin (no port printed)")
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            info = provider_pb2_grpc.ResourceProviderStub(channel).GetPluginInfo(
                empty_pb2.Empty(), timeout=PROBE_SECONDS)
        return str(info.version).removeprefix("v")
    except grpc.RpcError as error:
        raise SetupError(f"{binary} did not answer GetPluginInfo: {error.code().name}") from None
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def install(pulumi: Path, binary: Path, pulumi_home: Path) -> Path:
    """Install `binary` as the pinned provider plugin into `pulumi_home`; return the installed file."""
    command = [str(pulumi), "plugin", "install", "resource", "kubernetes",
               f"v{KUBERNETES_PROVIDER_VERSION}", "--file", str(binary)]
    result = subprocess.run(command, capture_output=True, text=True, check=False,
                            env={**os.environ, "PULUMI_HOME": str(pulumi_home),
                                 "PULUMI_SKIP_UPDATE_CHECK": "true"})
    installed = plugin_binary(pulumi_home)
    if result.returncode != 0 or installed is None:
        raise SetupError(f"`{' '.join(command)}` failed (exit {result.returncode}):\n"
                         f"{(result.stderr or result.stdout).strip()}")
    return installed
