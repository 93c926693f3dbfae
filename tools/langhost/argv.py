"""The language host's command line, as the Pulumi CLI builds it.

The CLI passes `[--logtostderr] [-v=N] [--tracing <endpoint>] <engine address>` (the engine
address last), and older or newer CLIs add flags of their own (`-root`, `-virtualenv`, ...). The
host must start whatever it is given, so parsing is lenient: Go-style flags with one or two
dashes, `-flag=value` or `-flag value`, unknown flags ignored, the last bare word is the engine.
"""
from __future__ import annotations

from dataclasses import dataclass

#: Flags that take a value in the next word when written without `=` (upstream's flag set).
VALUE_FLAGS = frozenset({"v", "tracing", "root", "virtualenv", "typechecker", "toolchain",
                         "use-executor", "log_dir", "vmodule"})


@dataclass(frozen=True)
class HostArgs:
    engine_address: str | None = None
    tracing: str | None = None
    verbosity: int = 0
    log_to_stderr: bool = False


def parse_args(argv: list[str]) -> HostArgs:
    """Parse the host's arguments (without the program name); never fails."""
    values: dict[str, str] = {}
    positional: list[str] = []
    words = iter(argv)
    for word in words:
        if not word.startswith("-") or word in ("-", "--"):
            positional.append(word)
            continue
        name, has_value, value = word.lstrip("-").partition("=")
        if not has_value:
            value = next(words, "") if name in VALUE_FLAGS else "true"
        values[name] = value
    return HostArgs(
        engine_address=positional[-1] if positional else None,
        tracing=values.get("tracing") or None,
        verbosity=_int_or_zero(values.get("v", "0")),
        log_to_stderr=values.get("logtostderr", "false").lower() in ("true", "1", "t"),
    )


def _int_or_zero(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0
