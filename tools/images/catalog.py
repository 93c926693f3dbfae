"""The project's images: the broker, the news job and the news api.

All three run as the same unprivileged numeric user (pods run under the `restricted` Pod
Security Standard) on Debian's minbase. The two apps share their lower layers (python3, then the
pinned packages of apps/requirements.txt), so a node stores those once.
"""
from __future__ import annotations

from apps.images import ACTIVEMQ_VERSION, IMAGES, RUNTIME_UID
from tools.images import broker
from tools.images.archive import ImageConfig
from tools.images.debian import DebianRootfs
from tools.images.definition import ImageDefinition
from tools.images.files import CopiedFiles
from tools.images.pip import PythonPackages
from tools.paths import REPO

RUNTIME_USER = f"{RUNTIME_UID}:{RUNTIME_UID}"
#: Creates the runtime user in the rootfs, so tools inside (bash, whoami) can name it.
ADD_RUNTIME_USER = (
    ("groupadd", "--gid", str(RUNTIME_UID), "app"),
    ("useradd", "--uid", str(RUNTIME_UID), "--gid", str(RUNTIME_UID), "--create-home",
     "--shell", "/bin/bash", "app"),
)
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PYTHON_VERSION = "3.11"  # bookworm's python3
APP_DIR = "/app"


def _labels(name: str) -> dict[str, str]:
    return {"org.opencontainers.image.title": name,
            "org.opencontainers.image.version": IMAGES[name].rsplit(":", 1)[1],
            "org.opencontainers.image.source": "news-tracker"}


def activemq() -> ImageDefinition:
    """ActiveMQ Classic with its web console on Debian's Java 17; bash and curl for exercises."""
    return ImageDefinition(
        name="activemq",
        layers=(
            DebianRootfs(("openjdk-17-jre-headless", "curl"), ADD_RUNTIME_USER),
            broker.ActiveMQInstall(ACTIVEMQ_VERSION, (RUNTIME_UID, RUNTIME_UID)),
        ),
        config=ImageConfig(
            entrypoint=broker.command(),
            env={"PATH": PATH},
            workdir=broker.HOME,
            user=RUNTIME_USER,
            exposed_ports=(8161, 61613, 61616),
            labels=_labels("activemq"),
        ),
    )


def python_app(name: str, package: str, ports: tuple[int, ...] = ()) -> ImageDefinition:
    """The app apps/<package> with the shared apps/newsbus, run as `python3 -m apps.<package>`
    (the layout apps/README.md describes)."""
    return ImageDefinition(
        name=name,
        layers=(
            DebianRootfs(("python3",), (*ADD_RUNTIME_USER, _PRECOMPILE_PYTHON)),
            PythonPackages(REPO / "apps" / "requirements.txt", PYTHON_VERSION),
            CopiedFiles(tuple((REPO / "apps" / source, f"{APP_DIR}/apps/{source}")
                              for source in ("__init__.py", "newsbus", package))),
        ),
        config=ImageConfig(
            entrypoint=("python3", "-m", f"apps.{package}"),
            env={"PATH": PATH, "PYTHONPATH": APP_DIR, "PYTHONUNBUFFERED": "1",
                 "PYTHONDONTWRITEBYTECODE": "1"},
            workdir=APP_DIR,
            user=RUNTIME_USER,
            exposed_ports=ports,
            labels=_labels(name),
        ),
    )


#: Debian compiles its Python modules with timestamps, which the layer's fixed times would make
#: stale; hash-checked bytecode stays valid whatever the times.
_PRECOMPILE_PYTHON = ("python3", "-m", "compileall", "-q", "--invalidation-mode", "checked-hash",
                      f"/usr/lib/python{PYTHON_VERSION}", "/usr/lib/python3/dist-packages")


def definitions() -> dict[str, ImageDefinition]:
    """Every image the project builds, by name (the keys of apps.images.IMAGES)."""
    images = (activemq(), python_app("news-job", "news_job"),
              python_app("news-api", "news_api", ports=(8080,)))
    return {image.name: image for image in images}
