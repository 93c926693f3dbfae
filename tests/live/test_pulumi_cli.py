"""The plain `pulumi` command from a terminal, against the live cluster.

Each command runs in a shell with the environment the README documents for terminal use
(`eval "$(invoke env)"`), the way a user types it: `pulumi config set --secret`, `pulumi preview`,
`pulumi up --yes`, `pulumi stack output --json`, a preview with a config error, and `pulumi
destroy --yes`. Where no upstream `pulumi-language-python` exists (the project's machines and
CI), the CLI runs __main__.py through the project's own language host (tools/langhost), and its
log shows each run. The pods and outputs are checked as test_post.py checks the tasks'.

It works on a stack of its own, `terminal` (Pulumi.terminal.yaml: namespace news-terminal), so
it leaves the ci stack's pods alone and runs inside test_post.py's steady-state window
(conftest.py); it deploys that stack once and leaves it destroyed whatever happened.
"""
from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.live.tasks_runner import invoke
from tools.kube import Kubectl
from tools.langhost.host import log_file
from tools.langhost.install import find_upstream
from tools.paths import REPO
from tools.target import cluster_target

pytestmark = pytest.mark.live

ROLES = ("broker", "job", "api")
STACK = "terminal"


class Terminal:
    """A shell with the project's documented exports, as a user's terminal after
    `eval "$(invoke env)"`."""

    def __init__(self) -> None:
        self.exports = invoke("env", stack=STACK).stdout
        self.env = dict(shlex.split(line.removeprefix("export "))[0].split("=", 1)
                        for line in self.exports.splitlines() if line.startswith("export "))

    def pulumi(self, *args: str, check: bool = True, timeout: float = 900,
               stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """`pulumi ARGS`; `stdin`, if given, is piped in, as `printf '%s' "$value" | pulumi ...`."""
        script = f'{self.exports}\nexec pulumi "$@"'
        done = subprocess.run(["bash", "-c", script, "pulumi", *args, "--non-interactive"], cwd=REPO,
                              input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "INVOKE_NEWS_TRACKER_STACK": STACK})
        if check and done.returncode != 0:
            raise AssertionError(f"pulumi {' '.join(args)} exited {done.returncode}\n"
                                 f"--- stdout\n{done.stdout[-5000:]}\n--- stderr\n{done.stderr[-3000:]}")
        return done

    def host_log(self) -> str:
        path = log_file({"PULUMI_HOME": self.env["PULUMI_HOME"]})
        return path.read_text() if path.exists() else ""

    def uses_our_host(self) -> bool:
        """No upstream host on this terminal's PATH or beside its pulumi: the CLI must use ours."""
        path = self.env["PATH"]
        pulumi = shutil.which("pulumi", path=path)
        return find_upstream(Path(pulumi) if pulumi else None, path) is None


@pytest.fixture(scope="module")
def terminal() -> Iterator[Terminal]:
    """The terminal; afterwards its stack destroyed, by `pulumi destroy` or else by the task."""
    shell = Terminal()
    yield shell
    if shell.pulumi("destroy", "--yes", "--stack", STACK, check=False).returncode != 0:
        invoke("down", check=False, stack=STACK)


#: The broker's login Secrets and the stack secrets their passwords come from.
LOGIN_SECRETS = {"activemq-admin": "brokerPassword", "activemq-publisher": "brokerPublisherPassword",
                 "activemq-consumer": "brokerConsumerPassword"}


@pytest.fixture(scope="module")
def broker_passwords(terminal: Terminal) -> dict[str, str]:
    """Fresh stack secrets (Secret name -> password), piped into `pulumi config set --secret` on an
    existing stack, as the README tells a user without invoke to do (never on the command line,
    where a value starting with '-' also reads as a flag)."""
    stacks = json.loads(terminal.pulumi("stack", "ls", "--json").stdout)
    if STACK not in {stack["name"] for stack in stacks}:
        terminal.pulumi("stack", "init", STACK)
    # token_urlsafe may start a value with '-' (CI once drew one); the admin's always does here.
    passwords = {name: secrets.token_urlsafe(18) for name in LOGIN_SECRETS}
    passwords["activemq-admin"] = f"-{passwords['activemq-admin']}"
    for name, key in LOGIN_SECRETS.items():
        terminal.pulumi("config", "set", "--secret", f"news-tracker:{key}", "--stack", STACK, stdin=passwords[name])
    config = (REPO / f"Pulumi.{STACK}.yaml").read_text()
    assert not [name for name, password in passwords.items() if password in config]
    return passwords


def runs_logged(terminal: Terminal, before: str, dry_run: bool) -> int:
    """How many runs of the stack our host logged since the log read `before`."""
    new = terminal.host_log()[len(before):]
    return len(re.findall(rf"run stack={STACK} dry_run={dry_run} ", new))


def outputs(terminal: Terminal) -> dict[str, Any]:
    return json.loads(terminal.pulumi("stack", "output", "--json", "--stack", STACK).stdout)


def ready(pod: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))


def test_1_preview_runs_the_program_through_the_projects_host(
        terminal: Terminal, broker_passwords: dict[str, str]) -> None:
    before = terminal.host_log()
    done = terminal.pulumi("preview", "--stack", STACK)
    # A new stack: everything is to create; on one left deployed, the new secrets replace the
    # login Secrets and every pod that reads them.
    assert re.search(r"^Resources:\n\s+(\+ \d+ to create|\+-\d+ to replace)$", done.stdout, re.M), done.stdout[-3000:]
    assert " error" not in done.stdout, done.stdout[-3000:]
    if terminal.uses_our_host():
        assert runs_logged(terminal, before, dry_run=True) == 1, terminal.host_log()[len(before):]


def test_2_up_deploys_every_pod_ready_with_the_outputs_and_secret_the_tasks_see(
        terminal: Terminal, broker_passwords: dict[str, str]) -> None:
    before = terminal.host_log()
    terminal.pulumi("up", "--yes", "--stack", STACK)
    if terminal.uses_our_host():
        assert runs_logged(terminal, before, dry_run=False) == 1, terminal.host_log()[len(before):]
    values = outputs(terminal)
    assert values == json.loads(invoke("outputs", stack=STACK).stdout)
    cluster = Kubectl(cluster_target(STACK), values["namespace"])
    namespace = cluster.json("get", "namespace", values["namespace"])
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    pods = {pod["metadata"]["name"]: pod for pod in cluster.json("get", "pods")["items"]}
    assert set(pods) == {values["pods"][role]["name"] for role in ROLES}
    for role in ROLES:
        pod = pods[values["pods"][role]["name"]]
        assert ready(pod), role
        assert pod["status"]["podIP"] == values["pods"][role]["ip"], role
    for name, password in broker_passwords.items():
        secret = cluster.json("get", "secret", name)
        # A bool, so that a failure names the Secret without printing either password.
        matches = base64.b64decode(secret["data"]["password"]).decode() == password
        assert matches, f"Secret {name} does not hold the password set for it"
    again = terminal.pulumi("up", "--yes", "--stack", STACK)
    assert re.search(r"^\s+\d+ unchanged$", again.stdout, re.M) and " created" not in again.stdout, again.stdout[-2000:]


def test_3_a_config_error_shows_its_message_without_a_traceback(terminal: Terminal, tmp_path: Path) -> None:
    config = yaml.safe_load((REPO / f"Pulumi.{STACK}.yaml").read_text())
    config["config"]["news-tracker:api"] = {"port": 70000}
    bad = tmp_path / "Pulumi.ci.yaml"
    bad.write_text(yaml.safe_dump(config))
    done = terminal.pulumi("preview", "--stack", STACK, "--config-file", str(bad), check=False)
    assert done.returncode != 0
    assert "news-tracker:api.port: port 70000 is out of range (1-65535)" in done.stdout, done.stdout[-3000:]
    assert "Traceback" not in done.stdout + done.stderr


def test_4_destroy_removes_everything_the_stack_made(terminal: Terminal) -> None:
    namespace = outputs(terminal).get("namespace")
    assert namespace, "the stack has no outputs: nothing was deployed (see test_2)"
    terminal.pulumi("destroy", "--yes", "--stack", STACK)
    assert outputs(terminal) == {}
    labelled = Kubectl(cluster_target(STACK), namespace).json(
        "get", "all,configmaps,secrets,pvc,namespaces", "--all-namespaces",
        "-l", "app.kubernetes.io/part-of=news-tracker")["items"]
    # Only this stack's objects: others (ci, dev) may be deployed on the same cluster.
    left = [o for o in labelled if namespace in (o["metadata"].get("namespace"), o["metadata"]["name"])]
    assert [f"{o['kind']}/{o['metadata']['name']}" for o in left] == []
