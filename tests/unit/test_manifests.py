"""manifests/ and the components agree: the render stack's objects, as the program builds them
under mocks, are exactly the YAML files the engine wrote (`invoke manifests`)."""
from __future__ import annotations

from typing import Any

import yaml

from tests.unit.program_under_mocks import run_program
from tools.paths import REPO

MANIFESTS = REPO / "manifests"


def rendered_files() -> dict[str, Any]:
    return {str(path.relative_to(MANIFESTS)): yaml.safe_load(path.read_text())
            for path in sorted(MANIFESTS.glob("**/*.yaml"))}


def expected_files() -> dict[str, Any]:
    """File name and content the provider writes for each object (its renderPathForResource)."""
    config = {key.split(":", 1)[1]: value for key, value in
              yaml.safe_load((REPO / "Pulumi.render.yaml").read_text())["config"].items()}
    run = run_program(config, stack="render")
    files = {}
    for resource in run.resources:
        obj = resource.inputs
        if not resource.type.startswith("kubernetes:") or "apiVersion" not in obj:
            continue  # components and the render provider are not Kubernetes objects
        namespace = obj["metadata"].get("namespace", "default")
        name = (f"1-manifest/{obj['apiVersion'].replace('/', '_')}-{obj['kind'].lower()}-"
                f"{namespace}-{obj['metadata']['name']}.yaml")
        files[name] = obj
    return files


def test_manifests_match_the_components() -> None:
    assert rendered_files() == expected_files()


def test_manifests_hold_no_secret() -> None:
    """No Secret object, and every credential env var is a reference to the Secret by name."""
    files = rendered_files()
    assert files, "manifests/ is empty: run `invoke manifests`"
    for name, obj in files.items():
        assert obj["kind"] != "Secret", name
        for container in obj.get("spec", {}).get("containers", []):
            for env in container.get("env", []):
                if "PASSWORD" in env["name"] or "KEY" in env["name"]:
                    assert "value" not in env and "secretKeyRef" in env["valueFrom"], (name, env)
