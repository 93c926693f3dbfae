"""The inline program's failure is answered with `bail`, so the engine does not print it again as
"an unhandled error occurred" (the real engine's side: tests/integration/test_engine_errors.py)."""
from __future__ import annotations

from typing import Any

import pytest
from pulumi.automation._server import LanguageServer
from pulumi.runtime.proto import language_pb2

from tools import inline_errors


def answer(monkeypatch: pytest.MonkeyPatch, response: language_pb2.RunResponse) -> Any:
    """What BailingLanguageServer answers when the SDK's own Run answered `response`."""
    monkeypatch.setattr(LanguageServer, "Run", lambda self, request, context: response)
    return inline_errors.BailingLanguageServer(lambda: None).Run(None, None)


def test_an_error_the_sdk_already_logged_becomes_bail(monkeypatch: pytest.MonkeyPatch) -> None:
    got = answer(monkeypatch, language_pb2.RunResponse(error="news-tracker:jobb: unknown config key"))
    assert got.bail and got.error == ""


def test_a_successful_run_is_answered_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    got = answer(monkeypatch, language_pb2.RunResponse())
    assert not got.bail and got.error == ""


def test_the_automation_api_serves_with_it_only_inside_reported_once() -> None:
    stack_module = inline_errors.automation_stack
    assert stack_module.LanguageServer is LanguageServer
    with inline_errors.reported_once():
        assert stack_module.LanguageServer is inline_errors.BailingLanguageServer
    assert stack_module.LanguageServer is LanguageServer
