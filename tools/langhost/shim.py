"""Runs one Pulumi program inside the program's own Python (its virtualenv), for the host.

This file is executed as a script by the program's interpreter, so it imports nothing of this
project: only the standard library and the `pulumi` SDK installed beside the program. It takes
the same arguments as upstream's exec shim (`--monitor --engine --project --root_directory
--stack --pwd --dry_run --parallel --tracing --organization PROGRAM [ARGS...]`, config and secret
keys in PULUMI_CONFIG / PULUMI_CONFIG_SECRET_KEYS), and exits as it does:

    0   the program ran
    1   the program raised pulumi.RunError: its message alone was reported to the engine
    32  anything else: the traceback from the program's own frames on was reported, so the host
        tells the engine the error is already shown (bail); also on SIGINT (the host's Cancel),
        which the engine reports itself
"""
from __future__ import annotations

import os
import signal
import sys

# Running as a script put this file's directory first on sys.path; the program must not see it.
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import logging  # noqa: E402
import runpy  # noqa: E402
import traceback  # noqa: E402
import warnings  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

ALREADY_REPORTED = 32

try:
    import pulumi
    import pulumi.runtime
except ImportError:
    print(f"{traceback.format_exc()}\nThe program's Python ({sys.executable}) has no pulumi SDK: "
          "install the project's requirements into the virtualenv named in Pulumi.yaml "
          "(<virtualenv>/bin/pip install -r requirements.txt).", file=sys.stderr)
    sys.exit(1)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="langhost-shim", description="Run a Pulumi Python program")
    for flag in ("monitor", "engine", "project", "root_directory", "stack", "pwd", "dry_run",
                 "parallel", "tracing", "organization"):
        parser.add_argument(f"--{flag}")
    parser.add_argument("program")
    parser.add_argument("args", nargs="*")
    return parser.parse_args(argv)


def user_traceback(program: str) -> str:
    """The current exception's traceback from the first frame in the program's directory on
    (the frames of this shim, runpy and asyncio say nothing to the user)."""
    program_dir = os.path.abspath(program if os.path.isdir(program) else os.path.dirname(program))
    frames = traceback.extract_tb(sys.exc_info()[2])
    for index, frame in enumerate(frames):
        # Relative names ("<frozen runpy>") are not files of the program.
        if os.path.isabs(frame.filename) and os.path.normpath(frame.filename).startswith(program_dir + os.sep):
            return traceback.format_exc(limit=index - len(frames))
    return traceback.format_exc()


def run(options: argparse.Namespace) -> int:
    pulumi.runtime.set_all_config(pulumi.runtime.get_config_env(),
                                  pulumi.runtime.get_config_secret_keys_env())
    parallel = int(options.parallel or 0)
    pulumi.runtime.configure(pulumi.runtime.Settings(
        monitor=options.monitor, engine=options.engine, project=options.project,
        stack=options.stack, parallel=parallel, dry_run=options.dry_run == "true",
        organization=options.organization, root_directory=options.root_directory))
    sys.argv = [options.program, *options.args]
    if options.pwd:
        os.chdir(options.pwd)
    program = os.path.abspath(options.program)
    if os.path.isdir(program) and not os.path.isfile(os.path.join(program, "__main__.py")):
        pulumi.log.error(f"unable to find main python program `__main__.py` in `{program}`")
        return ALREADY_REPORTED

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    executor = ThreadPoolExecutor(max_workers=max(parallel, 1) * 4)
    loop.set_default_executor(executor)
    # A failed resource leaves futures nobody awaits; asyncio's complaints about them are noise.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    try:
        loop.run_until_complete(pulumi.runtime.run_in_stack(
            lambda: runpy.run_path(program, run_name="__main__")))
        return 0
    except pulumi.RunError as error:
        pulumi.log.error(str(error))
        return 1
    except Exception:  # noqa: BLE001 -- every program failure is reported the same way
        pulumi.log.error("Program failed with an unhandled exception:\n" + user_traceback(program))
        return ALREADY_REPORTED
    except KeyboardInterrupt:
        # The host's Cancel (the user pressed Ctrl-C): the engine reports the cancellation itself,
        # and the RPCs the program can no longer await are expected, not worth a warning.
        warnings.simplefilter("ignore")
        return ALREADY_REPORTED
    finally:
        executor.shutdown(wait=True)
        loop.close()
        sys.stdout.flush()
        sys.stderr.flush()


if __name__ == "__main__":
    # The host cancels a run with SIGINT. Python installs its KeyboardInterrupt handler only when
    # SIGINT is not ignored at start, and a CLI started as a background job inherits it ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(run(parse(sys.argv[1:])))
