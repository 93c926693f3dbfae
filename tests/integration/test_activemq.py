"""The broker as tools.activemq configures it (the same configuration as the broker image):
one login from the environment, for STOMP and for the web console; admin/admin is gone."""
from __future__ import annotations

import pytest
import requests
import stomp
import stomp.exception

from tests.integration.conftest import Broker
from tests.news_apps import wait_until

pytestmark = pytest.mark.integration


def test_the_console_accepts_the_configured_login_only(broker: Broker) -> None:
    console = f"http://127.0.0.1:{broker.listen.console}/admin/queues.jsp"
    wait_until(lambda: serves(console), "the web console, which starts after the broker")

    assert requests.get(console, auth=(broker.user, broker.password), timeout=30).status_code == 200
    assert requests.get(console, auth=("admin", "admin"), timeout=30).status_code == 401
    assert requests.get(console, timeout=30).status_code == 401


@pytest.mark.parametrize("login", [("admin", "admin"), ("system", "manager"), (None, None)])
def test_stomp_refuses_the_default_and_anonymous_logins(broker: Broker,
                                                        login: tuple[str | None, str | None]) -> None:
    connection = stomp.Connection12([("127.0.0.1", broker.listen.stomp)])
    with pytest.raises(stomp.exception.ConnectFailedException):
        connection.connect(*login, wait=True)
    assert not connection.is_connected()


def serves(url: str) -> bool:
    try:
        requests.get(url, timeout=5)
    except requests.ConnectionError:
        return False
    return True
