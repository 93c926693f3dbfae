"""An error of the inline program is reported by the engine once, as the program's own message.

The Automation API's language server (pulumi.automation._server) logs a failing program's error
as an engine diagnostic and also returns it as the Run response's `error`, which the engine then
prints a second time as "an unhandled error occurred: ...". Pulumi's own Python language host
answers `bail` instead ("already reported"), and the engine adds nothing. `reported_once()` makes
the inline program answer the same way, so a bad config key reads `error: news-tracker:jobb:
unknown config key; ...` once.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pulumi.automation._stack as automation_stack
from pulumi.automation._server import LanguageServer
from pulumi.runtime.proto import language_pb2


class BailingLanguageServer(LanguageServer):  # type: ignore[misc]
    """The SDK's server, except that an error it already logged is answered with `bail`."""

    def Run(self, request: Any, context: Any) -> language_pb2.RunResponse:  # noqa: N802 (gRPC's name)
        response: language_pb2.RunResponse = super().Run(request, context)
        # Each of the SDK's failure paths calls pulumi.log.error(message) before it sets `error`.
        if response.error:
            return language_pb2.RunResponse(bail=True)
        return response


@contextmanager
def reported_once() -> Iterator[None]:
    """Stack operations started inside serve their inline program with BailingLanguageServer."""
    original = automation_stack.LanguageServer
    automation_stack.LanguageServer = BailingLanguageServer
    try:
        yield
    finally:
        automation_stack.LanguageServer = original
