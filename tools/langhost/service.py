"""The LanguageRuntime gRPC service for Python programs, on the stubs the `pulumi` SDK ships.

What the CLI calls for preview/up/destroy: GetPluginInfo (required: a semver), GetRequiredPackages
(the resource plugins of the installed Pulumi packages), Run (the program, in a child process of
its own Python), About (that Python), Cancel (SIGINT to the running programs, as upstream; the CLI
sends it on Ctrl-C and after every run). Everything else answers UNIMPLEMENTED, which the engine
tolerates for these commands.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
from collections.abc import Mapping

import grpc
from google.protobuf import empty_pb2
from google.protobuf.json_format import MessageToDict
from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2

from tools.langhost.argv import HostArgs
from tools.langhost.interpreter import Interpreter, InterpreterError, resolve
from tools.langhost.packages import installed_distributions, required_plugins
from tools.langhost.program import program_command, run_response, start_failure
from tools.langhost.version import HOST_VERSION

log = logging.getLogger("langhost")


class PythonLanguageHost(language_pb2_grpc.LanguageRuntimeServicer):
    def __init__(self, args: HostArgs, environ: Mapping[str, str] = os.environ) -> None:
        self._args = args
        self._environ = environ
        self._running: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()

    def GetPluginInfo(self, request: empty_pb2.Empty, context: grpc.ServicerContext) -> plugin_pb2.PluginInfo:
        return plugin_pb2.PluginInfo(version=HOST_VERSION)

    def GetRequiredPackages(self, request: language_pb2.GetRequiredPackagesRequest,
                            context: grpc.ServicerContext) -> language_pb2.GetRequiredPackagesResponse:
        try:
            plugins = required_plugins(installed_distributions(self._interpreter(request.info)))
        except (InterpreterError, RuntimeError) as error:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(error))
        log.info("required packages: %s", ", ".join(f"{p.name} {p.version}" for p in plugins) or "none")
        return language_pb2.GetRequiredPackagesResponse(packages=[
            plugin_pb2.PackageDependency(name=p.name, kind="resource", version=p.version, server=p.server)
            for p in plugins])

    def Run(self, request: language_pb2.RunRequest, context: grpc.ServicerContext) -> language_pb2.RunResponse:
        try:
            command = program_command(request, self._args.engine_address, self._args.tracing, self._environ)
        except InterpreterError as error:
            return language_pb2.RunResponse(error=str(error))
        log.info("run stack=%s dry_run=%s parallel=%s: %s", request.stack, request.dryRun,
                 request.parallel, " ".join(command.argv))
        try:
            child = subprocess.Popen(command.argv, env=command.env, stdin=subprocess.DEVNULL)
        except OSError as error:
            return start_failure(error)
        with self._lock:
            self._running.add(child)
        try:
            returncode = child.wait()
        finally:
            with self._lock:
                self._running.discard(child)
        log.info("program exited %s", returncode)
        return run_response(returncode)

    def About(self, request: language_pb2.AboutRequest, context: grpc.ServicerContext) -> language_pb2.AboutResponse:
        try:
            interpreter = self._interpreter(request.info)
            version = subprocess.run(
                [str(interpreter.python), "-c", "import platform; print(platform.python_version())"],
                env=interpreter.env, capture_output=True, text=True, timeout=30, check=True).stdout.strip()
        except (InterpreterError, OSError, subprocess.SubprocessError) as error:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(error))
        return language_pb2.AboutResponse(executable=str(interpreter.python), version=version)

    def Cancel(self, request: empty_pb2.Empty, context: grpc.ServicerContext) -> empty_pb2.Empty:
        self.interrupt_programs()
        return empty_pb2.Empty()

    def interrupt_programs(self) -> None:
        """SIGINT every running program, as a Ctrl-C would: the SDK stops at its next await."""
        with self._lock:
            for child in self._running:
                log.info("cancel: SIGINT to program %d", child.pid)
                child.send_signal(signal.SIGINT)

    def _interpreter(self, info: language_pb2.ProgramInfo) -> Interpreter:
        return resolve(info.root_directory or os.getcwd(), MessageToDict(info.options), self._environ)
