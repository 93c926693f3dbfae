"""A Run request as the child process that runs the program, and that process's exit as the
Run response, the way upstream's Python host maps both.

The child is the program's own Python running shim.py, with the request's fields as the flags
upstream's exec shim takes and the config (secrets decrypted) plus the list of secret keys as
JSON in PULUMI_CONFIG / PULUMI_CONFIG_SECRET_KEYS. Its stdout and stderr are the host's, which the
engine shows to the user as the stack's diagnostics.
"""
from __future__ import annotations

import json
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from google.protobuf.json_format import MessageToDict
from pulumi.runtime.proto import language_pb2

from tools.langhost.interpreter import resolve

SHIM = Path(__file__).resolve().with_name("shim.py")
#: The shim's exit code for "the error is already reported": the engine adds nothing (bail).
ALREADY_REPORTED = 32


@dataclass(frozen=True)
class ProgramCommand:
    argv: list[str]
    env: dict[str, str]


def program_command(request: language_pb2.RunRequest, engine_address: str | None,
                    tracing: str | None, environ: Mapping[str, str]) -> ProgramCommand:
    """The child process for `request`; raises InterpreterError when its Python is unusable."""
    info = request.info
    root = info.root_directory or request.pwd
    interpreter = resolve(root, MessageToDict(info.options), environ)
    flags = {
        "monitor": request.monitor_address,
        "engine": engine_address,
        "project": request.project,
        "root_directory": info.root_directory,
        "stack": request.stack,
        "pwd": request.pwd,
        "dry_run": "true" if request.dryRun else "false",
        "parallel": str(request.parallel),
        "tracing": tracing,
        "organization": request.organization,
    }
    argv = [str(interpreter.python), str(SHIM)]
    for name, value in flags.items():
        if value:
            argv += [f"--{name}", value]
    argv += [info.entry_point or request.program or ".", *request.args]
    env = {**interpreter.env,
           "PULUMI_CONFIG": json.dumps(dict(request.config)),
           "PULUMI_CONFIG_SECRET_KEYS": json.dumps(list(request.configSecretKeys))}
    return ProgramCommand(argv, env)


def run_response(returncode: int) -> language_pb2.RunResponse:
    """What the engine is told about a program that exited with `returncode`."""
    if returncode == 0:
        return language_pb2.RunResponse()
    if returncode == ALREADY_REPORTED:
        return language_pb2.RunResponse(bail=True)
    if returncode < 0:
        return language_pb2.RunResponse(error=f"program was stopped by {signal.Signals(-returncode).name}")
    return language_pb2.RunResponse(error=f"program exited with non-zero exit code: {returncode}")


def start_failure(error: OSError) -> language_pb2.RunResponse:
    """What the engine is told when the program's Python could not even be started."""
    return language_pb2.RunResponse(error=f"problem executing program (could not run language executor): {error}")
