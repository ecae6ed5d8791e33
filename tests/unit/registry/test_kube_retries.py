"""Which failed Kubernetes requests are tried again: a dropped kept-alive connection once, a timeout
never (a silent API server would otherwise cost a multiple of BERTH_KUBE_TIMEOUT)."""

import pytest
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, ProtocolError, ReadTimeoutError

from registry.services.kube import _RetryDroppedConnections

pytestmark = pytest.mark.unit

URL = "/api/v1/namespaces/team-a/secrets"


def test_a_dropped_connection_is_tried_once_more():
    dropped = ProtocolError("Connection aborted.", ConnectionResetError())
    again = _RetryDroppedConnections(total=1).increment("GET", URL, error=dropped)
    assert isinstance(again, _RetryDroppedConnections)
    with pytest.raises(MaxRetryError):
        again.increment("GET", URL, error=dropped)


@pytest.mark.parametrize(
    "timeout",
    [
        # What urllib3 raises when the TLS handshake gets no answer, as for a reply that never comes.
        ReadTimeoutError(None, URL, "Read timed out. (read timeout=3)"),
        ConnectTimeoutError(None, "Connection to 127.0.0.1 timed out."),
    ],
)
def test_a_timeout_is_not_tried_again(timeout):
    with pytest.raises(MaxRetryError) as raised:
        _RetryDroppedConnections(total=1).increment("GET", URL, error=timeout)
    assert raised.value.reason is timeout
