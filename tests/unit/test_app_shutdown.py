"""SIGTERM reaches both apps while a broker took their socket but never answered the login: they
stop at once, not after the broker's 5 s login timeout."""
from __future__ import annotations

import time

import pytest

from tests.news_apps import AppProcess, silent_listener, wait_until

#: Well under the login timeout (5 s) that the apps used to wait out after SIGTERM.
PROMPT_STOP_SECONDS = 2.5


@pytest.mark.parametrize("module", ["apps.news_job", "apps.news_api"])
def test_sigterm_during_an_unanswered_login_stops_the_app_at_once(module: str) -> None:
    with silent_listener() as (port, received):
        app = AppProcess(module, {
            "ACTIVEMQ_HOST": "127.0.0.1", "ACTIVEMQ_STOMP_PORT": str(port), "ACTIVEMQ_USER": "news",
            "ACTIVEMQ_PASSWORD": "secret-password", "NEWS_API_BIND": "127.0.0.1", "NEWS_API_PORT": "0"})
        try:
            wait_until(lambda: received, "the login frame")
        finally:
            started = time.monotonic()
            code = app.stop()
        stopped_after = time.monotonic() - started

    assert code == 0
    assert stopped_after < PROMPT_STOP_SECONDS, app.log
    assert "retrying" not in app.log
