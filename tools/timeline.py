"""A pod's life from what the cluster itself recorded: its events (scheduled, image, created,
started, killed) and its status (each container's runs with their exit codes, the Ready
condition's transitions, the delete request), as marks in time relative to the pod's creation.

A pod's status goes with it: once it is deleted only its events are left (the API server keeps
them an hour), and they say nothing of readiness or exit codes. `follow` therefore watches a pod
until it is gone, keeping every status it passed through, so a delete is recorded to the exit.
"""
from __future__ import annotations

import json
import re
import signal
import subprocess
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tools.errors import SetupError
from tools.kube import Kubectl

#: The lane of marks that concern the whole pod (scheduling, readiness, the delete request).
POD = "pod"
#: Where each kind of mark goes among marks of the same second: the order things happen in.
ORDER = {kind: rank for rank, kind in enumerate((
    "scheduled", "pulling", "image", "created", "started", "probe-failed", "ready", "delete",
    "SIGTERM", "not-ready", "exit", "back-off"))}
#: The marks drawn on a container's lane: marker, color, legend.
LANE_MARKS = {"started": ("o", "#31a354", "started"), "probe-failed": ("x", "#de2d26", "probe failed"),
              "SIGTERM": ("v", "#e6550d", "SIGTERM (Killing)"), "exit": ("s", "#252525", "exit (code)")}
_CONTAINER_PATH = re.compile(r"spec\.(?:initContainers|containers)\{(.+)\}")
_ASSIGNED = re.compile(r" to (\S+)$")


@dataclass(frozen=True)
class Mark:
    """One thing that happened, `seconds` after the pod was created, on a container's lane or
    the pod's."""
    seconds: float
    lane: str
    kind: str
    detail: str = ""


@dataclass(frozen=True)
class Run:
    """One run of a container (a restart starts another): a bar on its lane."""
    container: str
    start: float
    end: float | None
    exit_code: int | None


@dataclass(frozen=True)
class Timeline:
    pod: str
    namespace: str
    uid: str
    created: datetime | None
    node: str | None
    containers: tuple[str, ...]
    marks: tuple[Mark, ...]
    runs: tuple[Run, ...]
    until: float
    notes: tuple[str, ...] = field(default=())


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _event_times(event: Mapping[str, Any]) -> list[datetime]:
    """When an event happened: once, or first and last for one the API server counted up."""
    first = _time(event.get("eventTime")) or _time(event.get("firstTimestamp")) \
        or _time(event["metadata"].get("creationTimestamp"))
    series = event.get("series") or {}
    last = _time(event.get("lastTimestamp")) or _time(series.get("lastObservedTime"))
    times = [t for t in (first, last) if t is not None]
    return times[:1] if len(times) == 2 and times[0] >= times[1] else times


def exit_text(code: int | None, reason: str = "") -> str:
    """`exit 143 (SIGTERM)`: a code above 128 names the signal that ended the process."""
    if code is None:
        return "exit code unknown"
    signal_name = ""
    if code > 128:
        try:
            signal_name = signal.Signals(code - 128).name
        except ValueError:
            pass
    return f"exit {code}" + "".join(f" ({part})" for part in (signal_name, reason) if part)


def _event_mark(event: Mapping[str, Any], at: Callable[[datetime], float]) -> list[Mark]:
    reason, message = event.get("reason", ""), " ".join(str(event.get("message", "")).split())
    match = _CONTAINER_PATH.fullmatch(event.get("involvedObject", {}).get("fieldPath", ""))
    lane = match.group(1) if match else POD
    if reason == "Scheduled":
        node = _ASSIGNED.search(message)
        kind, detail = "scheduled", f"on {node.group(1)}" if node else message
    elif reason == "Pulled":
        kind, detail = "image", "already on the node" if "already present" in message else message
    elif reason == "Killing":
        kind, detail = "SIGTERM", message
    elif reason == "Unhealthy":
        kind, detail = "probe-failed", message
    else:
        kind = {"Pulling": "pulling", "Created": "created", "Started": "started",
                "BackOff": "back-off"}.get(reason, reason)
        detail = "" if kind in ("created", "started") else message
    times = _event_times(event)
    count = int(event.get("count") or (event.get("series") or {}).get("count") or 1)
    if count > 1 and len(times) == 2:  # the API server keeps only the first and the last time
        return [Mark(at(when), lane, kind, f"{detail} ({which} of {count})".strip())
                for when, which in zip(times, ("first", "last"))]
    return [Mark(at(when), lane, kind, detail) for when in times]


def _runs(states: Sequence[Mapping[str, Any]], at: Callable[[datetime], float]) -> list[Run]:
    """Every container run seen in any of the states, each with its end and exit code when known."""
    seen: dict[tuple[str, str], Run] = {}
    for state in states:
        for status in state.get("status", {}).get("containerStatuses", []):
            for part in (status.get("lastState", {}), status.get("state", {})):
                for phase, detail in part.items():
                    started = detail.get("startedAt")
                    if phase not in ("running", "terminated") or not started:
                        continue
                    finished = _time(detail.get("finishedAt"))
                    run = Run(status["name"], at(_time(started)), at(finished) if finished else None,
                              detail.get("exitCode") if phase == "terminated" else None)
                    key = (status["name"], started)
                    if key not in seen or run.end is not None:
                        seen[key] = run
    return sorted(seen.values(), key=lambda run: (run.container, run.start))


def _ready_marks(states: Sequence[Mapping[str, Any]], at: Callable[[datetime], float]) -> list[Mark]:
    """Each time the pod's Ready condition changed: its probes turned ready, or it left service."""
    transitions: list[tuple[str, str]] = []
    for state in states:
        for condition in state.get("status", {}).get("conditions", []):
            change = (condition.get("status", ""), condition.get("lastTransitionTime", ""))
            if condition.get("type") == "Ready" and change[1] and change not in transitions:
                transitions.append(change)
    marks, was_ready = [], False
    for status, when in transitions:
        if status == "True":
            marks.append(Mark(at(_time(when)), POD, "ready", "every container's readiness probe passed"))
            was_ready = True
        elif was_ready:
            marks.append(Mark(at(_time(when)), POD, "not-ready", "out of service"))
    return marks


def _delete_mark(states: Sequence[Mapping[str, Any]], at: Callable[[datetime], float]) -> list[Mark]:
    """The delete request: deletionTimestamp is the request's time plus the grace period."""
    for state in states:
        metadata = state.get("metadata", {})
        if metadata.get("deletionTimestamp"):
            grace = int(metadata.get("deletionGracePeriodSeconds") or 0)
            requested = at(_time(metadata["deletionTimestamp"])) - grace
            how = f"graceful, SIGKILL after {grace} s" if grace else "forced (grace period 0)"
            return [Mark(requested, POD, "delete", how)]
    return []


def build(name: str, states: Sequence[Mapping[str, Any]], events: Iterable[Mapping[str, Any]],
          now: datetime, gone: bool = False) -> Timeline:
    """The timeline of pod `name` from the states it was seen in (oldest first; none when it was
    already gone) and the namespace's events (only those of this pod, and of its last instance
    when a pod of the same name was made again)."""
    mine = [e for e in events if e.get("involvedObject", {}).get("kind") == "Pod"
            and e["involvedObject"].get("name") == name]
    last = states[-1] if states else {}
    uid = last.get("metadata", {}).get("uid") or max(
        mine, key=lambda e: max(_event_times(e), default=now), default={}).get("involvedObject", {}).get("uid", "")
    mine = [e for e in mine if e["involvedObject"].get("uid") == uid]
    if not states and not mine:
        raise SetupError(f"no pod {name!r} and no events of one: the API server keeps events an hour")
    created = _time(last.get("metadata", {}).get("creationTimestamp"))
    notes: list[str] = []
    origin = created or min((t for e in mine for t in _event_times(e)), default=now)
    at: Callable[[datetime], float] = lambda when: (when - origin).total_seconds()  # noqa: E731
    marks = [m for e in mine for m in _event_mark(e, at)]
    runs = _runs(states, at)
    if states:
        # The status times each run; the Started events only repeat it, a second less precisely.
        marks = [m for m in marks if m.kind != "started"]
        marks += [Mark(run.start, run.container, "started") for run in runs]
        marks += [Mark(run.end, run.container, "exit", exit_text(run.exit_code))
                  for run in runs if run.end is not None]
        marks += _ready_marks(states, at) + _delete_mark(states, at)
    else:
        notes.append("the pod is gone and its status with it: no readiness, no exit codes "
                     "(`--follow` before deleting records them); times are from its first event")
    containers = [c["name"] for c in last.get("spec", {}).get("containers", [])] or \
        sorted({m.lane for m in marks} - {POD})
    if gone and any(run.end is None for run in runs):
        notes.append("the pod object was removed before every container reported its exit "
                     "(a forced delete does not wait for the kubelet)")
    node = last.get("spec", {}).get("nodeName") or next(
        (m.detail.removeprefix("on ") for m in marks if m.kind == "scheduled"), None)
    until = max([at(now) if states and not gone else 0.0, *(m.seconds for m in marks),
                 *(run.end or run.start for run in runs)])
    return Timeline(name, last.get("metadata", {}).get("namespace") or
                    (mine[0]["involvedObject"].get("namespace", "") if mine else ""),
                    uid, created, node, tuple(containers),
                    tuple(sorted(marks, key=lambda m: (m.seconds, ORDER.get(m.kind, len(ORDER))))),
                    tuple(runs), until, tuple(notes))


def seconds_text(seconds: float) -> str:
    return f"{seconds:+.1f}s"


def table(timeline: Timeline) -> str:
    """The timeline as the terminal shows it: one line per mark, oldest first."""
    created = timeline.created.strftime("%Y-%m-%d %H:%M:%S UTC") if timeline.created else "time unknown"
    lines = [f"{timeline.pod} in {timeline.namespace} (uid {timeline.uid[:8]}), on {timeline.node or 'no node'}, "
             f"created {created}; times since its creation"]
    lane_width = max(len(lane) for lane in (POD, *timeline.containers))
    lines += [f"  {seconds_text(m.seconds):>8}  {m.lane:<{lane_width}}  {m.kind:<12}  {m.detail}".rstrip()
              for m in timeline.marks]
    lines += [f"  note: {note}" for note in timeline.notes]
    return "\n".join(lines)


def follow(kubectl: Kubectl, name: str,
           on_first: Callable[[], None] = lambda: None) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every state of pod `name` from now until it is deleted (kubectl get --watch), with the
    change that made it (ADDED, MODIFIED, DELETED): the last state before the delete holds the
    containers' exit codes. Ends early when the caller stops."""
    process = kubectl.popen(["get", "pod", name, "--watch", "--output-watch-events", "-o", "json"],
                            stdout=subprocess.PIPE)
    assert process.stdout is not None
    pending = ""
    first = True
    try:
        for line in process.stdout:  # one object a line (kubectl 1.3x), or pretty-printed over many
            pending += line
            try:
                change = json.loads(pending)
            except json.JSONDecodeError:
                continue
            pending = ""
            if first:
                on_first()
                first = False
            yield change.get("type", ""), change["object"]
            if change.get("type") == "DELETED":
                return
    finally:
        process.terminate()
        process.wait(timeout=10)


def chart(timeline: Timeline, path: Path) -> None:
    """A small chart of the timeline (SVG, or PNG by the file name): one lane per container with
    its runs as bars, started, SIGTERM and exit marked on the lane; readiness and the delete
    request as lines across all lanes. Drawn by matplotlib, imported only here (it is slow)."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    lanes = list(reversed(timeline.containers))
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "news-tracker", "font.size": 9}):
        figure = Figure(figsize=(8, 1.9 + 0.55 * len(lanes)), layout="constrained")
        axes = figure.subplots()
        for y, container in enumerate(lanes):
            runs = [run for run in timeline.runs if run.container == container]
            bars = axes.broken_barh([(run.start, (run.end if run.end is not None else timeline.until) - run.start)
                                     for run in runs], (y - 0.25, 0.5), color="#9ecae1", edgecolor="#3182bd")
            bars.set_gid(f"lane-{container}")
            for mark in (m for m in timeline.marks if m.lane == container and m.kind in LANE_MARKS):
                marker, color, _ = LANE_MARKS[mark.kind]
                axes.plot([mark.seconds], [y], marker=marker, color=color, linestyle="none",
                          gid=f"mark-{mark.kind}-{container}")
                if mark.kind in ("exit", "SIGTERM"):
                    axes.annotate(mark.detail.split(" (")[0] if mark.kind == "exit" else "SIGTERM",
                                  (mark.seconds, y), xytext=(4, 8 if mark.kind == "exit" else -12),
                                  textcoords="offset points", fontsize=8)
        for mark in (m for m in timeline.marks if m.lane == POD and m.kind in ("scheduled", "ready", "delete")):
            color = {"ready": "#31a354", "delete": "#de2d26"}.get(mark.kind, "#969696")
            axes.axvline(mark.seconds, color=color, linestyle="--", linewidth=1, gid=f"pod-{mark.kind}")
            axes.annotate(mark.kind, (mark.seconds, len(lanes) - 0.45), xytext=(3, 0),
                          textcoords="offset points", color=color, fontsize=8)
        axes.set_yticks(range(len(lanes)), labels=lanes)
        axes.set_ylim(-0.7, len(lanes) - 0.3)
        axes.set_xlim(left=min([0.0, *(m.seconds for m in timeline.marks)]) - 0.5,
                      right=timeline.until + max(2.0, timeline.until * 0.1))  # room for the labels
        axes.legend(handles=[Line2D([], [], marker=marker, color=color, linestyle="none", label=label)
                             for marker, color, label in LANE_MARKS.values()],
                    loc="upper center", bbox_to_anchor=(0.5, -0.32), ncols=len(LANE_MARKS), frameon=False)
        axes.set_xlabel("seconds since the pod was created")
        axes.set_title(f"{timeline.pod} ({timeline.namespace})", loc="left")
        axes.grid(axis="x", alpha=0.3)
        figure.savefig(path, format=path.suffix.lstrip(".").lower() or "svg", metadata={"Date": None}
                       if path.suffix.lower() in ("", ".svg") else None)
