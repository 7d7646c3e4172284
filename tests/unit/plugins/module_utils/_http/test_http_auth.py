# -*- coding: utf-8 -*-
"""Auth hooks: static headers, OAuth client credentials (cached, refreshed exactly once on a 401) and
the JWT profile grant, whose assertion must verify with the service key's public key."""

from __future__ import annotations

import base64
import json
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from ansible_collections.idfed.aws_sso.plugins.module_utils._http.auth import (
    JWT_BEARER_GRANT, Auth, ClientCredentials, HeaderAuth, JwtProfile, bearer, load_service_key, sign_rs256, ssws)
from ansible_collections.idfed.aws_sso.plugins.module_utils._http.errors import ApiError, HttpError

TOKEN = "cf-api-token-0123456789"
CLIENT_SECRET = "client-secret-value-42"


def _unpadded(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


@pytest.fixture
def whoami(server):
    server.add_route("GET", "/me", lambda request: {"authorization": request.header("Authorization")})


@pytest.mark.parametrize("auth, header", [
    (bearer(TOKEN), "Bearer " + TOKEN),
    (ssws(TOKEN), "SSWS " + TOKEN),
    (HeaderAuth("X-Auth-Key", TOKEN), None),
])
def test_static_header_auth(harness, server, whoami, auth, header):
    answer = harness.client(auth=auth).get("/me")
    assert answer["authorization"] == header
    assert TOKEN in harness.reported  # for module.no_log_values
    logged = server.requests()[0]["headers"]
    assert TOKEN not in json.dumps(logged)


def test_no_auth_sends_no_credentials(harness, server, whoami):
    assert harness.client(auth=Auth()).get("/me") == {"authorization": None}


# ------------------------------------------------------------------------------- client credentials

class TokenEndpoint:
    """An OAuth token endpoint and an API that accepts only the tokens listed in `valid`."""

    def __init__(self, server, lifetime: int = 3600):
        self.issued: list[str] = []
        self.valid: set[str] = set()
        self.forms: list[dict] = []
        self.headers: list[dict] = []
        self.lifetime = lifetime
        server.add_route("POST", "/oauth/token", self.token)
        server.add_route("GET", "/api/things", self.api)

    def token(self, request):
        self.forms.append(request.form)
        self.headers.append(dict(request.headers))
        if request.form.get("client_secret", CLIENT_SECRET) != CLIENT_SECRET:
            return 401, {"error": "invalid_client", "error_description": "bad secret " + request.form["client_secret"]}
        token = "access-token-{0}".format(len(self.issued) + 1)
        self.issued.append(token)
        return {"access_token": token, "token_type": "Bearer", "expires_in": self.lifetime}

    def api(self, request):
        token = (request.header("Authorization") or "").replace("Bearer ", "")
        if token not in self.valid:
            return 401, {"error": {"code": "InvalidAuthenticationToken", "message": "Access token has expired."}}
        return {"value": [1, 2]}


def _credentials(server, **options) -> ClientCredentials:
    return ClientCredentials(server.url + "/oauth/token", "client-id", CLIENT_SECRET,
                             scope="https://graph.microsoft.com/.default", **options)


def test_client_credentials_token_is_obtained_once_and_cached(harness, server):
    endpoint = TokenEndpoint(server)
    endpoint.valid.add("access-token-1")
    client = harness.client(auth=_credentials(server))
    assert client.get("/api/things") == {"value": [1, 2]}
    assert client.get("/api/things") == {"value": [1, 2]}
    assert endpoint.forms == [{"grant_type": "client_credentials", "client_id": "client-id",
                               "client_secret": CLIENT_SECRET, "scope": "https://graph.microsoft.com/.default"}]
    assert {CLIENT_SECRET, "access-token-1"} <= harness.reported
    assert any("Obtained an access token" in line for line in harness.logs)


def test_client_secret_basic(harness, server):
    endpoint = TokenEndpoint(server)
    endpoint.valid.add("access-token-1")
    harness.client(auth=_credentials(server, basic=True)).get("/api/things")
    expected = base64.b64encode("client-id:{0}".format(CLIENT_SECRET).encode()).decode()
    assert endpoint.headers[0]["Authorization"] == "Basic " + expected
    assert "client_secret" not in endpoint.forms[0]
    assert expected in harness.reported


def test_a_401_refreshes_the_token_exactly_once(harness, server):
    endpoint = TokenEndpoint(server)
    endpoint.valid.add("access-token-2")  # the first token was revoked after it was issued
    assert harness.client(auth=_credentials(server)).get("/api/things") == {"value": [1, 2]}
    assert endpoint.issued == ["access-token-1", "access-token-2"]
    assert [entry["status"] for entry in server.requests("GET", "/api/things")] == [401, 200]


def test_a_second_401_fails_clearly(harness, server):
    endpoint = TokenEndpoint(server)  # no token is ever accepted
    with pytest.raises(ApiError) as caught:
        harness.client(auth=_credentials(server)).get("/api/things")
    error = caught.value
    assert error.unauthorized and error.code == "InvalidAuthenticationToken"
    assert "check the token" in str(error)
    assert len(endpoint.issued) == 2 and len(server.requests("GET", "/api/things")) == 2
    assert not any(token in str(error) for token in endpoint.issued)


def test_an_expiring_token_is_renewed_before_use(harness, server):
    endpoint = TokenEndpoint(server, lifetime=30)  # inside the 60-second margin: always renewed
    endpoint.valid.update({"access-token-1", "access-token-2"})
    client = harness.client(auth=_credentials(server))
    client.get("/api/things")
    client.get("/api/things")
    assert endpoint.issued == ["access-token-1", "access-token-2"]


def test_a_rejected_client_secret_names_the_fix_without_the_secret(harness, server):
    TokenEndpoint(server)
    auth = ClientCredentials(server.url + "/oauth/token", "client-id", "wrong-secret-value")
    with pytest.raises(ApiError) as caught:
        harness.client(auth=auth).get("/api/things")
    error = caught.value
    assert error.status == 401 and error.code == "invalid_client" and error.method == "POST"
    assert "Getting an access token failed" in str(error)
    assert "wrong-secret-value" not in str(error) and "wrong-secret-value" not in error.vendor_message
    assert server.requests("GET", "/api/things") == []


def test_a_token_answer_without_a_token_is_named(harness, server):
    server.add_route("POST", "/oauth/token", lambda request: {"token_type": "Bearer"})
    with pytest.raises(HttpError, match="without an access_token"):
        harness.client(auth=_credentials(server)).get("/api/things")


# ------------------------------------------------------------------------------------- JWT profile

@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _key_file(key, tmp_path, **overrides) -> str:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption()).decode()
    data = {"type": "serviceaccount", "keyId": "181828078849229095", "key": pem, "userId": "181828061098934529"}
    data.update(overrides)
    path = tmp_path / "key.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_jwt_profile_assertion_verifies_and_has_the_claims(harness, server, rsa_key, tmp_path):
    forms = []

    def token(request):
        forms.append(request.form)
        return {"access_token": "zitadel-token", "token_type": "Bearer", "expires_in": 43199}

    server.add_route("POST", "/oauth/v2/token", token)
    server.add_route("GET", "/management/v1/orgs/me", lambda request: {"auth": request.header("Authorization")})
    key = load_service_key(_key_file(rsa_key, tmp_path))
    auth = JwtProfile(server.url + "/oauth/v2/token", key, "https://zitadel.example.test",
                      scope="openid urn:zitadel:iam:org:project:id:zitadel:aud")
    before = int(time.time())
    assert harness.client(auth=auth).get("/management/v1/orgs/me") == {"auth": "Bearer zitadel-token"}

    form = forms[0]
    assert form["grant_type"] == JWT_BEARER_GRANT == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    assert form["scope"] == "openid urn:zitadel:iam:org:project:id:zitadel:aud"
    header_part, claims_part, signature = form["assertion"].split(".")
    rsa_key.public_key().verify(_unpadded(signature), "{0}.{1}".format(header_part, claims_part).encode(),
                                padding.PKCS1v15(), hashes.SHA256())  # raises InvalidSignature otherwise
    header, claims = json.loads(_unpadded(header_part)), json.loads(_unpadded(claims_part))
    assert header == {"alg": "RS256", "typ": "JWT", "kid": "181828078849229095"}
    assert claims["iss"] == claims["sub"] == "181828061098934529"
    assert claims["aud"] == "https://zitadel.example.test"
    assert before <= claims["iat"] <= int(time.time()) and claims["exp"] == claims["iat"] + 600
    assert {form["assertion"], key.private_key, "zitadel-token"} <= harness.reported
    assert "BEGIN" not in json.dumps(server.requests())  # the server log masks the assertion too


def test_a_service_key_from_text_or_dict_and_its_repr(rsa_key, tmp_path):
    path = _key_file(rsa_key, tmp_path, userId=None, clientId="app-client-id")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    for source in (path, text, json.loads(text)):
        key = load_service_key(source)
        assert key.subject == "app-client-id" and key.key_id == "181828078849229095"
    assert "PRIVATE" not in repr(key)


@pytest.mark.parametrize("source, fragment", [
    ("/nonexistent/key.json", "Cannot read the key file"),
    ("{not json", "not JSON"),
    ('{"keyId": "1", "userId": "2"}', "lacks key"),
    ("[]", "must be a JSON object"),
])
def test_a_broken_service_key_is_named(source, fragment):
    with pytest.raises(HttpError, match=fragment):
        load_service_key(source)


def test_only_an_rsa_key_signs():
    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    for pem in (ec_pem, "not a key"):
        with pytest.raises(HttpError, match="RSA private key") as caught:
            sign_rs256({"a": 1}, pem)
        assert "BEGIN" not in str(caught.value)
