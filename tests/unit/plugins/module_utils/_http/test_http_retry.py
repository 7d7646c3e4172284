# -*- coding: utf-8 -*-
"""The retry rules against a real local server: what is retried, what never is, how long the client
waits (backoff, Retry-After, X-Rate-Limit-Reset) and where the run's deadline stops it."""

from __future__ import annotations

import email.utils
import socket
import sys
import time
from pathlib import Path

import pytest

from ansible_collections.idfed.aws_sso.plugins.module_utils._http.errors import ApiError
from ansible_collections.idfed.aws_sso.plugins.module_utils._http.retry import (
    Deadline, RetryPolicy, is_idempotent, may_retry_status, server_wait)

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "support"))
import test_server  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture
def apps(server):
    """A tiny resource API: POST creates (the state a lost answer leaves behind), GET/PUT/PATCH/DELETE."""
    created = []
    server.add_route("POST", "/apps", lambda request: (201, created.append(request.json) or {"id": len(created)}))
    server.add_route("POST", "/apps/_search", lambda request: {"result": created})
    server.add_route("GET", "/apps", lambda request: {"result": created})
    for method in ("PUT", "PATCH", "DELETE"):
        server.add_route(method, "/apps/{app_id}", lambda request: {"id": request.params["app_id"]})
    return created


# ------------------------------------------------------------------------------------- idempotent

@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_a_get_is_retried_on_each_retryable_status(harness, server, apps, status):
    server.fail(status)
    assert harness.client().get("/apps") == {"result": []}
    assert [entry["status"] for entry in server.requests("GET", "/apps")] == [status, 200]
    assert len(harness.logs) == 1 and "HTTP {0}".format(status) in harness.logs[0]


@pytest.mark.parametrize("method, path", [("PUT", "/apps/1"), ("DELETE", "/apps/1"), ("GET", "/apps")])
def test_idempotent_methods_are_retried_after_a_dropped_connection(harness, server, apps, method, path):
    server.drop(method=method)
    assert harness.client().request(method, path, json={"name": "x"} if method == "PUT" else None).status == 200
    assert [entry["fault"] for entry in server.requests(method)] == ["drop", None]


def test_a_get_is_retried_after_a_read_timeout(harness, server, apps):
    server.slow(1.0, method="GET")
    assert harness.client(timeout=0.2).get("/apps") == {"result": []}
    assert len(server.requests("GET")) == 2
    assert "timed out" in harness.logs[0]


def test_a_search_post_declared_idempotent_is_retried_on_a_5xx(harness, server, apps):
    server.fail(503, method="POST")
    assert harness.client().post("/apps/_search", json={}, idempotent=True) == {"result": []}
    assert len(server.requests("POST")) == 2


def test_retries_stop_after_the_attempts_with_the_status(harness, server, apps):
    server.fail(503, times=None)
    with pytest.raises(ApiError) as caught:
        harness.client().get("/apps")
    assert caught.value.status == 503 and caught.value.server_error and caught.value.attempts == 4
    assert "Gave up after 4 attempts" in str(caught.value)
    assert len(server.requests("GET")) == 4 and len(harness.logs) == 3


# ------------------------------------------------------------------------------------- writes

@pytest.mark.parametrize("method, path", [("POST", "/apps"), ("PATCH", "/apps/1")])
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_write_is_not_retried_after_a_5xx_once_sent(harness, server, apps, method, path, status):
    server.fail(status, method=method)
    with pytest.raises(ApiError) as caught:
        harness.client().request(method, path, json={"name": "aws"})
    error = caught.value
    assert error.status == status and error.may_have_applied and error.attempts == 1
    assert "not retried" in str(error) and "check whether the change was made" in str(error)
    assert len(server.requests(method)) == 1 and harness.logs == []


@pytest.mark.parametrize("method, path", [("POST", "/apps"), ("PATCH", "/apps/1")])
def test_a_write_is_retried_on_429(harness, server, apps, method, path):
    server.fail(429, retry_after=0, method=method)
    harness.client().request(method, path, json={"name": "aws"})
    assert [entry["status"] for entry in server.requests(method)] == [429, 200 if method == "PATCH" else 201]
    assert len(apps) == (1 if method == "POST" else 0)


def test_a_post_whose_answer_was_lost_after_the_write_is_not_retried(harness, server, apps):
    server.drop_after_write(method="POST")
    with pytest.raises(ApiError) as caught:
        harness.client().post("/apps", json={"name": "aws"})
    error = caught.value
    assert error.status is None and error.may_have_applied and error.method == "POST"
    assert "closed before an answer came back" in str(error) and "not retried" in str(error)
    assert len(server.requests("POST", "/apps")) == 1  # exactly one POST reached the server...
    assert apps == [{"name": "aws"}]  # ...and it was applied: a retry would have made a duplicate


def test_a_post_dropped_before_the_handler_is_not_retried_either(harness, server, apps):
    server.drop(method="POST")  # the client cannot tell this from a lost answer
    with pytest.raises(ApiError, match="may have applied"):
        harness.client().post("/apps", json={"name": "aws"})
    assert len(server.requests("POST")) == 1 and apps == []


def test_a_post_is_not_retried_after_a_read_timeout(harness, server, apps):
    server.slow(0.6, method="POST")
    with pytest.raises(ApiError, match="timed out") as caught:
        harness.client(timeout=0.2).post("/apps", json={"name": "aws"})
    assert caught.value.may_have_applied
    assert len(server.requests("POST")) == 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_post_is_retried_after_connection_refused(harness, tmp_path):
    """Nothing listens at the first attempt; the server comes up while the client waits to retry."""
    port, state = _free_port(), str(tmp_path)
    test_server.ensure_tls(state)  # the CA the client trusts, before the server exists
    late: list[test_server.TestServer] = []

    def start_on_first_retry(line: str) -> None:
        harness.logs.append(line)
        if not late:
            late.append(test_server.TestServer(state, port=port).start())
            late[0].add_route("POST", "/apps", lambda request: (201, {"id": 1}))

    client = harness.client("https://127.0.0.1:{0}".format(port), ca_path=state + "/ca.pem",
                            log=start_on_first_retry)
    try:
        assert client.post("/apps", json={"name": "aws"}) == {"id": 1}
        assert "Connection refused" in harness.logs[0]
        assert len(late[0].requests("POST")) == 1
    finally:
        for server in late:
            server.stop()


def test_connection_refused_gives_up_after_the_attempts(harness):
    client = harness.client("https://127.0.0.1:{0}".format(_free_port()))
    with pytest.raises(ApiError, match="Cannot connect") as caught:
        client.post("/apps", json={})
    assert caught.value.attempts == 4 and not caught.value.may_have_applied
    assert "Gave up after 4 attempts" in str(caught.value)


def test_a_tls_failure_is_not_retried_and_names_ca_path(harness, server, apps):
    with pytest.raises(ApiError, match="ca_path") as caught:
        harness.client(ca_path=None).get("/apps")
    assert caught.value.attempts == 1 and server.requests() == []


# ------------------------------------------------------------------------------------- waits

def test_retry_after_seconds_is_honoured(harness, server, apps):
    server.fail(429, retry_after=7)
    harness.client().get("/apps")
    assert harness.clock.sleeps == [7.0]
    assert "as Retry-After asks" in harness.logs[0]


def test_retry_after_as_an_http_date_is_honoured(harness, server, apps):
    server.fail(503, retry_after=email.utils.formatdate(time.time() + 5, usegmt=True))
    harness.client().get("/apps")
    assert 3.5 <= harness.clock.sleeps[0] <= 5.01


def test_okta_rate_limit_reset_is_honoured(harness, server, apps):
    reset = int(time.time()) + 6
    server.inject(test_server.Fault(test_server.STATUS, status=429, headers={"X-Rate-Limit-Reset": str(reset)}))
    harness.client().get("/apps")
    assert 4.5 <= harness.clock.sleeps[0] <= 7.0  # measured against the server's Date header


def test_a_server_wait_is_capped(harness, server, apps):
    server.fail(429, retry_after=3600)
    harness.client(deadline=600.0, retry=RetryPolicy(attempts=3, max_wait=12.0)).get("/apps")
    assert harness.clock.sleeps == [12.0]


def test_backoff_is_exponential_jittered_and_capped():
    low, high = RetryPolicy(base=1.0, cap=5.0, rand=lambda: 0.0), RetryPolicy(base=1.0, cap=5.0, rand=lambda: 1.0)
    assert [low.backoff(retry) for retry in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 2.5, 2.5]
    assert [high.backoff(retry) for retry in (1, 2, 3, 4, 5)] == [1.0, 2.0, 4.0, 5.0, 5.0]


@pytest.mark.parametrize("status, headers, expected", [
    (429, {"Retry-After": "12"}, (12.0, "Retry-After")),
    (503, {"retry-after": " 0 "}, (0.0, "Retry-After")),
    (429, {"Retry-After": "Wed, 21 Oct 2015 07:28:10 GMT"}, (10.0, "Retry-After")),
    (429, {"Retry-After": "soon"}, None),
    (429, {"X-Rate-Limit-Reset": "1445412500", "Date": "Wed, 21 Oct 2015 07:28:00 GMT"}, (20.0, "X-Rate-Limit-Reset")),
    (200, {"X-Rate-Limit-Reset": "1445412500"}, None),  # Okta sends it on every answer
    (429, {}, None),
])
def test_server_wait_hints(status, headers, expected):
    assert server_wait(status, headers, now=1445412480.0) == expected


def test_retry_tables():
    assert [method for method in ("GET", "HEAD", "PUT", "DELETE", "OPTIONS", "POST", "PATCH")
            if is_idempotent(method)] == ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]
    assert is_idempotent("POST", True) and not is_idempotent("GET", False)
    assert may_retry_status(429, False) and not may_retry_status(503, False) and may_retry_status(503, True)
    assert not may_retry_status(501, True) and not may_retry_status(409, True)


# ------------------------------------------------------------------------------------- deadline

def test_a_429_storm_stops_at_the_deadline_with_a_clear_message(harness, server, apps):
    server.fail(429, retry_after=4, times=None)
    with pytest.raises(ApiError) as caught:
        harness.client(deadline=10.0, retry=RetryPolicy(attempts=50, max_wait=30.0)).get("/apps")
    error = caught.value
    assert error.rate_limited
    assert "10-second deadline of this run" in str(error) and "raise the deadline" in str(error)
    assert harness.clock.sleeps == [4.0, 4.0]  # at 0, 4 and 8 s; a third wait would end past 10 s
    assert len(server.requests("GET")) == 3


def test_no_request_is_sent_past_the_deadline(harness, server, apps):
    client = harness.client(deadline=5.0)
    harness.clock.now += 6
    with pytest.raises(ApiError, match="was not sent: the 5-second deadline of this run passed"):
        client.get("/apps")
    assert server.requests() == []


def test_each_attempt_timeout_is_cut_to_the_deadline(harness, server, apps):
    server.slow(1.0)
    with pytest.raises(ApiError, match=r"timed out after 0\.\d seconds.*the 0\.3-second deadline of this run"):
        harness.client(timeout=30.0, deadline=0.3, clock=time.monotonic).get("/apps")


def test_deadline_counts_down():
    now = [0.0]
    deadline = Deadline(10.0, clock=lambda: now[0])
    now[0] = 4.0
    assert deadline.remaining() == 6.0 and not deadline.expired
    now[0] = 11.0
    assert deadline.remaining() == 0.0 and deadline.expired


# ------------------------------------------------------------------------------------- transport

def test_one_session_reuses_the_connection(harness, server, apps):
    client = harness.client()
    client.get("/apps")
    client.put("/apps/1", json={"name": "aws"})
    ports = {entry["client_port"] for entry in server.requests()}
    assert len(ports) == 1


def test_the_response_size_is_capped(harness, server):
    server.add_route("GET", "/huge", lambda request: {"blob": "x" * 5000})
    with pytest.raises(ApiError, match="max_size"):
        harness.client(max_size=1000).get("/huge")
