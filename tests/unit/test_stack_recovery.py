"""Recovering from interrupted stack operations, without an engine: which locks are stale, which
pending operations may be cleared, which processes are orphans, and how stuck pods are told."""
from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tools import engine_processes, engine_signals, pending_operations, stack_locks, stuck_pods
from tools.errors import SetupError
from tools.proc import environ_value

ME = pwd.getpwuid(os.getuid()).pw_name


def write_lock(backend: Path, pid: int, *, host: str | None = None, user: str = ME,
               taken: datetime | None = None) -> Path:
    directory = stack_locks.lock_dir(backend, "news-tracker", "ci")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"lock-{pid}.json"
    stamp = (taken or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%S.123456789Z")
    path.write_text(json.dumps({"pid": pid, "username": user, "hostname": host or socket.gethostname(),
                                "timestamp": stamp}))
    path.with_name(path.name + ".attrs").write_text("{}")
    return path


@pytest.fixture
def fake_cli(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A live process whose executable is called `pulumi` (a copy of sleep)."""
    binary = tmp_path / "bin" / "pulumi"
    binary.parent.mkdir()
    shutil.copy("/bin/sleep", binary)
    process = subprocess.Popen([str(binary), "60"])
    yield process
    process.kill()
    process.wait()


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_a_lock_whose_process_is_gone_is_stale_and_cleared_with_its_attrs(tmp_path: Path) -> None:
    path = write_lock(tmp_path, dead_pid())
    cleared = stack_locks.clear_stale(tmp_path, "news-tracker", "ci")
    assert [lock.path for lock in cleared] == [path]
    assert list(path.parent.iterdir()) == []


def test_a_lock_of_a_live_cli_stays(tmp_path: Path, fake_cli: subprocess.Popen[bytes]) -> None:
    write_lock(tmp_path, fake_cli.pid, taken=datetime.now(timezone.utc) + timedelta(seconds=1))
    assert stack_locks.clear_stale(tmp_path, "news-tracker", "ci") == []
    assert len(stack_locks.locks(tmp_path, "news-tracker", "ci")) == 1


def test_a_lock_whose_pid_now_belongs_to_another_program_or_a_later_process_is_stale(
        tmp_path: Path, fake_cli: subprocess.Popen[bytes]) -> None:
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        write_lock(tmp_path, bystander.pid)  # alive, but not a pulumi CLI
        write_lock(tmp_path, fake_cli.pid, taken=datetime.now(timezone.utc) - timedelta(hours=1))  # reused pid
        assert len(stack_locks.clear_stale(tmp_path, "news-tracker", "ci")) == 2
    finally:
        bystander.kill()
        bystander.wait()


def test_a_lock_of_another_host_or_user_is_never_touched(tmp_path: Path) -> None:
    write_lock(tmp_path, dead_pid(), host="elsewhere")
    write_lock(tmp_path, dead_pid(), user="someone-else")
    assert stack_locks.clear_stale(tmp_path, "news-tracker", "ci") == []


def test_an_unreadable_lock_is_named_not_guessed_about(tmp_path: Path) -> None:
    directory = stack_locks.lock_dir(tmp_path, "news-tracker", "ci")
    directory.mkdir(parents=True)
    (directory / "broken.json").write_text("{")
    with pytest.raises(SetupError, match="cannot read the stack lock .*broken.json"):
        stack_locks.clear_stale(tmp_path, "news-tracker", "ci")


def creating(type_: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"type": "creating", "resource": {"urn": f"urn:pulumi:ci::news-tracker::{type_}::thing",
                                             "type": type_, "inputs": inputs}}


def test_pending_creates_of_named_objects_and_providers_may_be_cleared() -> None:
    operations = pending_operations.pending({"pending_operations": [
        creating("kubernetes:core/v1:Pod", {"metadata": {"name": "news-api-pod"}}),
        creating("pulumi:providers:kubernetes", {}),
        {"type": "updating", "resource": {"urn": "urn:x::y", "type": "kubernetes:core/v1:Service"}},
    ]})
    assert len(operations) == 3
    pending_operations.check_safe_to_clear(operations)
    assert pending_operations.pending({"resources": []}) == []


def test_a_pending_create_of_an_auto_named_object_stops_with_the_way_out() -> None:
    with pytest.raises(SetupError, match="auto-named objects.*--import-pending-creates"):
        pending_operations.check_safe_to_clear([creating("kubernetes:core/v1:ConfigMap", {"metadata": {}})])


def marked_sleeper(owner: str) -> subprocess.Popen[bytes]:
    """A process carrying `owner`'s marker, returned once it runs with it (after its exec). It
    ends on SIGINT, as the CLI does, also when started with SIGINT ignored (a CI from a background
    job: otherwise each stop waited out the CLI's grace period for the SIGKILL)."""
    process = subprocess.Popen([sys.executable, "-c", "import signal, time; "
                                "signal.signal(signal.SIGINT, signal.default_int_handler); time.sleep(60)"],
                               env={**os.environ, engine_processes.OWNER_ENV: owner})
    while environ_value(process.pid, engine_processes.OWNER_ENV) != owner:
        time.sleep(0.01)
    return process


def test_engine_processes_of_a_task_that_is_gone_are_reaped_and_a_live_tasks_are_not() -> None:
    orphan = marked_sleeper(f"{dead_pid()}:1")
    mine = marked_sleeper(engine_processes.owner_id())
    try:
        engine_processes.reap_orphans()
        assert orphan.wait(timeout=20) is not None
        assert mine.poll() is None
        engine_processes.stop_run(engine_processes.owner_id())
        assert mine.wait(timeout=20) is not None
    finally:
        for process in (orphan, mine):
            process.kill()
            process.wait()


def node(name: str, ready: str, reason: str = "", message: str = "") -> dict[str, Any]:
    return {"metadata": {"name": name},
            "status": {"conditions": [{"type": "Ready", "status": ready, "reason": reason, "message": message}]}}


def pod(name: str, node_name: str, waiting: dict[str, str] | None = None) -> dict[str, Any]:
    statuses = [{"state": {"waiting": waiting}}] if waiting else []
    return {"metadata": {"name": name}, "spec": {"nodeName": node_name},
            "status": {"phase": "Pending", "containerStatuses": statuses,
                       "conditions": [{"type": "Ready", "status": "False"}]}}


def test_stuck_pods_name_the_notready_node_the_missing_image_and_each_fix() -> None:
    lines = stuck_pods.describe(
        [node("news-tracker", "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.")],
        [pod("news-api-pod", "news-tracker"),
         pod("activemq-pod", "news-tracker", {"reason": "ErrImageNeverPull",
                                              "message": 'Container image "x:1" is not present'})],
        [])
    assert lines == [
        "node news-tracker is NotReady (NodeStatusUnknown: Kubelet stopped posting node status.): "
        "run `invoke cluster.up`",
        "pod news-api-pod: waits for node news-tracker, which is NotReady: run `invoke cluster.up`",
        'pod activemq-pod: ErrImageNeverPull: Container image "x:1" is not present: run `invoke images.load`',
    ]


def test_a_ready_cluster_has_nothing_to_explain() -> None:
    ready_pod = pod("news-api-pod", "n")
    ready_pod["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
    assert stuck_pods.describe([node("n", "True")], [ready_pod], []) == []


#: The task's wait for the CLI's own "cancelling" line before it forwards a signal, shortened
#: from engine_signals' 1 s so that the stand-in need not listen for long.
FORWARD_AFTER_SECONDS = 0.1
#: How long the stand-in listens for a SIGINT that must not come (a first one where none is
#: expected, a second after the first): well past the forwarding delay, so a wrong forward is seen.
QUIET_SECONDS = FORWARD_AFTER_SECONDS + 0.3

CLI_STANDIN = """
import signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGINT])  # left pending for sigtimedwait
first_within, quiet = float(sys.argv[1]), float(sys.argv[2])
print("ready", flush=True)
got = []
while signal.sigtimedwait([signal.SIGINT], quiet if got else first_within) is not None:
    got.append("SIGINT")
print(" ".join(got) or "none", flush=True)
"""


@pytest.fixture
def quick_forward(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_signals, "FORWARD_AFTER_SECONDS", FORWARD_AFTER_SECONDS)


def cli_standin(owner: str, first_within: float) -> subprocess.Popen[str]:
    """A child that stands in for the Pulumi CLI: it records the SIGINTs it gets and reports them
    QUIET_SECONDS after the last one, or "none" if none came within `first_within` seconds."""
    cli = subprocess.Popen([sys.executable, "-c", CLI_STANDIN, str(first_within), str(QUIET_SECONDS)],
                           stdout=subprocess.PIPE, text=True,
                           env={**os.environ, engine_processes.OWNER_ENV: owner})
    assert cli.stdout is not None and cli.stdout.readline() == "ready\n"
    return cli


@pytest.mark.usefixtures("quick_forward")
def test_sigterm_to_the_task_alone_is_passed_to_the_engine_as_one_sigint() -> None:
    owner = engine_processes.owner_id()
    with engine_signals.stopping_cleanly(owner) as interruption:
        cli = cli_standin(owner, first_within=30)
        os.kill(os.getpid(), signal.SIGTERM)  # the task survives: the handler only records it
        assert cli.stdout is not None and cli.stdout.readline() == "SIGINT\n"
    cli.wait()
    assert interruption.received == ["SIGTERM"]


@pytest.mark.usefixtures("quick_forward")
def test_no_signal_is_forwarded_when_the_engine_got_it_itself() -> None:
    owner = engine_processes.owner_id()
    with engine_signals.stopping_cleanly(owner) as interruption:
        cli = cli_standin(owner, first_within=QUIET_SECONDS)
        interruption.watch_output(lambda line: None)("^C received; cancelling. If you would like ...")
        os.kill(os.getpid(), signal.SIGINT)
        assert cli.stdout is not None and cli.stdout.readline() == "none\n"
    cli.wait()
    assert interruption.received == ["SIGINT"]
