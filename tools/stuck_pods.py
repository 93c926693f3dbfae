"""Why a stack's pods are not Ready, in one line each with the fix, for a failed or timed-out
update: a NotReady node (the kubelet or the runtime stopped: `invoke cluster.up`), an image the
node does not have (`invoke images.load`), or whatever the pod's last warning event says."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tools.errors import SetupError
from tools.kube import Kubectl

IMAGE_REASONS = frozenset({"ErrImageNeverPull", "ImagePullBackOff", "ErrImagePull", "InvalidImageName"})
FIX_NODE = "run `invoke cluster.up`"
FIX_IMAGE = "run `invoke images.load`"
REQUEST_TIMEOUT = "--request-timeout=10s"


def explain(kubectl: Kubectl) -> str:
    """Lines naming each NotReady node and each pod that is not Ready, with reason and fix."""
    try:
        nodes = kubectl.json("get", "nodes", REQUEST_TIMEOUT)["items"]
        pods = kubectl.json("get", "pods", REQUEST_TIMEOUT)["items"]
        events = kubectl.json("get", "events", REQUEST_TIMEOUT)["items"]
    except SetupError as error:
        return f"the cluster could not be asked why ({error}); see `invoke cluster.status`"
    return "\n".join(describe(nodes, pods, events))


def describe(nodes: Sequence[Mapping[str, Any]], pods: Sequence[Mapping[str, Any]],
             events: Sequence[Mapping[str, Any]]) -> list[str]:
    not_ready = {node["metadata"]["name"]: _condition(node, "Ready") for node in nodes
                 if (_condition(node, "Ready") or {}).get("status") != "True"}
    lines = [f"node {name} is NotReady ({_reason_text(condition)}): {FIX_NODE}"
             for name, condition in not_ready.items()]
    for pod in pods:
        if pod["status"].get("phase") == "Succeeded" or (_condition(pod, "Ready") or {}).get("status") == "True":
            continue
        name, node = pod["metadata"]["name"], pod["spec"].get("nodeName")
        waiting = [status["state"]["waiting"] for status in pod["status"].get("containerStatuses", [])
                   if "waiting" in status.get("state", {})]
        unscheduled = _condition(pod, "PodScheduled")
        if any(w.get("reason") in IMAGE_REASONS for w in waiting):
            image = next(w for w in waiting if w.get("reason") in IMAGE_REASONS)
            lines.append(f"pod {name}: {_reason_text(image)}: {FIX_IMAGE}")
        elif node in not_ready:
            lines.append(f"pod {name}: waits for node {node}, which is NotReady: {FIX_NODE}")
        elif unscheduled and unscheduled.get("status") == "False":
            lines.append(f"pod {name}: not scheduled ({_reason_text(unscheduled)}): {FIX_NODE}")
        else:
            lines.append(f"pod {name}: {_last_warning(name, events) or _reason_text(waiting[0] if waiting else {})}; "
                         f"see `invoke describe {name}`")
    return lines


def _condition(item: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    return next((c for c in item.get("status", {}).get("conditions", []) if c.get("type") == kind), None)


def _reason_text(detail: Mapping[str, Any] | None) -> str:
    detail = detail or {}
    reason, message = detail.get("reason", ""), " ".join(str(detail.get("message", "")).split())
    return ": ".join(part for part in (reason, message) if part) or "no reason given"


def _last_warning(pod: str, events: Sequence[Mapping[str, Any]]) -> str:
    mine = [e for e in events if e.get("involvedObject", {}).get("name") == pod and e.get("type") == "Warning"]
    if not mine:
        return ""
    last = max(mine, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
    return _reason_text(last)
