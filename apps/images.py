"""Image references of the three pods: the one place both the offline image builder
(tools/images) and the Pulumi components' defaults read them.

Tags are versions, not `latest`: bump the tag whenever what goes into an image changes, so that
`imagePullPolicy: IfNotPresent` never runs a stale image.
"""
from __future__ import annotations

ACTIVEMQ_VERSION = "5.18.3"

IMAGES: dict[str, str] = {
    "activemq": f"localhost/news-tracker/activemq:{ACTIVEMQ_VERSION}",
    "news-job": "localhost/news-tracker/news-job:0.1.0",
    "news-api": "localhost/news-tracker/news-api:0.1.0",
}
