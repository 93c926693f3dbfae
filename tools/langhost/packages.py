"""The resource plugins a program needs, read from the Pulumi packages installed in its Python.

As upstream does: every installed distribution that ships `<module>/pulumi-plugin.json` or whose
name starts with `pulumi-`/`pulumi_` is a Pulumi package; its plugin is named and versioned by
that file (`{"resource": true, "name": "kubernetes", "version": "4.25.0"}`), else by the package
name and version; `"resource": false` means no plugin. The engine gets each as a resource
package with a `v`-prefixed version, so it can check the plugin is installed before the program
runs and pin the default provider to the SDK's version.
"""
from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tools.langhost.interpreter import Interpreter

#: Pulumi packages upstream knows to have no plugin.
WITHOUT_PLUGIN = frozenset({"pulumi-policy", "pulumi_policy", "pulumi-esc-sdk", "pulumi_esc_sdk"})

# Runs in the program's Python: every installed distribution as [name, version, location].
_LIST_DISTRIBUTIONS = """\
import importlib.metadata as m, json
print(json.dumps([[d.metadata["Name"], d.version, str(d.locate_file(""))]
                  for d in m.distributions() if d.metadata["Name"]]))
"""


@dataclass(frozen=True)
class Distribution:
    name: str
    version: str
    location: Path
    """The directory holding the distribution's top-level modules (site-packages)."""


@dataclass(frozen=True)
class RequiredPlugin:
    name: str
    version: str
    server: str = ""


def installed_distributions(interpreter: Interpreter) -> list[Distribution]:
    """What the program's Python has installed."""
    done = subprocess.run([str(interpreter.python), "-c", _LIST_DISTRIBUTIONS], env=interpreter.env,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise RuntimeError(f"listing the packages of {interpreter.python} failed: {done.stderr.strip()}")
    return [Distribution(name, version, Path(location)) for name, version, location in json.loads(done.stdout)]


def required_plugins(distributions: list[Distribution]) -> list[RequiredPlugin]:
    """The resource plugins of the Pulumi packages among `distributions`, sorted by name."""
    found = {}
    for dist in distributions:
        if dist.name in WITHOUT_PLUGIN:
            continue
        manifest = _plugin_manifest(dist)
        if manifest is None and not dist.name.startswith(("pulumi-", "pulumi_")):
            continue
        manifest = manifest or {}
        if manifest.get("resource", True) is False:
            continue
        version = manifest.get("version") or plugin_version(dist.version)
        if version is None:
            continue
        name = manifest.get("name") or dist.name.removeprefix("pulumi-")
        found[name] = RequiredPlugin(name, version if version.startswith("v") else f"v{version}",
                                     manifest.get("server", ""))
    return [found[name] for name in sorted(found)]


def _plugin_manifest(dist: Distribution) -> dict | None:
    path = dist.location / dist.name.replace("-", "_") / "pulumi-plugin.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


_PEP440 = re.compile(r"^(?P<release>\d+(?:\.\d+)*)(?:(?P<pre>a|b|rc)(?P<pre_n>\d+))?"
                     r"(?:\.post(?P<post>\d+))?(?:\.dev(?P<dev>\d+))?$")
_PRE = {"a": "alpha", "b": "beta", "rc": "rc"}


def plugin_version(package_version: str) -> str | None:
    """The plugin's semver for a package's PEP 440 version (`1.2` -> `1.2.0`, `1.2.3a4` ->
    `1.2.3-alpha.4`, `.postN`/`.devN` as build metadata), None where no semver follows (epochs,
    local versions)."""
    match = _PEP440.match(package_version)
    if match is None:
        return None
    release = (match["release"].split(".") + ["0", "0"])[:max(3, match["release"].count(".") + 1)]
    version = ".".join(release)
    if match["pre"]:
        version += f"-{_PRE[match['pre']]}.{match['pre_n']}"
    build = "".join(f"{tag}{match[tag]}" for tag in ("post", "dev") if match[tag])
    return f"{version}+{build}" if build else version
