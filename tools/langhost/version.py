"""The version the host reports and is installed under.

The host speaks the protocol of the `pulumi` SDK whose stubs it uses, so it carries that SDK's
version (a semver, as the engine requires of GetPluginInfo). Kept apart from the gRPC service so
that installing the host does not import gRPC.
"""
from __future__ import annotations

import importlib.metadata

HOST_VERSION = importlib.metadata.version("pulumi")
