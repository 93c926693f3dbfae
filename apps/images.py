"""Image references of the three pods, and the facts about those images that pods depend on:
the one place both the offline image builder (tools/images) and the Pulumi components read them.

Tags are versions, not `latest`: bump the tag whenever what goes into an image changes, so that
`imagePullPolicy: IfNotPresent` never runs a stale image.
"""
from __future__ import annotations

ACTIVEMQ_VERSION = "5.18.3"
#: Our revision of the broker image's configuration on top of that version (2: a user per role).
ACTIVEMQ_IMAGE_REVISION = 2

IMAGES: dict[str, str] = {
    "activemq": f"localhost/news-tracker/activemq:{ACTIVEMQ_VERSION}-{ACTIVEMQ_IMAGE_REVISION}",
    "news-job": "localhost/news-tracker/news-job:0.2.1",
    "news-api": "localhost/news-tracker/news-api:0.2.1",
}

#: The unprivileged numeric user every image runs as: pods run under the `restricted` Pod
#: Security Standard, whose runAsNonRoot check needs a number.
RUNTIME_UID = 10001

#: Inside the broker image: where the broker keeps its message store (a PVC may be mounted
#: there) and where it writes its log file (an emptyDir shared with the log-tail sidecar).
ACTIVEMQ_HOME = "/opt/activemq"
ACTIVEMQ_DATA_DIR = f"{ACTIVEMQ_HOME}/data"
ACTIVEMQ_LOG_DIR = "/var/log/activemq"
ACTIVEMQ_LOG_FILE = f"{ACTIVEMQ_LOG_DIR}/activemq.log"

#: The broker image's users, one per role, each read from two environment variables when the
#: broker starts (the image has none of its own): `admin` logs in to the web console and may do
#: anything, `publisher` may only send to the news queue, `consumer` may only read it.
BROKER_ROLES = ("admin", "publisher", "consumer")
#: Role -> the (user, password) environment variables the broker reads its login from.
BROKER_LOGIN_ENV: dict[str, tuple[str, str]] = {
    role: (f"ACTIVEMQ_{role.upper()}_USER", f"ACTIVEMQ_{role.upper()}_PASSWORD") for role in BROKER_ROLES}
#: The queue the job publishes to and the api reads; the only one the broker grants either.
NEWS_QUEUE = "news-queue"
