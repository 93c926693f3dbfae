"""The Dockerfiles for users with Docker describe the same containers as the offline builder."""
from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from tools.images.catalog import definitions
from tools.paths import REPO


def stages(dockerfile: Path) -> dict[str, dict[str, str]]:
    """Each stage's instructions (the last of each kind, inherited from a `FROM <stage>`)."""
    text = dockerfile.read_text().replace("\\\n", " ")
    parsed: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        instruction, _, argument = line.strip().partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            words = argument.split()
            current = dict(parsed.get(words[0], {}))
            parsed[words[-1]] = current  # FROM <image or stage> AS <name>
        elif instruction == "ENV":
            env = dict(pair.split("=", 1) for pair in shlex.split(argument))
            current["ENV"] = json.dumps({**json.loads(current.get("ENV", "{}")), **env})
        else:
            current[instruction] = argument.strip()
    return parsed


def offline(name: str) -> dict[str, object]:
    return definitions()[name].config.to_json()


@pytest.mark.parametrize("name, dockerfile, stage", [
    ("news-job", "apps/Dockerfile", "news-job"),
    ("news-api", "apps/Dockerfile", "news-api"),
    ("activemq", "images/activemq/Dockerfile", "activemq"),
])
def test_dockerfile_runs_what_the_offline_image_runs(name: str, dockerfile: str, stage: str) -> None:
    final = stages(REPO / dockerfile)[stage]
    config = offline(name)
    assert json.loads(final["ENTRYPOINT"]) == config["Entrypoint"]
    assert final["USER"] == config["User"]
    assert final["WORKDIR"] == config["WorkingDir"]
    exposed = sorted(int(port) for port in final.get("EXPOSE", "").split())
    assert exposed == sorted(int(port.split("/")[0]) for port in config.get("ExposedPorts", {}))


@pytest.mark.parametrize("name", ["news-job", "news-api"])
def test_python_apps_get_the_same_environment(name: str) -> None:
    final = stages(REPO / "apps/Dockerfile")[name]
    offline_env = dict(item.split("=", 1) for item in offline(name)["Env"])
    offline_env.pop("PATH")  # each base image's own PATH finds its python3
    assert json.loads(final["ENV"]) == offline_env

