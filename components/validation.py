"""Checks that run while the program is evaluated, so bad input fails the preview before
anything reaches the cluster. Every message names the field and the offending value."""
from __future__ import annotations

import re
from collections.abc import Iterable

from pulumi import RunError


class ConfigError(RunError):
    """Invalid stack config or component arguments.

    A RunError, so the engine prints the message alone, without a Python traceback.
    """


# A pinned reference: [registry[:port]/]path[:tag][@sha256:digest], lower-case path components
# as the distribution spec requires, and a tag or digest that is not the floating `latest`.
_IMAGE_RE = re.compile(
    r"^(?:(?P<registry>[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::[0-9]+)?)/)?"
    r"(?P<path>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)


def check_image(field: str, image: str) -> None:
    """An image reference must parse and be pinned (a tag other than `latest`, or a digest)."""
    if not image or not image.strip():
        raise ConfigError(f"{field}: the image reference is empty")
    match = _IMAGE_RE.match(image)
    if match is None:
        raise ConfigError(f"{field}: {image!r} is not a valid image reference "
                          "(expected [registry/]name:tag or name@sha256:digest, lower-case name)")
    if match["digest"] is None and match["tag"] in (None, "latest"):
        raise ConfigError(f"{field}: {image!r} is not pinned; give a version tag (not 'latest') "
                          "or a sha256 digest so that every node runs the same image")


def check_port(field: str, port: int) -> None:
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ConfigError(f"{field}: port {port!r} is out of range (1-65535)")


def check_grace_period(field: str, seconds: int) -> None:
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
        raise ConfigError(f"{field}: grace period {seconds!r} must be a whole number of seconds >= 0")


def check_unique_ports(pod: str, ports: Iterable[tuple[str, int]]) -> None:
    """Containers of one pod share a network namespace: two of them cannot bind one port."""
    owner: dict[int, str] = {}
    for container, port in ports:
        if port in owner:
            first = owner[port]
            where = (f"container {first!r} declares it twice" if first == container
                     else f"containers {first!r} and {container!r} both declare it")
            raise ConfigError(f"pod {pod!r}: port {port} is declared more than once ({where}); "
                              "containers in one pod share the pod's IP and port space")
        owner[port] = container


def check_name(field: str, name: str) -> None:
    """Kubernetes object and container names are DNS-1123 labels."""
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", name or ""):
        raise ConfigError(f"{field}: {name!r} is not a valid name (lower-case letters, digits and "
                          "'-', starting and ending with a letter or digit, at most 63 characters)")
