"""The versions of the Pulumi engine this project builds, in one place.

The Go wrapper modules beside this file pin the same versions in their go.mod files (a unit test
keeps them in step), and requirements.txt pins the Python SDKs that talk to these binaries.
"""
from __future__ import annotations

# pkg/v3 3.272.0 (the newest `pulumi` on PyPI) is not served by the Go module proxy; 3.274.1 is
# the closest served release, and the 3.272 Python SDK works with a newer CLI.
PULUMI_VERSION = "3.274.1"

# The version that pulumi-kubernetes==4.25.0 (requirements.txt) asks the engine for.
KUBERNETES_PROVIDER_VERSION = "4.25.0"
KUBERNETES_PROVIDER_MODULE = "github.com/pulumi/pulumi-kubernetes/provider/v4"
# The commit tagged v4.25.0: upstream tags the repo root, never provider/v4, so the Go module
# proxy knows the provider only by this pseudo-version.
KUBERNETES_PROVIDER_SOURCE = "v4.0.0-20260115033456-f47bc2d6f199"
