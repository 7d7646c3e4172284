# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: no compatibility promise; other collections must not import this.

How the REST client authenticates, as a hook: a static header (Cloudflare and ZITADEL PAT
"Authorization: Bearer", Okta "Authorization: SSWS"), the OAuth 2.0 client credentials grant, and the
JWT profile grant (RFC 7523) that ZITADEL service-user keys use. A token is cached for the run and
dropped once on a 401. Every secret an Auth holds or obtains is handed to client.add_secret(), which
masks it in messages and reports it to the module (no_log_values).
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import HttpError

try:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
except ImportError:  # pragma: no cover - the module reports it through _deps.require()
    hashes = None

if TYPE_CHECKING:  # pragma: no cover
    from .client import RestClient

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class Auth:
    """No authentication (LemonLDAP::NG behind a web server that does it). Subclasses override the hooks."""

    def headers(self, client: RestClient) -> dict[str, str]:
        """The headers of one API request; may obtain a token through client.token_request()."""
        return {}

    def refresh(self, client: RestClient) -> bool:
        """Called on a 401: drop what is cached; True when a new attempt may succeed."""
        return False

    def secrets(self) -> Iterable[str]:
        """The secrets known before the first request, for the client to mask and report."""
        return ()


class HeaderAuth(Auth):
    """One fixed header, e.g. Authorization: Bearer <token>; secrets: the parts of value that are secret."""

    def __init__(self, name: str, value: str, secrets: Iterable[str] = ()):
        self.name = name
        self.value = value
        self._secrets = tuple(secrets)

    def headers(self, client: RestClient) -> dict[str, str]:
        return {self.name: self.value}

    def secrets(self) -> Iterable[str]:
        return (self.value,) + self._secrets


def bearer(token: str) -> HeaderAuth:
    """Authorization: Bearer <token> (Cloudflare API tokens, ZITADEL personal access tokens)."""
    return HeaderAuth("Authorization", "Bearer " + token, (token,))


def ssws(token: str) -> HeaderAuth:
    """Authorization: SSWS <token> (Okta API tokens)."""
    return HeaderAuth("Authorization", "SSWS " + token, (token,))


def basic(username: str, password: str) -> HeaderAuth:
    """HTTP basic auth (LemonLDAP::NG's manager API behind a web server that asks for it)."""
    encoded = base64.b64encode("{0}:{1}".format(username, password).encode("utf-8")).decode("ascii")
    return HeaderAuth("Authorization", "Basic " + encoded, (encoded, password))


class TokenAuth(Auth):
    """A bearer token from a token endpoint, cached for the run and re-obtained when it expires or on a 401."""

    def __init__(self, token_url: str, *, scope: str | None = None, margin: float = 60.0,
                 clock: Callable[[], float] = time.time):
        self.token_url = token_url
        self.scope = scope
        self._margin = margin
        self._clock = clock
        self._token: str | None = None
        self._expires = 0.0

    def grant(self, client: RestClient) -> tuple[dict[str, str], dict[str, str]]:
        """(form fields, extra headers) of the token request."""
        raise NotImplementedError

    def headers(self, client: RestClient) -> dict[str, str]:
        if self._token is None or self._clock() >= self._expires - self._margin:
            self._obtain(client)
        return {"Authorization": "Bearer " + str(self._token)}

    def refresh(self, client: RestClient) -> bool:
        self._token = None
        return True

    def _obtain(self, client: RestClient) -> None:
        form, headers = self.grant(client)
        if self.scope:
            form["scope"] = self.scope
        answer = client.token_request(self.token_url, form, headers)
        token = answer.get("access_token") if isinstance(answer, Mapping) else None
        if not isinstance(token, str) or not token:
            raise HttpError("The token endpoint {0} answered without an access_token; check token_url points at "
                            "the OAuth token endpoint.".format(client.redact_url(self.token_url)))
        client.add_secret(token)
        try:
            lifetime = float(answer.get("expires_in", 3600))
        except (TypeError, ValueError):
            lifetime = 3600.0
        self._token, self._expires = token, self._clock() + lifetime


class ClientCredentials(TokenAuth):
    """OAuth 2.0 client credentials (RFC 6749, 4.4): Microsoft Graph, Okta and ZITADEL service users."""

    def __init__(self, token_url: str, client_id: str, client_secret: str, *, scope: str | None = None,
                 basic: bool = False, **kwargs: Any):
        super().__init__(token_url, scope=scope, **kwargs)
        self.client_id = client_id
        self._client_secret = client_secret
        self._basic = basic  # client_secret_basic instead of client_secret_post

    def secrets(self) -> Iterable[str]:
        return (self._client_secret,)

    def grant(self, client: RestClient) -> tuple[dict[str, str], dict[str, str]]:
        form = {"grant_type": "client_credentials"}
        if not self._basic:
            form.update(client_id=self.client_id, client_secret=self._client_secret)
            return form, {}
        header = basic(self.client_id, self._client_secret)
        for secret in header.secrets():
            client.add_secret(secret)
        return form, header.headers(client)


@dataclass(frozen=True)
class ServiceKey:
    """A ZITADEL key file: {"type": "serviceaccount", "keyId", "key" (PEM RSA private key), "userId"}.
    Application keys carry "clientId" instead of "userId"; either is the JWT's issuer and subject."""

    key_id: str
    private_key: str
    subject: str

    def __repr__(self) -> str:  # a key in a traceback or a debug print would leak
        return "ServiceKey(key_id={0!r}, subject={1!r})".format(self.key_id, self.subject)


def load_service_key(source: str | Mapping[str, Any]) -> ServiceKey:
    """A ServiceKey from a dict, JSON text, or the path of a JSON key file; HttpError naming what is wrong."""
    data: Any = source
    if isinstance(source, str):
        text = source
        if not source.lstrip().startswith(("{", "[")):
            try:
                with open(os.path.expanduser(source), encoding="utf-8") as handle:
                    text = handle.read()
            except OSError as exc:
                raise HttpError("Cannot read the key file {0}: {1}.".format(source, exc.strerror or exc)) from None
        try:
            data = json.loads(text)
        except ValueError:
            raise HttpError("The service key is not JSON: pass the key file as downloaded (keyId, key, userId)."
                            ) from None
    if not isinstance(data, Mapping):
        raise HttpError("The service key must be a JSON object with keyId, key and userId.")
    subject = data.get("userId") or data.get("clientId")
    missing = [name for name, value in (("keyId", data.get("keyId")), ("key", data.get("key")),
                                        ("userId", subject)) if not isinstance(value, str) or not value]
    if missing:
        raise HttpError("The service key lacks {0}: pass the JSON key file as downloaded.".format(
            ", ".join(missing)))
    return ServiceKey(data["keyId"], data["key"], subject)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sign_rs256(claims: Mapping[str, Any], private_key_pem: str, key_id: str | None = None) -> str:
    """A compact JWS (RS256) of claims, with kid in the header when given."""
    try:
        key = serialization.load_pem_private_key(private_key_pem.encode("utf-8"), password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise HttpError("The service key's key is not an unencrypted PEM RSA private key; download a new key.")
    header = {"alg": "RS256", "typ": "JWT"}
    if key_id:
        header["kid"] = key_id
    signing_input = "{0}.{1}".format(_b64url(json.dumps(header, separators=(",", ":")).encode()),
                                     _b64url(json.dumps(dict(claims), separators=(",", ":")).encode()))
    signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + _b64url(signature)


class JwtProfile(TokenAuth):
    """The JWT bearer grant (RFC 7523, 2.1): a JWT signed with the service key is exchanged for a token.
    audience is the issuer URL (ZITADEL: https://<instance domain>)."""

    def __init__(self, token_url: str, key: ServiceKey, audience: str, *, scope: str | None = None,
                 lifetime: int = 600, **kwargs: Any):
        super().__init__(token_url, scope=scope, **kwargs)
        self.key = key
        self.audience = audience
        self.lifetime = lifetime

    def secrets(self) -> Iterable[str]:
        return (self.key.private_key,)

    def assertion(self, now: float | None = None) -> str:
        issued = int(self._clock() if now is None else now)
        claims = {"iss": self.key.subject, "sub": self.key.subject, "aud": self.audience, "iat": issued,
                  "exp": issued + self.lifetime}
        return sign_rs256(claims, self.key.private_key, self.key.key_id)

    def grant(self, client: RestClient) -> tuple[dict[str, str], dict[str, str]]:
        assertion = self.assertion()
        client.add_secret(assertion)
        return {"grant_type": JWT_BEARER_GRANT, "assertion": assertion}, {}
