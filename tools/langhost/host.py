"""The language host process: what the Pulumi CLI starts as `pulumi-language-python`.

The CLI reads the first line of the host's stdout as the port of its gRPC server (on 127.0.0.1),
shows every later stdout/stderr line to the user as the stack's diagnostics, and stops the host
by sending SIGINT to its process group (then SIGKILL after 5 s). So the port is the only thing the
host itself prints, its own log goes to a file ($PULUMI_HOME/logs/pulumi-language-python.log, or
stderr when the CLI passes --logtostderr), and SIGINT ends it quietly. It also ends when the CLI
that started it is gone, so a killed CLI leaves no host behind.
"""
from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
from pulumi.runtime.proto import language_pb2_grpc

from tools.langhost.argv import HostArgs, parse_args
from tools.langhost.service import PythonLanguageHost

#: Upstream's gRPC message limit; stack config and checkpoints can exceed gRPC's 4 MB default.
MAX_MESSAGE_BYTES = 400 * 1024 * 1024
#: How often the host checks that the CLI that started it still runs.
PARENT_CHECK_SECONDS = 2.0

log = logging.getLogger("langhost")


def log_file(environ: dict[str, str] | os._Environ[str] = os.environ) -> Path:
    """Where the host logs: under the PULUMI_HOME the CLI runs with."""
    home = Path(environ.get("PULUMI_HOME") or Path.home() / ".pulumi")
    return home / "logs" / "pulumi-language-python.log"


def configure_logging(args: HostArgs) -> None:
    """The host's log (and gRPC's, whose errors would otherwise reach stderr, i.e. the user)."""
    level = logging.DEBUG if args.verbosity >= 5 else logging.INFO
    handler: logging.Handler
    if args.log_to_stderr:
        handler = logging.StreamHandler(sys.stderr)
    else:
        try:
            path = log_file()
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(path, encoding="utf-8")
        except OSError:
            handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s pid %(process)d %(name)s %(levelname)s %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)


def serve(args: HostArgs) -> int:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    host = PythonLanguageHost(args)
    server = grpc.server(ThreadPoolExecutor(max_workers=8, thread_name_prefix="langhost"), options=[
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES)])
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(host, server)
    port = server.add_insecure_port("127.0.0.1:0")
    if port == 0:
        print("pulumi-language-python: could not listen on 127.0.0.1", file=sys.stderr)
        return 1
    server.start()
    print(port, flush=True)
    log.info("serving on 127.0.0.1:%d for engine %s (argv %s)", port, args.engine_address, sys.argv[1:])
    parent = os.getppid()
    while not stop.wait(PARENT_CHECK_SECONDS):
        if os.getppid() != parent or parent == 1:  # reparented: the CLI is gone
            log.info("the CLI (pid %d) is gone: stopping", parent)
            host.interrupt_programs()
            break
    server.stop(grace=1).wait()
    log.info("stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    configure_logging(args)
    return serve(args)
