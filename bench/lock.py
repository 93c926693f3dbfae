"""The machine's cluster lock: one local cluster serves every clone and user on the machine, so
the bench, which deploys and deletes for minutes, holds it for its whole run (others wait)."""
from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = Path(os.environ.get("NEWS_TRACKER_CLUSTER_LOCK", "/tmp/ntk-cluster.lock"))


@contextmanager
def cluster_lock() -> Iterator[None]:
    """Hold an exclusive flock on LOCK_FILE; say so when it has to wait."""
    with LOCK_FILE.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for the cluster lock {LOCK_FILE} ...", flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
