"""The post as a lesson told by the cluster itself: `tour` replays its steps on the stack's pods,
`timeline` draws one pod's life from the cluster's events and status (tools.tour, tools.timeline)."""
from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from invoke import Context, task

from tasks.pods import _pod
from tasks.session import ImportedOnFirstUse, kubectl, pulumi_stack, reports_setup_errors, stack_name
from tools.errors import SetupError

# invoke imports every task module on each start (a pod task too): the tour's and the timeline's
# code is imported by the tasks that run it.
pod_timeline: Any = ImportedOnFirstUse("tools.timeline")


@task(help={"step": "run only this step (1 to 9; default: all)",
            "pause": "wait for Enter between steps (only on a terminal; without one it runs straight through)"})
@reports_setup_errors
def tour(c: Context, step: int = 0, pause: bool = False) -> None:
    """Walk the post's steps on the deployed stack: each kubectl command, its real output, what changed."""
    from tools.tour import Tour

    k, values = kubectl(c)

    def up() -> list[str]:
        """`invoke up`, its engine output kept back: the tour shows only what changed."""
        printed = io.StringIO()
        try:
            with redirect_stdout(printed):
                result = pulumi_stack.up(stack_name(c))
        except SetupError:
            print(printed.getvalue()[-3000:])
            raise
        return [f"changes: {json.dumps(result.summary.resource_changes)}"]

    Tour(k, values, up, stack_name(c)).run(only=step or None, pause=pause)


@task(help={"svg": "also draw the timeline to this file (.svg, or .png)",
            "follow": "watch the pod until it is deleted (delete it from another terminal), then show it all, "
                      "exit codes included; Ctrl-C stops early"})
@reports_setup_errors
def timeline(c: Context, pod: str, svg: str | None = None, follow: bool = False) -> None:
    """A pod's life from the cluster's events and status: scheduled, started, ready, SIGTERM, exit."""
    k, values = kubectl(c)
    name = _pod(values, pod)["name"]
    states, gone = [], False
    if follow:
        try:
            for change, state in pod_timeline.follow(k, name, lambda: print(
                    f"following {name} until it is deleted (Ctrl-C stops)", flush=True)):
                states.append(state)
                gone = change == "DELETED"
        except KeyboardInterrupt:
            pass
    else:
        pods = k.json("get", "pods", "--field-selector", f"metadata.name={name}")["items"]
        states = pods[:1]
    events = k.json("get", "events", "--field-selector", f"involvedObject.name={name}")["items"]
    line = pod_timeline.build(name, states, events, now=datetime.now(timezone.utc), gone=gone)
    print(pod_timeline.table(line))
    if svg:
        pod_timeline.chart(line, Path(svg))
        print(f"chart: {svg}")
