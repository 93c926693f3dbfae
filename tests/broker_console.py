"""The broker's own view of its STOMP connections, read from the Jolokia agent of its web console
(integration tests: the test broker's console port; live tests: a port-forward to the pod)."""
from __future__ import annotations

import re

import requests

#: One MBean per open STOMP connection, named by the connection's client id, which ActiveMQ makes
#: unique per connection when the client sends none (ours do not): a reconnect gets a new name.
STOMP_CONNECTIONS = ("org.apache.activemq:type=Broker,brokerName=localhost,connector=clientConnectors,"
                     "connectorName=stomp,connectionViewType=clientId,connectionName=*")


def stomp_connections(console: str, login: tuple[str, str]) -> set[str]:
    """Client ids of the STOMP connections open now. `console` is e.g. http://127.0.0.1:8161."""
    # The agent refuses requests without an Origin header (cors strict-checking, against CSRF).
    answer = requests.get(f"{console}/api/jolokia/search/{STOMP_CONNECTIONS}", auth=login,
                          headers={"Origin": console}, timeout=15)
    answer.raise_for_status()
    document = answer.json()
    if document.get("status") != 200:
        raise AssertionError(f"Jolokia refused the search: {document.get('error')}")
    return {re.search(r"connectionName=([^,]+)", name)[1] for name in document["value"]}
