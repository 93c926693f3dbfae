"""The one place that knows how the Pulumi engine runs for this project.

Tasks, tests and CI all go through here: a local file backend under the state directory, the
passphrase secrets provider, no update check, no automatic plugin downloads (a missing plugin is
an error, not a download attempt), the toolchain's bin directory first on PATH, and the cluster
target (kubeconfig, context) read from the stack's config file.

The Python language host is not served by the Go module proxy, so the program (__main__.py) runs
as an Automation API inline program: the same file `pulumi up` would run, executed in-process.
"""
from __future__ import annotations

import contextlib
import os
import runpy
import secrets
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ContextManager

from pulumi import automation as auto
# Stack.select/create_or_select always build a plain Stack: _Stack is built with its constructor.
from pulumi.automation._stack import StackInitMode
from semver import VersionInfo

from settings import GENERATED_SECRETS, PROJECT, Settings
from tools import gobuild, stuck_pods, toolchain
from tools.engine_signals import Interruption
from tools.errors import SetupError
from tools.inline_errors import reported_once
from tools.kube import Kubectl, require_reachable
from tools import file_backend, outputs_cache
from tools.paths import PULUMI_STATE, REPO
from tools.stack_guard import guarded
from tools.stack_secrets import set_secret
from tools.target import cluster_target, stack_config
from tools.wait_watch import remove_pods_missing_images, stopping_hopeless_waits

PASSPHRASE_FILE = PULUMI_STATE / "passphrase"
#: Where the engine keeps plugins for this project (the provider is installed here by the toolchain).
PULUMI_HOME = PULUMI_STATE / "home"


def renders_only(stack: str) -> bool:
    """A render stack applies nothing and holds no secret."""
    return "news-tracker:renderDirectory" in stack_config(stack)


def _passphrase_env(stack: str) -> dict[str, str]:
    """The user's passphrase if set, else one generated once for this state directory.

    A render stack holds no secret, so it uses the empty passphrase: its encryption salt is
    committed and stays the same in every clone.
    """
    if renders_only(stack):
        return {"PULUMI_CONFIG_PASSPHRASE": ""}
    if "PULUMI_CONFIG_PASSPHRASE" in os.environ or "PULUMI_CONFIG_PASSPHRASE_FILE" in os.environ:
        return {}
    if not PASSPHRASE_FILE.exists():
        PASSPHRASE_FILE.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(PASSPHRASE_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(32))
    return {"PULUMI_CONFIG_PASSPHRASE_FILE": str(PASSPHRASE_FILE)}


def toolchain_bin() -> Path:
    """The toolchain's bin directory; never builds (that is `invoke toolchain`'s job)."""
    bin_dir = toolchain.lookup_toolchain(PULUMI_HOME)
    if bin_dir is None:
        raise SetupError("the Pulumi CLI and Kubernetes provider are not built yet: run "
                         "`invoke toolchain` (or ./setup.sh), which builds them from pinned sources")
    return bin_dir


class _PinnedPulumiCommand(auto.PulumiCommand):
    """The CLI this project built from its pinned sources: its version is the pin, so the SDK's
    check, which starts the CLI once more per operation only to ask (0.25 s of every stack
    task), is not run."""

    def __init__(self, root: Path) -> None:  # not super().__init__: it runs `pulumi version`
        self.command = str(root / "bin" / "pulumi")
        self.version = VersionInfo.parse(toolchain.PULUMI_VERSION)


def _pulumi_command(root: Path) -> auto.PulumiCommand:
    if root.resolve().is_relative_to(gobuild.BUILDS_DIR.resolve()):
        return _PinnedPulumiCommand(root)
    return auto.PulumiCommand(root=str(root))  # a CLI the user installed: the SDK checks its version


def engine_env(stack: str, backend: Path | None = None) -> dict[str, str]:
    """Environment for the Pulumi CLI and the provider it starts."""
    bin_dir = toolchain_bin()
    backend = backend or PULUMI_STATE / "backend"
    backend.mkdir(parents=True, exist_ok=True)
    target = cluster_target(stack)
    return {
        "PULUMI_BACKEND_URL": f"file://{backend}",
        "PULUMI_HOME": str(PULUMI_HOME),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        # Each directory once, the toolchain's first: `eval "$(invoke env)"` may run again and again.
        "PATH": os.pathsep.join(dict.fromkeys([str(bin_dir), *os.environ.get("PATH", "").split(os.pathsep)])),
        "KUBECONFIG": str(target.kubeconfig),
        **_passphrase_env(stack),
    }


def _run_program() -> None:
    """The inline program: __main__.py itself, exactly as `pulumi up` would run it."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    runpy.run_path(str(REPO / "__main__.py"), run_name="__main__")


class _Workspace(auto.LocalWorkspace):
    """A LocalWorkspace that reads from the file backend what the CLI would only read there too:
    whether the stack exists (every command names it with --stack, so `stack select` is not
    needed) and its outputs after an operation. See tools.file_backend."""

    @property
    def backend(self) -> Path:
        return Path(self.env_vars["PULUMI_BACKEND_URL"].removeprefix("file://"))

    def select_stack(self, stack_name: str) -> None:
        if file_backend.checkpoint(stack_name, self.backend) is None:
            super().select_stack(stack_name)

    def stack_outputs(self, stack_name: str) -> auto.OutputMap:
        values = file_backend.stack_outputs(stack_name, self.backend)
        if values is None:
            return super().stack_outputs(stack_name)
        return {key: auto.OutputValue(value, False) for key, value in values.items()}


class _Stack(auto.Stack):
    """A Stack whose summary of the last operation (what `up` returns) comes from the file
    backend's update record instead of a `pulumi stack history` run."""

    def info(self, show_secrets: bool = True) -> auto.UpdateSummary | None:
        record = file_backend.last_update(self.name, self.workspace.backend)
        if record is None:
            return super().info(show_secrets)
        return auto.UpdateSummary(
            kind=record["kind"], start_time=datetime.fromtimestamp(record["startTime"], timezone.utc),
            message=record.get("message", ""), environment=record.get("environment") or {}, config={},
            result=record["result"], version=record.get("version"),
            end_time=datetime.fromtimestamp(record["endTime"], timezone.utc) if "endTime" in record else None,
            resource_changes=record.get("resourceChanges"))


def open_stack(stack: str, backend: Path | None = None, create: bool = False) -> auto.Stack:
    """Select the stack; with `create`, make it (empty) on first use."""
    env = engine_env(stack, backend)
    workspace = _Workspace(
        work_dir=str(REPO), program=_run_program, env_vars=env,
        pulumi_home=env["PULUMI_HOME"],
        pulumi_command=_pulumi_command(toolchain_bin().parent))
    if create:
        return _Stack(stack, workspace, StackInitMode.CREATE_OR_SELECT)
    try:
        return _Stack(stack, workspace, StackInitMode.SELECT)
    except auto.StackNotFoundError:
        raise SetupError(f"stack {stack!r} was never deployed: run `invoke up` first") from None


def _with_secrets(stack: str, backend: Path | None = None) -> auto.Stack:
    """The stack, ready to run the program: a missing stack secret is generated as a Pulumi
    secret (random, encrypted in Pulumi.<stack>.yaml), never as a default value."""
    selected = open_stack(stack, backend, create=True)
    if not renders_only(stack):
        existing = stack_config(stack)  # read from the file: no CLI run, nothing decrypted
        for key in GENERATED_SECRETS:
            if f"{PROJECT}:{key}" not in existing:
                set_secret(selected, f"{PROJECT}:{key}", secrets.token_urlsafe(24))  # never in argv
    return selected


TASK_OF_OPERATION = {"up": "up", "preview": "preview", "destroy": "down", "refresh": "refresh"}


def _run(operation: Callable[..., Any], **kwargs: Any) -> Any:
    """Run a stack operation with the engine's output streamed, inside stack_guard (recovery
    first, clean stop on Ctrl-C, no process left), and its failure made readable."""
    selected: auto.Stack = operation.__self__  # type: ignore[attr-defined]
    task = TASK_OF_OPERATION.get(operation.__name__, operation.__name__)
    interruption = None
    try:
        with guarded(selected) as interruption, reported_once(), \
                _watching_waits(selected.name, interruption, pods_too=task != "down"):
            return operation(on_output=interruption.watch_output(print), color="never", **kwargs)
    except auto.CommandError as error:
        if interruption is not None and interruption.stopped_because:
            removed = remove_pods_missing_images(_stack_kubectl(selected.name), interruption.stopped_because)
            raise SetupError(
                f"pulumi {operation.__name__} stopped, with the stack's checkpoint saved and its lock "
                f"released, because it waited for what cannot happen by itself:\n"
                + "\n".join(f"  {line}" for line in interruption.stopped_because.splitlines())
                + "".join(f"\ndeleted pod {name}: in image pull back-off it would wait minutes for the "
                          "kubelet's next try; the next up creates it again" for name in removed)
                + f"\nthen run `invoke {task}` again") from None
        if interruption is not None and interruption.happened():
            raise SetupError(
                f"interrupted ({interruption.happened()}): the engine stopped, with the stack's "
                f"checkpoint saved and its lock released; run `invoke {task}` to continue") from None
        raise SetupError(f"pulumi {operation.__name__} failed; the engine's diagnostics are above"
                         f"{_unstreamed(error)}"
                         f"{_why_not_ready(selected.name)}") from None


def _stack_kubectl(stack: str) -> Kubectl:
    """kubectl for the stack's cluster and namespace."""
    namespace = stack_config(stack).get(f"{PROJECT}:namespace") or Settings().namespace
    return Kubectl(cluster_target(stack), namespace)


def _watching_waits(stack: str, interruption: Interruption, pods_too: bool) -> ContextManager[None]:
    """Stop the engine when it waits on a NotReady node or a missing image (see tools.wait_watch)."""
    if renders_only(stack):
        return contextlib.nullcontext()
    return stopping_hopeless_waits(_stack_kubectl(stack), interruption.stop, pods_too)


def _why_not_ready(stack: str) -> str:
    """What the cluster says about the stack's pods that are not Ready (empty when all are)."""
    if renders_only(stack):
        return ""
    lines = stuck_pods.explain(_stack_kubectl(stack))
    if not lines:
        return ""
    return (f"\nnot Ready in the cluster (each wait is bounded by {PROJECT}:readyTimeoutSeconds):\n"
            + "\n".join(f"  {line}" for line in lines.splitlines()))


def _unstreamed(error: auto.CommandError) -> str:
    """The last lines the CLI wrote to stderr (its stdout was streamed already, so repeating it
    would show every diagnostic twice), e.g. a lock or passphrase problem."""
    stderr = str(error).partition("\n stderr: ")[2].strip()
    return "\n" + "\n".join(stderr.splitlines()[-15:]) if stderr else ""


def _require_cluster(stack: str) -> bool:
    """Whether the stack talks to a cluster (a render stack does not); if so, that it answers."""
    if renders_only(stack):
        return False
    require_reachable(cluster_target(stack))
    return True


# The cluster is checked before the stack is touched, so a cluster that is down leaves no new
# stack or generated secret behind. Pods are ephemeral: one deleted by hand (`invoke delete-pod`)
# must be seen as gone, so operations read the cluster's live state first (refresh).

def up(stack: str, backend: Path | None = None) -> auto.UpResult:
    refresh_first = _require_cluster(stack)
    result = _run(_with_secrets(stack, backend).up, refresh=refresh_first)
    if backend is None:
        outputs_cache.save(stack, _plain(result.outputs))
    return result


def preview(stack: str) -> auto.PreviewResult:
    refresh_first = _require_cluster(stack)
    return _run(_with_secrets(stack).preview, refresh=refresh_first)


def destroy(stack: str) -> auto.DestroyResult:
    """No refresh first: deleting what is already gone (a pod deleted by hand) succeeds anyway,
    and a refresh would read every object once more before deleting it."""
    _require_cluster(stack)
    outputs_cache.forget(stack)
    return _run(open_stack(stack).destroy)


def refresh(stack: str) -> auto.RefreshResult:
    _require_cluster(stack)
    return _run(open_stack(stack).refresh)


def outputs(stack: str) -> dict[str, Any]:
    """The stack outputs as plain values (kept for the pod tasks, see tools.outputs_cache)."""
    values = _plain(open_stack(stack).outputs())
    outputs_cache.save(stack, values)
    return values


def _plain(items: auto.OutputMap) -> dict[str, Any]:
    """Output values without their secret flags; secret ones are left out."""
    return {key: item.value for key, item in items.items() if not item.secret}
