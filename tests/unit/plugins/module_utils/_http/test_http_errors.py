# -*- coding: utf-8 -*-
"""Errors as data: each vendor envelope parsed (code, message, causes, request id), statuses callers
can test without parsing text, and messages that name the problem and the fix."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ansible_collections.idfed.aws_sso.plugins.module_utils._http.errors import (
    PARSERS, ApiError, ErrorInfo, HttpError, parse_any, parse_cloudflare, parse_graph, parse_oauth, parse_okta,
    parse_zitadel)

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "support"))
from test_server import Reply  # noqa: E402  pylint: disable=wrong-import-position


def _raw(status: int, body: bytes, content_type: str = "text/html") -> Reply:
    return Reply(status, body, {}, content_type)


CLOUDFLARE = {"success": False, "errors": [{"code": 10000, "message": "Authentication error"},
                                           {"code": 9109, "message": "Invalid access token"}],
              "messages": [], "result": None}
OKTA = {"errorCode": "E0000001", "errorSummary": "Api validation failed: label",
        "errorLink": "E0000001", "errorId": "oaeXXX",
        "errorCauses": [{"errorSummary": "label: An object with this field already exists."}]}
GRAPH = {"error": {"code": "Request_ResourceNotFound", "message": "Resource 'x' does not exist.",
                   "innerError": {"request-id": "abc", "date": "2024-01-01T00:00:00"}}}
ZITADEL = {"code": 5, "message": "App not found (APP-D8fs2)",
           "details": [{"@type": "type.googleapis.com/zitadel.v1.ErrorDetail", "id": "APP-D8fs2",
                        "message": "App not found"}]}
ZITADEL_CONNECT = {"code": "not_found", "message": "App not found (APP-D8fs2)"}
OAUTH = {"error": "invalid_client", "error_description": "client authentication failed"}


@pytest.mark.parametrize("parser, data, expected", [
    (parse_cloudflare, CLOUDFLARE, ErrorInfo(10000, "Authentication error", ("9109: Invalid access token",))),
    (parse_okta, OKTA, ErrorInfo("E0000001", "Api validation failed: label",
                                 ("label: An object with this field already exists.",))),
    (parse_graph, GRAPH, ErrorInfo("Request_ResourceNotFound", "Resource 'x' does not exist.")),
    (parse_zitadel, ZITADEL, ErrorInfo(5, "App not found (APP-D8fs2)", ("App not found",))),
    (parse_zitadel, ZITADEL_CONNECT, ErrorInfo("not_found", "App not found (APP-D8fs2)")),
    (parse_oauth, OAUTH, ErrorInfo("invalid_client", "client authentication failed")),
])
def test_each_envelope_is_parsed(parser, data, expected):
    assert parser(data) == expected
    assert parse_any(data) == expected  # the default parser knows them all


@pytest.mark.parametrize("data", [None, [], "text", 3, {}, {"errors": []}, {"errors": ["x"]}, {"error": 5},
                                  {"code": 3}, {"errorCauses": []}])
@pytest.mark.parametrize("name", sorted(PARSERS))
def test_parsers_decline_what_is_not_their_envelope(name, data):
    assert PARSERS[name](data) is None


def test_parse_any_falls_back_to_a_bare_message():
    assert parse_any({"message": "boom"}) == ErrorInfo(None, "boom")
    assert parse_any({"detail": "gone"}) == ErrorInfo(None, "gone")


VENDORS = [
    # (envelope, request id header, parser name, code, message)
    (CLOUDFLARE, {"cf-ray": "8c1f-AMS"}, "cloudflare", 10000, "Authentication error"),
    (OKTA, {"X-Okta-Request-Id": "okta-req-1"}, "okta", "E0000001", "Api validation failed: label"),
    (GRAPH, {"request-id": "graph-req-1", "client-request-id": "graph-client-1"}, "graph",
     "Request_ResourceNotFound", "Resource 'x' does not exist."),
    (ZITADEL, {"x-request-id": "zitadel-req-1"}, "zitadel", 5, "App not found (APP-D8fs2)"),
]


@pytest.mark.parametrize("envelope, headers, parser, code, message", VENDORS)
@pytest.mark.parametrize("status", [400, 404, 409, 412])
def test_an_api_error_carries_the_vendor_facts(harness, server, envelope, headers, parser, code, message, status):
    server.add_route("DELETE", "/things/{thing}", lambda request: (status, envelope, headers))
    with pytest.raises(ApiError) as caught:
        harness.client(error_parser=PARSERS[parser]).delete("/things/42")
    error = caught.value
    assert (error.status, error.code, error.vendor_message) == (status, code, message)
    assert error.request_id == next(iter(headers.values()))
    assert error.method == "DELETE" and error.url.endswith("/things/42")
    assert (error.not_found, error.conflict, error.precondition_failed, error.bad_request) == \
        (status == 404, status == 409, status == 412, status == 400)
    text = str(error)
    assert "DELETE" in text and "HTTP {0}".format(status) in text and message in text and error.request_id in text
    assert error.attempts == 1  # a 4xx is never retried
    assert error.to_dict() == {"status": status, "method": "DELETE", "url": error.url, "error_code": code,
                               "request_id": error.request_id}


@pytest.mark.parametrize("status, advice", [
    (401, "check the token"),
    (403, "scopes"),
    (404, "Not found: check the id"),
    (409, "Conflict"),
    (412, "re-run"),
    (501, "The server failed"),
])
def test_the_message_names_the_fix(harness, server, status, advice):
    server.add_route("GET", "/thing", lambda request: (status, {"message": "no"}))
    with pytest.raises(ApiError, match=advice):
        harness.client().get("/thing")


def test_a_non_json_error_body_becomes_the_message(harness, server):
    server.add_route("GET", "/proxy", lambda request: (502, "upstream connect error"))
    with pytest.raises(ApiError, match="upstream connect error") as caught:
        harness.client(retry=None).get("/proxy")
    assert caught.value.code is None and caught.value.vendor_message == "upstream connect error"


def test_an_html_error_page_is_not_quoted(harness, server):
    server.add_route("GET", "/html", lambda request: _raw(404, b"<html><body>nope</body></html>"))
    with pytest.raises(ApiError) as caught:
        harness.client().get("/html")
    assert "<html>" not in str(caught.value) and caught.value.vendor_message is None


def test_server_error_names_the_attempts(harness, server):
    server.add_route("GET", "/down", lambda request: (503, {"message": "maintenance"}))
    with pytest.raises(ApiError, match="maintenance.*Gave up after 4 attempts") as caught:
        harness.client().get("/down")
    assert caught.value.server_error and not caught.value.may_have_applied


def test_a_redirect_is_not_followed(harness, server):
    server.add_route("GET", "/moved", lambda request: (301, None, {"Location": "https://elsewhere.test/x?token=s3"}))
    with pytest.raises(ApiError, match="redirect to https://elsewhere.test/x.*base URL") as caught:
        harness.client().get("/moved")
    assert "s3" not in str(caught.value)


def test_an_absolute_url_on_another_host_is_refused(harness, server):
    with pytest.raises(HttpError, match="not on https://127.0.0.1"):
        harness.client().get("https://evil.test/steal")
    assert server.requests() == []


def test_invalid_json_in_a_success_is_an_error(harness, server):
    server.add_route("GET", "/broken", lambda request: _raw(200, b"{not json", "application/json"))
    with pytest.raises(ApiError, match="not valid JSON"):
        harness.client().get("/broken")


def test_empty_and_text_answers(harness, server):
    server.add_route("DELETE", "/thing", lambda request: None)
    server.add_route("GET", "/metadata", lambda request: _raw(200, b"<xml/>", "text/xml"))
    client = harness.client()
    assert client.delete("/thing") is None
    response = client.request("GET", "/metadata")
    assert response.data is None and response.text == "<xml/>" and response.headers["content-type"] == "text/xml"


def test_plain_http_needs_allow_http(harness, server):
    with pytest.raises(HttpError, match="allow_http"):
        harness.client(server.http_url)
    server.add_route("GET", "/ok", lambda request: {"ok": True})
    assert harness.client(server.http_url, allow_http=True).get("/ok") == {"ok": True}


def test_base_path_and_query_are_kept(harness, server):
    server.add_route("GET", "/v1.0/applications", lambda request: {"filter": request.arg("$filter")})
    client = harness.client(server.url + "/v1.0/")
    assert client.get("applications", params={"$filter": "displayName eq 'AWS'"}) == {"filter": "displayName eq 'AWS'"}
    assert client.get("applications?$filter=identifierUris/any(x:x eq 'https://aws')") == \
        {"filter": "identifierUris/any(x:x eq 'https://aws')"}


def test_a_user_agent_and_json_headers_are_sent(harness, server):
    server.add_route("POST", "/echo", lambda request: {"ua": request.header("User-Agent"),
                                                       "type": request.header("Content-Type"),
                                                       "accept": request.header("Accept"), "body": request.json})
    answer = harness.client(headers={"Connect-Protocol-Version": "1"}).post("/echo", json={"a": 1})
    assert answer["ua"].startswith("idfed.aws_sso") and answer["type"] == "application/json"
    assert answer["accept"] == "application/json" and answer["body"] == {"a": 1}
    assert server.requests()[0]["headers"]["Connect-Protocol-Version"] == "1"
