"""A buildable source tree of the Kubernetes provider, made from its Go module.

The provider's main package embeds schema-embed.json and terraform-mapping-embed.json, which
upstream generates (`go generate`) and git-ignores, so the module zip lacks them. Its go.mod also
replaces sdk/v4 with a sibling directory that is not in the zip. So the module is copied out of
the module cache, its go.mod/go.sum swapped for the pinned ones beside this file (upstream's,
with that replace dropped and sdk/v4 required at the same release), and the embedded files
generated the way upstream's generate.go does: the JSON minified, the schema stamped with the
provider version.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from tools.gobuild import copy_module_source
from tools.toolchain.pins import (
    KUBERNETES_PROVIDER_MODULE,
    KUBERNETES_PROVIDER_SOURCE,
    KUBERNETES_PROVIDER_VERSION,
)

PINNED_MODULE_DIR: Path = Path(__file__).resolve().parent / "kubernetes"
MAIN_PACKAGE = "./cmd/pulumi-resource-kubernetes"


def prepare_provider_source(dest: Path) -> Path:
    """Make `dest` a provider source tree that `go build` accepts; return it."""
    source = copy_module_source(KUBERNETES_PROVIDER_MODULE, KUBERNETES_PROVIDER_SOURCE, dest)
    for pinned in ("go.mod", "go.sum"):
        shutil.copyfile(PINNED_MODULE_DIR / pinned, source / pinned)
    write_embedded_files(source / MAIN_PACKAGE, KUBERNETES_PROVIDER_VERSION)
    return source


def write_embedded_files(main_dir: Path, version: str) -> None:
    """Write the two files the provider's main package embeds, from their checked-in sources."""
    schema = json.loads((main_dir / "schema.json").read_text(encoding="utf-8"))
    schema["version"] = version
    _write_minified(main_dir / "schema-embed.json", schema)
    mapping = json.loads((main_dir / "terraform-mapping.json").read_text(encoding="utf-8"))
    _write_minified(main_dir / "terraform-mapping-embed.json", mapping)


def _write_minified(path: Path, document: object) -> None:
    path.write_text(json.dumps(document, separators=(",", ":"), ensure_ascii=False), encoding="utf-8")
