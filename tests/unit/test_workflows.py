"""The GitHub workflows: clean under actionlint and zizmor (both run offline, from
requirements-dev.txt), every command they run exists in the project, and the Pulumi CLI they
install is the version the toolchain would otherwise build."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import yaml

from tools.paths import REPO
from tools.toolchain.pins import PULUMI_VERSION

GITHUB = REPO / ".github"
VENV_BIN = Path(sys.executable).parent
INVOKE = re.compile(r"(?:^|[\s/])invoke\s+(?:-\S+\s+)*([\w.-]+)")
SCRIPT = re.compile(r"(?:^|\s)(\./[\w./-]+)")


def steps() -> Iterator[dict]:
    """Every step of every workflow job and of every composite action."""
    for path in sorted(GITHUB.glob("workflows/*.yml")):
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            yield from job["steps"]
    for path in sorted(GITHUB.glob("actions/*/action.yml")):
        yield from yaml.safe_load(path.read_text())["runs"]["steps"]


def task_names() -> set[str]:
    listing = json.loads(subprocess.run(
        [sys.executable, "-m", "invoke", "--list", "--list-format", "json"],
        cwd=REPO, capture_output=True, text=True, check=True).stdout)
    names = {t["name"] for t in listing["tasks"]}
    return names | {f"{sub['name']}.{t['name']}" for sub in listing["collections"] for t in sub["tasks"]}


def test_actionlint_finds_nothing() -> None:
    result = subprocess.run([VENV_BIN / "actionlint"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing() -> None:
    result = subprocess.run([VENV_BIN / "zizmor", "--offline", "--min-severity", "low", ".github"],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_invoke_task_and_script_the_workflows_run_exists() -> None:
    runs = [step["run"] for step in steps() if "run" in step]
    tasks = {task for run in runs for task in INVOKE.findall(run)}
    scripts = {script for run in runs for script in SCRIPT.findall(run)}
    assert tasks and scripts, "the pattern no longer matches how the workflows run commands"
    assert tasks <= task_names(), f"unknown tasks: {tasks - task_names()}"
    missing = [s for s in scripts if not (REPO / s).is_file() or not (REPO / s).stat().st_mode & 0o111]
    assert not missing, f"scripts missing or not executable: {missing}"


def test_every_local_action_the_workflows_use_exists() -> None:
    local = [step["uses"].removeprefix("$/") for step in steps() if step.get("uses", "").startswith("$/")]
    assert local and all((REPO / path / "action.yml").is_file() for path in local)


def test_workflows_install_the_pulumi_cli_the_toolchain_pins() -> None:
    installs = [step for step in steps() if step.get("uses", "").startswith("pulumi/actions@")
                and "command" not in step.get("with", {})]
    assert [step["with"]["pulumi-version"] for step in installs] == [PULUMI_VERSION]
