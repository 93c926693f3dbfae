"""The project's own Pulumi language host for Python programs (`pulumi-language-python`).

Pulumi's Python language host is a Go binary that the Go module proxy does not serve, so a
machine without a Pulumi installation cannot run `pulumi preview/up/destroy` on a Python project.
This package is that host, in Python, on the gRPC stubs the `pulumi` SDK ships: it runs
__main__.py as upstream's host does (the virtualenv from Pulumi.yaml's runtime.options, config and
secrets, dry-run, parallelism, exit codes and error messages) and reports the resource plugins of
the installed Pulumi packages. It is installed only where no upstream host exists.

Public API:

    install(pulumi_home, pulumi=None, path=None) -> Path
        The host the CLI will use: an upstream `pulumi-language-python` on PATH or beside the
        `pulumi` binary if there is one, else ours, installed into
        `pulumi_home/plugins/language-python-v<HOST_VERSION>/`.
    HOST_VERSION
        The semver the host reports (that of the `pulumi` SDK whose protocol it speaks).

Modules: argv (the CLI's arguments), interpreter (which Python runs the program), packages
(required plugins), program (Run request -> child process -> Run response), shim (what runs
inside the program's Python), service (the gRPC service), host (the process), install,
version. Importing this package (for install) does not import gRPC.
"""
from __future__ import annotations

from tools.langhost.install import install
from tools.langhost.version import HOST_VERSION

__all__ = ["HOST_VERSION", "install"]
