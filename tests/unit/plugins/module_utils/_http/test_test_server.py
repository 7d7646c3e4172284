# -*- coding: utf-8 -*-
"""The test-server base itself (tests/support/test_server.py): routes, the request log, every fault,
and the subprocess mode with its control interface (through metadata_server.py, its first user)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

SUPPORT = Path(__file__).resolve().parents[4] / "support"
sys.path.insert(0, str(SUPPORT))
import test_server  # noqa: E402  pylint: disable=wrong-import-position
from test_server import Reply  # noqa: E402  pylint: disable=wrong-import-position


def _get(server, path, method="GET", **kwargs):
    return requests.request(method, server.url + path, verify=server.ca_path, timeout=5, **kwargs)


def test_routes_patterns_and_reply_forms(server):
    server.add_route("GET", "/apps/{app_id}/groups/{group:path}", lambda request: dict(request.params))
    server.add_route("POST", "/apps", lambda request: (201, {"echo": request.json}, {"Location": "/apps/1"}))
    server.add_route("GET", "/text", lambda request: "plain")
    server.add_route("DELETE", "/apps/{app_id}", lambda request: None)
    server.add_route("GET", "/boom", lambda request: 1 / 0)
    server.add_route("*", "/any", lambda request: {"method": request.method})
    server.add_route("GET", "/raw", lambda request: Reply(200, iter([b"a", b"b"]), content_type="text/plain"))

    assert _get(server, "/apps/7/groups/a/b").json() == {"app_id": "7", "group": "a/b"}
    created = _get(server, "/apps", "POST", json={"name": "aws"})
    assert (created.status_code, created.headers["Location"]) == (201, "/apps/1")
    assert created.json() == {"echo": {"name": "aws"}}
    assert _get(server, "/text").text == "plain"
    assert _get(server, "/apps/7", "DELETE").status_code == 204
    head = _get(server, "/apps/7/groups/x", "HEAD")
    assert head.status_code == 200 and head.content == b""
    assert _get(server, "/any", "PATCH").json() == {"method": "PATCH"}
    assert _get(server, "/raw").content == b"ab"
    missing = _get(server, "/nowhere")
    assert missing.status_code == 404 and "no route for GET /nowhere" in missing.json()["message"]
    broken = _get(server, "/boom")
    assert broken.status_code == 500 and "ZeroDivisionError" in broken.json()["message"]
    assert server.http_url.startswith("http://127.0.0.1:")


def test_the_request_log_masks_secrets(server):
    server.add_route("POST", "/token", lambda request: {"ok": True})
    _get(server, "/token?x=1", "POST", data={"client_secret": "s3cr3t", "grant_type": "client_credentials"},
         headers={"Authorization": "Basic abc", "X-API-Key": "k3y"})
    _get(server, "/token", "POST", json={"password": "pw", "name": "n", "nested": [{"private_key": "pk"}]})
    first, second = server.requests("POST", "/token")
    assert first["query"] == {"x": ["1"]} and first["headers"]["Authorization"] == "Basic ***"
    assert first["headers"]["X-API-Key"] == "***"
    assert first["body"] == {"client_secret": "***", "grant_type": "client_credentials"}
    assert second["body"] == {"password": "***", "name": "n", "nested": [{"private_key": "***"}]}
    assert "s3cr3t" not in json.dumps(server.requests()) and first["status"] == 200
    assert server.requests("GET") == [] and len(server.requests(path="/{name}")) == 2
    server.clear_log()
    assert server.requests() == []


def test_faults_count_and_match(server):
    server.add_route("GET", "/a/{n}", lambda request: {"n": request.params["n"]})
    server.add_route("GET", "/b", lambda request: {"b": True})
    server.fail(502, times=2, path="/a/{n}")
    server.fail(429, retry_after=3, method="POST")
    statuses = [_get(server, path).status_code for path in ("/b", "/a/1", "/a/2", "/a/3")]
    assert statuses == [200, 502, 502, 200]
    assert [entry["fault"] for entry in server.requests()] == [None, "status", "status", None]
    server.clear_faults()
    server.fail(503, rate=0.5, times=None, retry_after="1")
    hits = [_get(server, "/b") for _attempt in range(20)]
    failed = [answer for answer in hits if answer.status_code == 503]
    assert 0 < len(failed) < 20 and failed[0].headers["Retry-After"] == "1"


def test_drop_faults_and_state(server):
    created = []
    server.add_route("POST", "/apps", lambda request: (201, created.append(1) or {"id": len(created)}))
    server.drop(method="POST")
    with pytest.raises(requests.ConnectionError):
        _get(server, "/apps", "POST", json={})
    assert created == []  # dropped before the handler
    server.drop_after_write(method="POST")
    with pytest.raises(requests.ConnectionError):
        _get(server, "/apps", "POST", json={})
    assert created == [1]  # the write happened, the answer was lost
    assert [entry["fault"] for entry in server.requests()] == ["drop", "drop_after"]
    assert _get(server, "/apps", "POST", json={}).json() == {"id": 2}


def test_slow_fault_outlasts_a_client_timeout(server):
    server.add_route("GET", "/x", lambda request: {"x": 1})
    server.slow(0.5)
    with pytest.raises(requests.ReadTimeout):
        requests.get(server.url + "/x", verify=server.ca_path, timeout=0.1)
    assert server.requests()[0]["fault"] == "slow"


def test_as_reply():
    assert test_server.as_reply(None).status == 204
    assert test_server.as_reply((404, None)).body == b""
    assert test_server.as_reply((200, b"x", {"A": "b"})).headers == {"A": "b"}
    assert json.loads(test_server.as_reply([1]).body) == [1]


def test_a_subprocess_server_with_its_control_interface(tmp_path):
    """metadata_server.py --background, driven through ControlClient, then --stop."""
    script, state = str(SUPPORT / "metadata_server.py"), str(tmp_path / "state")
    started = subprocess.run([sys.executable, script, "--dir", state, "--background", "--max-lifetime", "60"],
                             capture_output=True, text=True, timeout=60, check=True)
    info = json.loads(started.stdout)
    try:
        control = test_server.ControlClient(state)
        assert control.info == info and info["http_url"] and Path(info["ca"]).is_file()
        answer = requests.get(info["https_url"] + "/idp.xml", verify=info["ca"], timeout=5)
        assert answer.status_code == 200 and b"EntityDescriptor" in answer.content
        control.inject(kind="status", status=503, retry_after="2", path="/idp.xml")
        failed = requests.get(info["https_url"] + "/idp.xml", verify=info["ca"], timeout=5)
        assert (failed.status_code, failed.headers["Retry-After"]) == (503, "2")
        assert [entry["status"] for entry in control.requests()] == [200, 503]
        assert control.state() == {}
        control.reset()
        assert control.requests() == []
        refused = requests.get(info["https_url"] + "/_control/log", verify=info["ca"], timeout=5)
        assert refused.status_code == 403
    finally:
        stopped = subprocess.run([sys.executable, script, "--stop", state], capture_output=True, text=True,
                                 timeout=30, check=True)
    assert "stopped metadata server pid {0}".format(info["pid"]) in stopped.stdout
    assert not (tmp_path / "state" / "server.json").exists()
