"""Stop an operation that waits for something that cannot happen by itself.

The engine waits for each pod to be Ready up to readyTimeoutSeconds, but a pod on a node whose
kubelet died is never marked failed: the provider kept waiting long past its timeout. A node that
stays NotReady (`invoke cluster.up` brings it back) or an image that the node does not have (no
registry here: `invoke images.load`) needs the user, so while an operation runs, a thread asks
the cluster every few seconds, and when the same hopeless state shows twice in a row it stops the
engine cleanly with a message naming the node or pod, the reason and the fix.

A pod stopped on for a missing image is then deleted: left in image pull back-off, it would wait
for the kubelet's next retry (up to five minutes) after `invoke images.load`, and the next `invoke
up` (which refreshes first) creates it again at once.
"""
from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterator

from tools import stuck_pods
from tools.errors import SetupError
from tools.kube import Kubectl

EVERY_SECONDS = 5.0


def hopeless(kubectl: Kubectl, pods_too: bool) -> list[str]:
    """Lines naming each NotReady node and (with `pods_too`) each pod whose image is missing."""
    try:
        nodes = kubectl.json("get", "nodes", stuck_pods.REQUEST_TIMEOUT)["items"]
        pods = kubectl.json("get", "pods", stuck_pods.REQUEST_TIMEOUT)["items"] if pods_too else []
    except SetupError:
        return []  # an API server that does not answer is the engine's to report
    return [line for line in stuck_pods.describe(nodes, pods, [])
            if line.startswith("node ") or line.endswith(stuck_pods.FIX_IMAGE)]


@contextlib.contextmanager
def stopping_hopeless_waits(kubectl: Kubectl, stop: Callable[[str], None], pods_too: bool = True,
                            every: float = EVERY_SECONDS) -> Iterator[None]:
    """While the block runs, call `stop(why)` once when `hopeless` names the same thing twice in a row."""
    done = threading.Event()

    def watch() -> None:
        seen: list[str] = []
        while not done.wait(every):
            now = hopeless(kubectl, pods_too)
            if now and now == seen:
                stop("\n".join(now))
                return
            seen = now

    watcher = threading.Thread(target=watch, name="wait-watch", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join(timeout=every + 15)


def remove_pods_missing_images(kubectl: Kubectl, why: str) -> list[str]:
    """Delete the pods that `why` (lines from `hopeless`) names for a missing image; their names."""
    names = [match.group(1) for line in why.splitlines()
             if line.endswith(stuck_pods.FIX_IMAGE) and (match := re.match(r"pod (\S+): ", line))]
    removed = []
    for name in names:
        with contextlib.suppress(SetupError):  # the stop's message matters more than this cleanup
            kubectl.output("delete", "pod", name, "--ignore-not-found", "--wait=false", stuck_pods.REQUEST_TIMEOUT)
            removed.append(name)
    return removed
