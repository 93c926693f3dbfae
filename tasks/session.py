"""What every task shares: the selected stack (one place: invoke config `news_tracker.stack`,
or INVOKE_NEWS_TRACKER_STACK), its outputs, a kubectl bound to its cluster and namespace, and
turning user-fixable problems into a one-line error instead of a traceback."""
from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any, TypeVar

from invoke import Context, Exit

from tools import outputs_cache
from tools.errors import SetupError
from tools.kube import Kubectl
from tools.target import cluster_target

F = TypeVar("F", bound=Callable[..., Any])


class ImportedOnFirstUse:
    """Stands for module `name` and imports it when one of its attributes is first read.

    tools.stack imports Pulumi (a third of a second), and invoke imports every task module on
    each start; pod tasks never start the engine, so they should not pay for that import.
    """

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)


pulumi_stack: Any = ImportedOnFirstUse("tools.stack")


def reports_setup_errors(body: F) -> F:
    """Print a SetupError's message and exit without a traceback: with kubectl's exit code when
    kubectl failed (tools.kube.KubectlFailed), else 1."""
    @functools.wraps(body)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return body(*args, **kwargs)
        except SetupError as error:
            raise Exit(f"error: {error}", code=getattr(error, "exit_code", 1)) from None
    return wrapper  # type: ignore[return-value]


def whole_number(option: str, value: str | int | None, low: int, high: int | None = None) -> int | None:
    """A task option typed int, parsed and range-checked: invoke hands an option whose default is
    None over as the string typed (`--grace -5` arrives as "-5"), unchecked."""
    if value is None:
        return None
    bounds = f"{low}-{high}" if high is not None else f">= {low}"
    try:
        number = int(str(value).strip(), 10)
    except ValueError:
        raise SetupError(f"--{option}: {value!r} is not a whole number ({bounds})") from None
    if number < low or (high is not None and number > high):
        raise SetupError(f"--{option}: {value!r} is out of range ({bounds})")
    return number


def stack_name(c: Context) -> str:
    return str(c.config.news_tracker.stack)


def outputs(c: Context) -> dict[str, Any]:
    """The stack's outputs as plain values; an error if the stack was never deployed."""
    values = pulumi_stack.outputs(stack_name(c))
    if "pods" not in values:
        raise SetupError(f"stack {stack_name(c)!r} has no outputs yet: run `invoke up` first")
    return values


def kubectl(c: Context) -> tuple[Kubectl, dict[str, Any]]:
    """A kubectl for the stack's cluster and namespace, with the outputs (pod names, no IPs) it
    was derived from: those `up` kept (tools.outputs_cache), else read through the engine."""
    values = outputs_cache.load(stack_name(c)) or outputs(c)
    return Kubectl(cluster_target(stack_name(c)), values["namespace"]), values
