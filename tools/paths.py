"""Where the project keeps things outside git.

Heavy builds go under one cache root (shared by every clone on the machine, keyed by pinned
versions or input hashes); run-time state (Pulumi backend, cluster, kubeconfig) goes under the
clone's state directory. Both are overridable so CI and users can move them.
"""
from __future__ import annotations

import os
from pathlib import Path

REPO: Path = Path(__file__).resolve().parents[1]
CACHE_ROOT: Path = Path(os.environ.get("NEWS_TRACKER_CACHE", Path.home() / ".cache" / "news-tracker"))
STATE_DIR: Path = Path(os.environ.get("NEWS_TRACKER_STATE", REPO / ".state"))
KUBECONFIG: Path = Path(os.environ.get("NEWS_TRACKER_KUBECONFIG", STATE_DIR / "kubeconfig"))
#: The Pulumi backend, passphrase, plugin home and kept stack outputs of this clone.
PULUMI_STATE: Path = Path(os.environ.get("NEWS_TRACKER_PULUMI_STATE", STATE_DIR / "pulumi"))
