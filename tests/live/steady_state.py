"""Steady state as the live tests measure it, alongside other work: a window opens once the stack
is Ready and the broker holds the job's and the api's STOMP connections; at least WINDOW_SECONDS
later it closes. In between, other tests may use the stack as long as they do not disturb it
(no pod deleted or restarted). What it proves: no container logged a lost connection, a reconnect
or a heart-beat timeout, and the broker still holds the very same two connections."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from tests.broker_console import stomp_connections
from tests.live.pod_logs import logged_since
from tests.live.tasks_runner import outputs, port_forward, wait_for
from tests.news_apps import free_port

WINDOW_SECONDS = 180
#: The apps' lines that only churn writes (stomp.py, the Broker seam, retry, the job and the api);
#: in steady state neither app logs a warning or an error at all.
APP_CHURN = re.compile(r"heartbeat timeout|lost the connection|subscribing again|established connection"
                       r"|retrying in|publishing failed| WARNING | ERROR ")
#: The broker's (and its log sidecar's) line for a client connection that failed, e.g. one whose
#: heart-beats stopped ("Channel was inactive for too (>8000) long").
BROKER_CHURN = re.compile(r"Transport Connection to: \S+ failed|inactive for too")
#: The job and the api.
CLIENTS = 2


@dataclass(frozen=True)
class Window:
    started: datetime
    connections: frozenset[str]


def broker_connections(login: tuple[str, str]) -> frozenset[str]:
    """The broker's STOMP connections, from its console through `invoke port-forward`."""
    with port_forward("--ports", f"{free_port()}:8161") as port:
        return frozenset(stomp_connections(f"http://127.0.0.1:{port}", login))


def clients_connected(login: tuple[str, str]) -> frozenset[str]:
    """The broker's STOMP connections once the job and the api both hold one (the job may still
    be backing off when `up` returns: it starts together with the broker)."""
    def both() -> frozenset[str] | None:
        found = broker_connections(login)
        return found if len(found) == CLIENTS else None

    connections: frozenset[str] = wait_for(both, f"the broker to hold {CLIENTS} STOMP connections",
                                           timeout=120, interval=3)
    return connections


def open_window(login: tuple[str, str]) -> Window:
    connections = clients_connected(login)
    # The API server reads --since-time to the second: start on a whole second, so no line from
    # before (the job's own connect) falls inside.
    now = datetime.now(timezone.utc)
    started = now.replace(microsecond=0) + timedelta(seconds=1)
    time.sleep((started - now).total_seconds())
    return Window(started, connections)


def churn_since(started: datetime) -> list[str]:
    """Every line that any container of the stack's pods logged since `started` and that only a
    lost, failed or new connection writes; each prefixed with pod/container."""
    found = []
    for role, pod in outputs()["pods"].items():
        pattern = BROKER_CHURN if role == "broker" else APP_CHURN
        for container in pod["containers"]:
            found += [f"{pod['name']}/{container}: {line}"
                      for _, line in logged_since(pod["name"], container, started) if pattern.search(line)]
    return found


def close_window(window: Window, login: tuple[str, str]) -> tuple[float, list[str], frozenset[str]]:
    """Wait until the window is WINDOW_SECONDS long, then: its length, the churn lines in it, and
    the broker's STOMP connections at its end."""
    elapsed = lambda: (datetime.now(timezone.utc) - window.started).total_seconds()  # noqa: E731
    time.sleep(max(0.0, WINDOW_SECONDS - elapsed()))
    connections = broker_connections(login)
    return elapsed(), churn_since(window.started), connections
