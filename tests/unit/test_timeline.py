"""invoke timeline: a pod's life from recorded events and statuses (fixtures/timeline): a broker
pod watched through its graceful delete, an api pod alive after `kill 1`, a pod already gone."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from tools import timeline
from tools.errors import SetupError
from tools.kube import Kubectl
from tools.target import ClusterTarget

FIXTURES = Path(__file__).parent / "fixtures" / "timeline"
NOW = datetime(2026, 11, 29, 3, 42, tzinfo=timezone.utc)
SVG = "{http://www.w3.org/2000/svg}"


class RecordedWatch(Kubectl):
    """A kubectl whose `get --watch` prints a recorded watch stream (one object a line, as kubectl
    1.34 does), and records its arguments."""

    def command(self, *args: str) -> list[str]:
        self.target.kubeconfig.write_text(json.dumps(args))
        return ["cat", str(FIXTURES / "broker-graceful-delete.watch")]


def events(name: str) -> list[dict[str, Any]]:
    return json.loads((FIXTURES / name).read_text())["items"]


def broker_states(tmp_path: Path) -> list[tuple[str, dict[str, Any]]]:
    seen: list[str] = []
    kubectl = RecordedWatch(ClusterTarget(tmp_path / "kubeconfig", None), "news-ci")
    changes = list(timeline.follow(kubectl, "activemq-pod", lambda: seen.append("first")))
    assert json.loads((tmp_path / "kubeconfig").read_text())[:4] == ["get", "pod", "activemq-pod", "--watch"]
    assert seen == ["first"]
    return changes


def kinds(line: timeline.Timeline, lane: str) -> list[str]:
    return [m.kind for m in line.marks if m.lane == lane]


def test_follow_reads_every_state_of_the_watch_until_the_delete(tmp_path: Path) -> None:
    changes = broker_states(tmp_path)
    assert [kind for kind, _ in changes] == ["ADDED", "MODIFIED", "MODIFIED", "DELETED"]
    assert changes[-1][1]["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 143


def test_a_graceful_delete_reads_start_ready_sigterm_exit_in_order_with_times_since_creation(tmp_path: Path) -> None:
    states = [state for _, state in broker_states(tmp_path)]
    line = timeline.build("activemq-pod", states, events("broker-events.json"), NOW, gone=True)
    assert line.containers == ("activemq", "broker-log") and line.node == "ntk-local"
    assert kinds(line, "activemq") == ["image", "created", "started", "probe-failed", "probe-failed", "SIGTERM", "exit"]
    assert kinds(line, "broker-log") == ["image", "created", "started", "SIGTERM", "exit"]
    assert kinds(line, timeline.POD) == ["scheduled", "ready", "delete", "not-ready"]
    at = {(m.lane, m.kind): m for m in line.marks}
    assert at[("pod", "scheduled")].seconds == pytest.approx(0.052131)
    assert (at[("activemq", "started")].seconds, at[("pod", "ready")].seconds) == (1, 13)
    assert at[("pod", "delete")] == timeline.Mark(90, "pod", "delete", "graceful, SIGKILL after 30 s")
    assert at[("activemq", "exit")] == timeline.Mark(91, "activemq", "exit", "exit 143 (SIGTERM)")
    assert at[("broker-log", "exit")].detail == "exit 0"
    # The earlier pod of the same name (another uid) and the other pod's events are left out.
    assert [m.seconds for m in line.marks if m.kind == "SIGTERM"] == [90, 90]
    assert line.runs == (timeline.Run("activemq", 1, 91, 143), timeline.Run("broker-log", 2, 90, 0))
    assert line.notes == ()


def test_the_table_lists_each_mark_with_its_time_lane_and_kind(tmp_path: Path) -> None:
    states = [state for _, state in broker_states(tmp_path)]
    text = timeline.table(timeline.build("activemq-pod", states, events("broker-events.json"), NOW, gone=True))
    assert text.splitlines()[0].startswith("activemq-pod in news-ci (uid 7f3c1a2e), on ntk-local, created 2026-11-29 03:40:00 UTC")
    rows = [re.match(r"^\s+([+-]\d+\.\d)s\s+(\S+)\s+(\S+)", row).groups() for row in text.splitlines()[1:]]
    assert rows[0] == ("+0.1", "pod", "scheduled")
    assert ("+90.0", "activemq", "SIGTERM") in rows and rows[-1] == ("+91.0", "activemq", "exit")
    assert "Readiness probe failed: dial tcp 10.244.0.12:61613: connect: connection refused (first of 2)" in text


def test_a_restarted_container_shows_both_runs_and_the_first_exit() -> None:
    pod = json.loads((FIXTURES / "api-restarted-pod.json").read_text())
    line = timeline.build("newsapi-pod", [pod], events("api-events.json"), NOW)
    assert line.runs == (timeline.Run("newsapi", 1, 63, 0), timeline.Run("newsapi", 64, None, None))
    assert kinds(line, "newsapi") == ["image", "created", "started", "exit", "image", "created", "started"]
    assert kinds(line, "pod") == ["scheduled", "ready"]
    assert line.until == 120  # a running container's bar ends now


def test_a_pod_already_gone_is_told_from_its_events_and_says_what_is_missing() -> None:
    line = timeline.build("activemq-pod", [], events("broker-events.json"), NOW)
    assert line.uid.startswith("7f3c1a2e") and line.created is None
    assert kinds(line, "activemq")[-1] == "SIGTERM" and "exit" not in kinds(line, "activemq")
    assert "no readiness, no exit codes" in line.notes[0]
    with pytest.raises(SetupError, match="no pod 'nope'"):
        timeline.build("nope", [], events("broker-events.json"), NOW)


def test_exit_codes_above_128_name_the_signal() -> None:
    assert timeline.exit_text(137, "Error") == "exit 137 (SIGKILL) (Error)"
    assert timeline.exit_text(0) == "exit 0" and timeline.exit_text(None) == "exit code unknown"


@pytest.fixture(scope="module")
def matplotlib_imported() -> None:
    """matplotlib takes a second to import, once per process: not the chart's own time."""
    import matplotlib.figure  # noqa: F401


@pytest.mark.usefixtures("matplotlib_imported")
def test_the_chart_is_svg_with_one_lane_per_container_and_the_delete_marked(tmp_path: Path) -> None:
    states = [state for _, state in broker_states(tmp_path)]
    line = timeline.build("activemq-pod", states, events("broker-events.json"), NOW, gone=True)
    timeline.chart(line, tmp_path / "broker.svg")
    root = ElementTree.parse(tmp_path / "broker.svg").getroot()
    assert root.tag == f"{SVG}svg"
    ids = {element.get("id") for element in root.iter() if element.get("id")}
    assert {i for i in ids if i.startswith("lane-")} == {"lane-activemq", "lane-broker-log"}
    assert {"mark-SIGTERM-activemq", "mark-exit-broker-log", "pod-ready", "pod-delete"} <= ids
    texts = {"".join(element.itertext()) for element in root.iter(f"{SVG}text")}
    assert {"activemq", "broker-log", "exit 143", "SIGTERM"} <= texts
