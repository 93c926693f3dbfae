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
# Matched whole (fullmatch): `$` would also accept a reference ending in a newline.
_IMAGE_RE = re.compile(
    r"(?:(?P<registry>[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::[0-9]+)?)/)?"
    r"(?P<path>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[0-9a-f]{64}))?"
)


def check_image(field: str, image: str) -> None:
    """An image reference must parse and be pinned (a tag other than `latest`, or a digest)."""
    if not image or not image.strip():
        raise ConfigError(f"{field}: the image reference is empty")
    match = _IMAGE_RE.fullmatch(image)
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


def check_subdomain(field: str, name: str) -> None:
    """Names such as a StorageClass's are DNS-1123 subdomains: dot-separated labels."""
    label = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
    if len(name) > 253 or not re.fullmatch(rf"{label}(\.{label})*", name):
        raise ConfigError(f"{field}: {name!r} is not a valid name (lower-case letters, digits, '-' "
                          "and '.', starting and ending with a letter or digit, at most 253 characters)")


def check_label_value(field: str, value: str) -> None:
    """A value that becomes a label (`env`): non-empty here, at most 63 characters."""
    if not re.fullmatch(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?", value):
        raise ConfigError(f"{field}: {value!r} is not a valid label value (letters, digits, '-', '_' "
                          "and '.', starting and ending with a letter or digit, 1-63 characters)")


# A storage size as Kubernetes writes one: a decimal number with a binary or decimal suffix.
_QUANTITY_RE = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]+)?)(?:Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?")


def check_storage_size(field: str, size: str) -> None:
    """A positive Kubernetes quantity (`256Mi`, `1Gi`), else the API server refuses the claim."""
    match = _QUANTITY_RE.fullmatch(size)
    if match is None or float(match["number"]) == 0:
        raise ConfigError(f"{field}: {size!r} is not a positive storage quantity (e.g. 256Mi, 1Gi)")
