"""The kind driver: a cluster of Docker containers made by kind from the project's own node image."""

from tools.cluster.kind import engine, network
from tools.cluster.kind.driver import CLUSTER_NAME, CONFIG, KindDriver

__all__ = ["CLUSTER_NAME", "CONFIG", "KindDriver", "engine", "network"]
