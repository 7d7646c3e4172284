# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: no compatibility promise; other collections must not import this.

Keeping credentials out of every message, log line, diff and return value: the one home of the rules
(which query keys, headers and JSON keys hold secrets) and of the masking itself. Pure Python.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
_SECRET_QUERY_KEYS = re.compile(r"token|key|secret|sig|signature|password|pass|auth|code", re.IGNORECASE)
SECRET_HEADERS = frozenset((
    "authorization", "proxy-authorization", "cookie", "set-cookie", "x-auth-key", "x-api-key", "x-auth-token",
))
# JSON keys, compared lower-case without "_" and "-": exact names, then endings.
_SECRET_NAMES = frozenset(("key", "pass", "passwd", "pwd", "authorization", "cookie", "credentials", "credential"))
_SECRET_ENDINGS = ("password", "passphrase", "secret", "token", "privatekey", "apikey", "secretkey", "accesskey",
                   "assertion")
# {"key": "SecretToken", "value": "..."} (Graph synchronization secrets): the name says what the value is.
_PAIR_NAMES = ("key", "name")


def redact_url(url: str) -> str:
    """Drop userinfo and mask secret-looking query values, for messages and return values."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:  # an unbalanced [IPv6] bracket, a port out of range
        return "<unparseable URL>"
    netloc = "[{0}]".format(host) if ":" in host else host
    if port:
        netloc += ":{0}".format(port)
    if parts.username or parts.password:
        netloc = MASK + "@" + netloc
    query = urlencode([(key, MASK if _SECRET_QUERY_KEYS.search(key) else value)
                       for key, value in parse_qsl(parts.query, keep_blank_values=True)], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def url_secrets(url: str) -> set[str]:
    """The values redact_url() masks (the password and secret-looking query values), for a caller that must
    also keep them out of what it logs or returns, such as Ansible's no_log_values."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return set()
    secrets = {value for key, value in parse_qsl(parts.query, keep_blank_values=True)
               if _SECRET_QUERY_KEYS.search(key) and value}
    if password:
        secrets.add(password)
    return secrets


def is_secret_header(name: str) -> bool:
    return name.lower() in SECRET_HEADERS


def redact_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """A copy of headers with credential headers masked (the auth scheme stays visible: "Bearer ***")."""
    result = {}
    for name, value in (headers or {}).items():
        if is_secret_header(name) and value:
            scheme = value.split(" ", 1)[0] if " " in value and name.lower().endswith("authorization") else ""
            value = "{0} {1}".format(scheme, MASK) if scheme else MASK
        result[name] = value
    return result


def is_secret_key(name: object) -> bool:
    """Whether a JSON or form key names a secret: client_secret, password, token, private_key, key, assertion..."""
    if not isinstance(name, str):
        return False
    normalized = re.sub(r"[^a-z0-9]", "", name.lower())
    if normalized.startswith("public"):  # Cloudflare's public_key is the certificate users need to see
        return False
    return normalized in _SECRET_NAMES or normalized.endswith(_SECRET_ENDINGS)


def mask_secrets(text: str, secrets: Iterable[str]) -> str:
    """Replace every known secret value in text (longest first, so a token's prefix cannot survive)."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def redact_data(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A copy of a JSON-like value with secret-looking keys masked and known secret values replaced, for errors,
    diffs and return values. None and empty values stay as they are, so a diff still shows what is unset."""
    known = tuple(secrets)
    if isinstance(value, Mapping):
        hidden = _secret_fields(value)
        return {name: MASK if name in hidden else redact_data(item, known) for name, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_data(item, known) for item in value]
    if isinstance(value, str):
        return mask_secrets(value, known)
    return value


def data_secrets(value: Any) -> set[str]:
    """The string values redact_data() masks by their key, e.g. in a request body, to mask them wherever
    else they show up (an API that echoes them in an error message)."""
    if isinstance(value, Mapping):
        hidden = _secret_fields(value)
        found = {item for name, item in value.items() if name in hidden and isinstance(item, str)}
        for name, item in value.items():
            if name not in hidden:
                found |= data_secrets(item)
        return found
    if isinstance(value, (list, tuple)):
        return set().union(*(data_secrets(item) for item in value))
    return set()


def _secret_fields(value: Mapping) -> set:
    """The keys of a mapping whose (non-empty) values are secrets."""
    pair_name = next((value[name] for name in _PAIR_NAMES if isinstance(value.get(name), str)), None)
    if pair_name is not None and "value" in value:
        return {"value"} if is_secret_key(pair_name) and value["value"] else set()
    return {name for name, item in value.items() if is_secret_key(name) and item not in (None, "", [], {})}
