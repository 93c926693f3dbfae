"""Every process's command line and environment, sampled while a block runs: what any local user
could read in `ps` or /proc at that moment (the environment, root only, is sampled too).

A pod's containers get their Secrets as environment variables by design (the broker's password
is the broker's and its clients'): their environment is left out, their command lines are not."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

INTERVAL_SECONDS = 0.02


def _snapshot(seen: set[bytes]) -> None:
    for process in Path("/proc").iterdir():
        if not process.name.isdigit():
            continue
        try:
            # .../kubepods/... (cgroupfs driver) or ...kubepods-....slice (systemd, kind's nodes)
            in_a_pod = b"kubepods" in (process / "cgroup").read_bytes()
            for name in ("cmdline",) if in_a_pod else ("cmdline", "environ"):
                seen.add((process / name).read_bytes())
        except OSError:
            pass  # gone meanwhile, or a kernel thread


@contextmanager
def sampling_processes() -> Iterator[set[bytes]]:
    """Yields the set that fills, every 20 ms until the block ends, with each distinct
    NUL-separated cmdline and environ seen."""
    seen: set[bytes] = set()
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(INTERVAL_SECONDS):
            _snapshot(seen)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield seen
    finally:
        stop.set()
        sampler.join()
        _snapshot(seen)
