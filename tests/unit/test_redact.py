"""Passwords never reach the apps' logs: stomp.py's own DEBUG records of a real CONNECT frame,
exceptions, and a whole app process at LOG_LEVEL=DEBUG."""
from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
import stomp

from apps.newsbus.redact import MASK, RedactingFilter, secrets_in
from tests.news_apps import AppProcess, silent_listener

PASSWORD = "s3cret-Pa55word"


@pytest.fixture
def listener() -> Iterator[tuple[int, list[bytes]]]:
    """A loopback server that keeps what STOMP clients send and never answers (the CONNECT frame
    is logged as it is sent)."""
    with silent_listener() as found:
        yield found


def stomp_debug_log(port: int, password: str, redacting: RedactingFilter | None) -> str:
    """What stomp.py logs at DEBUG while it sends a real CONNECT frame (STOMP 1.2 calls it
    STOMP) with `password`."""
    text = io.StringIO()
    handler = logging.StreamHandler(text)
    if redacting is not None:
        handler.addFilter(redacting)
    root, stomp_logger = logging.getLogger(), logging.getLogger("stomp.py")
    level = stomp_logger.level
    root.addHandler(handler)
    stomp_logger.setLevel(logging.DEBUG)
    connection = stomp.Connection12([("127.0.0.1", port)], reconnect_attempts_max=1)
    try:
        connection.connect("news", password, wait=False)
    finally:
        connection.disconnect()
        root.removeHandler(handler)
        stomp_logger.setLevel(level)
    return text.getvalue()


def test_stomp_py_logs_the_passcode_of_a_connect_frame_unless_filtered(
        listener: tuple[int, list[bytes]]) -> None:
    port, _ = listener

    assert f"passcode:{PASSWORD}" in stomp_debug_log(port, PASSWORD, None)  # what the filter is for
    masked = stomp_debug_log(port, PASSWORD, RedactingFilter())  # by its key alone
    assert "sending frame" in masked and f"passcode:{MASK}" in masked
    assert PASSWORD not in masked


@pytest.mark.parametrize("password", ["it's\\odd\"pw", "with space", "a,b;c}"])
def test_known_secrets_are_masked_however_a_repr_spells_them(
        listener: tuple[int, list[bytes]], password: str) -> None:
    port, _ = listener

    masked = stomp_debug_log(port, password, RedactingFilter([password]))

    assert "sending frame" in masked
    for fragment in (password, repr(password)[1:-1], repr(password.encode())[2:-1]):
        assert fragment not in masked


def test_key_value_forms_and_tracebacks_are_masked() -> None:
    redacting = RedactingFilter()
    lines = ["passcode: abc1", "{'passcode': 'abc2'}", '{"password": "abc3"}', "password=abc4&x=1",
             "PASSWORD:abc5"]
    assert [redacting.redact(line) for line in lines] == [
        f"passcode: {MASK}", f"{{'passcode': '{MASK}'}}", f'{{"password": "{MASK}"}}',
        f"password={MASK}&x=1", f"PASSWORD:{MASK}"]

    text = io.StringIO()
    handler = logging.StreamHandler(text)
    handler.addFilter(RedactingFilter([PASSWORD]))
    logger = logging.getLogger("tests.redact")
    logger.addHandler(handler)
    try:
        raise ValueError(f"login {PASSWORD} refused")
    except ValueError:
        logger.exception("failed with %s", PASSWORD)
    finally:
        logger.removeHandler(handler)
    assert "ValueError: login ******** refused" in text.getvalue()
    assert PASSWORD not in text.getvalue()


def test_a_record_whose_format_fails_is_masked_too() -> None:
    record = logging.LogRecord("tests.redact", logging.INFO, __file__, 1, "login %d", (PASSWORD,), None)

    RedactingFilter([PASSWORD]).filter(record)

    assert PASSWORD not in record.getMessage() and MASK in record.getMessage()


def test_secrets_in_reads_the_secret_variables_as_config_does() -> None:
    assert secrets_in({"ACTIVEMQ_PASSWORD": " pw ", "NEWSAPI_KEY": "", "ACTIVEMQ_USER": "u"}) == ["pw"]


def test_a_short_secret_is_masked_after_its_key_only() -> None:
    redacting = RedactingFilter(["x"])

    assert redacting.redact("expected passcode:x") == f"expected passcode:{MASK}"


def test_an_app_at_debug_never_logs_its_password(listener: tuple[int, list[bytes]]) -> None:
    port, received = listener
    job = AppProcess("apps.news_job", {
        "ACTIVEMQ_HOST": "127.0.0.1", "ACTIVEMQ_STOMP_PORT": str(port), "ACTIVEMQ_USER": "news",
        "ACTIVEMQ_PASSWORD": PASSWORD, "LOG_LEVEL": "DEBUG", "NEWS_JOB_INTERVAL_SECONDS": "60"})
    try:
        job.wait_for_line(r"sending frame: .*passcode")
    finally:
        job.stop()

    assert any(PASSWORD.encode() in frame for frame in received)  # it was sent, not just masked
    assert PASSWORD not in job.log
