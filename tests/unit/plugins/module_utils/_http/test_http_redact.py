# -*- coding: utf-8 -*-
"""No secret in any exception message, log line or returned dict: the rules of redact.py, then every
path of the client driven with secrets everywhere, searching the strings it produced."""

from __future__ import annotations

import json

import pytest

from ansible_collections.idfed.aws_sso.plugins.module_utils._http.auth import ClientCredentials, bearer
from ansible_collections.idfed.aws_sso.plugins.module_utils._http.errors import ApiError, HttpError
from ansible_collections.idfed.aws_sso.plugins.module_utils._http.redact import (
    is_secret_key, mask_secrets, data_secrets, redact_data, redact_headers, redact_url)

URL_PASSWORD = "url-password-1"
QUERY_TOKEN = "query-token-2"
API_TOKEN = "api-token-3"
CLIENT_SECRET = "client-secret-4"
ISSUED_TOKEN = "issued-token-5"
SECRETS = (URL_PASSWORD, QUERY_TOKEN, API_TOKEN, CLIENT_SECRET, ISSUED_TOKEN)


@pytest.mark.parametrize("name", ["client_secret", "password", "token", "private_key", "key", "secret",
                                  "assertion", "access_token", "refreshToken", "apiKey", "X-API-Key",
                                  "sharedSecret", "clientSecret", "id_token", "credentials"])
def test_secret_keys(name):
    assert is_secret_key(name)


@pytest.mark.parametrize("name", ["public_key", "publicKey", "keyId", "kid", "confKey", "name", "token_url",
                                  "tokenType", "code", "id", "secretless", 3, None])
def test_keys_that_are_not_secret(name):
    assert not is_secret_key(name)


def test_redact_data_masks_keys_values_and_pairs():
    data = {"name": "aws", "client_secret": "s", "nested": [{"password": "p", "keyId": "k1"}],
            "saas_app": {"public_key": "MIIB...", "sp_entity_id": "urn:x"}, "token": None, "key": "",
            "secrets": [{"key": "SecretToken", "value": "scim-token"}, {"key": "BaseAddress", "value": "https://s"}],
            "note": "issued token tok-9 inside text"}
    masked = redact_data(data, secrets={"tok-9"})
    assert masked == {"name": "aws", "client_secret": "***", "nested": [{"password": "***", "keyId": "k1"}],
                      "saas_app": {"public_key": "MIIB...", "sp_entity_id": "urn:x"}, "token": None, "key": "",
                      "secrets": [{"key": "SecretToken", "value": "***"}, {"key": "BaseAddress", "value": "https://s"}],
                      "note": "issued token *** inside text"}
    assert data["client_secret"] == "s"  # a copy, not in place


def test_data_secrets_are_what_redact_data_masks():
    body = {"name": "aws", "client_secret": "s1", "items": [{"password": "p1"}, {"key": "SecretToken", "value": "t1"}],
            "public_key": "pk", "token": None}
    assert data_secrets(body) == {"s1", "p1", "t1"}
    assert data_secrets(None) == set() and data_secrets(["a"]) == set()


def test_redact_headers_keeps_the_scheme():
    headers = {"Authorization": "SSWS abc", "Cookie": "sid=1", "Set-Cookie": "sid=2", "X-Auth-Key": "k",
               "X-API-Key": "k", "Proxy-Authorization": "Basic xyz", "Accept": "application/json"}
    assert redact_headers(headers) == {"Authorization": "SSWS ***", "Cookie": "***", "Set-Cookie": "***",
                                       "X-Auth-Key": "***", "X-API-Key": "***", "Proxy-Authorization": "Basic ***",
                                       "Accept": "application/json"}


def test_mask_secrets_longest_first():
    assert mask_secrets("abc abcdef", ["abc", "abcdef", ""]) == "*** ***"


def test_redact_url_ipv6_and_credentials():
    assert redact_url("https://u:p@[::1]:8443/x?client_secret=s&a=1") == "https://***@[::1]:8443/x?client_secret=***&a=1"


# ------------------------------------------------------------------------------------ the sweep

def _assert_clean(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, "{0!r} leaked in {1!r}".format(secret, text)


@pytest.fixture
def leaky(server):
    """An API that echoes every credential it sees into its answers and errors."""
    def echo(request):
        seen = "{0} {1} {2}".format(request.header("Authorization"), request.path, request.query)
        return 400, {"error": {"code": "Bad", "message": "rejected " + seen,
                               "details": [{"code": "x", "message": "header " + str(request.header("Authorization"))}]}}

    def token(request):
        return {"access_token": ISSUED_TOKEN, "expires_in": 3600}

    def created(request):
        return 201, {"id": "1", "client_secret": CLIENT_SECRET, "echo": request.json,
                     "note": "use " + ISSUED_TOKEN}

    server.add_route("GET", "/echo", echo)
    server.add_route("POST", "/oauth/token", token)
    server.add_route("POST", "/apps", created)
    server.add_route("GET", "/flaky", lambda request: (503, {"message": "down for " + str(request.query)}))
    server.add_route("POST", "/lost", lambda request: {"ok": True})
    return server


def test_no_secret_in_errors_logs_or_returned_dicts(harness, leaky):
    with_password = harness.client(leaky.url.replace("https://", "https://user:{0}@".format(URL_PASSWORD)))
    static = harness.client(auth=bearer(API_TOKEN))
    oauth = harness.client(auth=ClientCredentials(leaky.url + "/oauth/token", "id", CLIENT_SECRET))
    texts: list[str] = []

    for client in (with_password, static, oauth):
        for call in (lambda c: c.get("/echo", params={"access_token": QUERY_TOKEN}),
                     lambda c: c.get("/flaky?token=" + QUERY_TOKEN),
                     lambda c: c.get("https://evil.test/?token=" + QUERY_TOKEN)):
            with pytest.raises(HttpError) as caught:
                call(client)
            error = caught.value
            texts.append(str(error))
            if isinstance(error, ApiError):
                texts += [error.url, str(error.vendor_message), json.dumps(error.details), json.dumps(error.to_dict())]
        created = client.post("/apps", json={"name": "aws", "password": "pw", "token": ISSUED_TOKEN})
        texts.append(json.dumps(client.redact(created)))
        leaky.drop_after_write(method="POST", path="/lost")
        with pytest.raises(ApiError) as caught:
            client.post("/lost", json={"client_secret": CLIENT_SECRET})
        texts.append(str(caught.value))

    assert len(harness.logs) >= 9  # retries of /flaky and the token fetch
    _assert_clean(*texts, *harness.logs)
    assert set(SECRETS) <= harness.reported
    assert "user:" not in " ".join(texts)  # userinfo is dropped with the password
    assert "***" in texts[0]  # still says where something was masked


def test_url_credentials_become_basic_auth(harness, server):
    server.add_route("GET", "/me", lambda request: {"auth": request.header("Authorization")})
    client = harness.client(server.url.replace("https://", "https://lemon%40admin:p%3Ass@"))
    assert client.base_url == server.url
    assert client.get("/me") == {"auth": "Basic bGVtb25AYWRtaW46cDpzcw=="}  # lemon@admin:p:ss
    assert "p:ss" in harness.reported
    with pytest.raises(HttpError, match="pass the credentials once"):
        harness.client(server.url.replace("https://", "https://u:p@"), auth=bearer(API_TOKEN))


def test_secret_headers_are_reported_and_masked(harness, server):
    server.add_route("GET", "/k", lambda request: (403, {"message": "key " + str(request.header("X-Auth-Key"))}))
    client = harness.client(headers={"X-Auth-Key": "global-key-6"})
    with pytest.raises(ApiError) as caught:
        client.get("/k", headers={"X-API-Key": "call-key-7"})
    assert {"global-key-6", "call-key-7"} <= harness.reported
    assert "global-key-6" not in str(caught.value) and "key ***" in str(caught.value)
