# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: no compatibility promise; other collections must not import this.

Errors as data. HttpError is any user-facing HTTP failure; ApiError, raised by the REST client, also
carries the status, method, redacted URL, the vendor's own error code and message and the request id,
so a caller tells 404 from 409 from 412 by exc.status, never by parsing text. The parsers read the
error envelopes of the IdP APIs; a vendor client picks one (or writes its own ErrorParser). Pure Python.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


class HttpError(Exception):
    """A user-facing failure: the message names the problem and the fix; status is the HTTP status, if any."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ErrorInfo:
    """What a vendor's error envelope says: its own code, message, and further causes."""

    code: str | int | None = None
    message: str | None = None
    details: tuple[str, ...] = field(default_factory=tuple)


ErrorParser = Callable[[Any], "ErrorInfo | None"]

# What to do about a status, in the user's terms; vendor clients may add their own advice to the message.
STATUS_HINTS = {
    400: "The API rejected the request: check the values its message names.",
    401: "The API did not accept the credentials: check the token (or client id and secret, or key file) is "
         "valid, not expired and for this tenant.",
    403: "The credentials are valid but lack permission: check the token's scopes or the service account's "
         "roles allow this call.",
    404: "Not found: check the id or name, the base URL and the tenant or account.",
    409: "Conflict: an object with the same name or identifier exists, or it was changed at the same time.",
    412: "Precondition failed: the object changed since it was read; re-run the task.",
    429: "Rate-limited: wait and re-run, or lower the number of tasks that call this API at once (forks).",
}
SERVER_ERROR_HINT = "The server failed: it may be down or overloaded; retry later."


class ApiError(HttpError):
    """A failed REST call. status is None when no answer came back (connection, timeout, deadline)."""

    def __init__(self, message: str, *, method: str, url: str, status: int | None = None,
                 code: str | int | None = None, vendor_message: str | None = None, request_id: str | None = None,
                 details: tuple[str, ...] = (), attempts: int = 1, may_have_applied: bool = False):
        super().__init__(message, status)
        self.method = method
        self.url = url
        self.code = code
        self.vendor_message = vendor_message
        self.request_id = request_id
        self.details = details
        self.attempts = attempts
        # True when the request may have reached the server and was not retried (POST/PATCH after it was sent).
        self.may_have_applied = may_have_applied

    bad_request = property(lambda self: self.status == 400)
    unauthorized = property(lambda self: self.status == 401)
    forbidden = property(lambda self: self.status == 403)
    not_found = property(lambda self: self.status == 404)
    conflict = property(lambda self: self.status == 409)
    precondition_failed = property(lambda self: self.status == 412)
    rate_limited = property(lambda self: self.status == 429)
    server_error = property(lambda self: self.status is not None and self.status >= 500)

    def to_dict(self) -> dict[str, Any]:
        """The facts a module returns next to msg (all redacted already)."""
        return {"status": self.status, "method": self.method, "url": self.url, "error_code": self.code,
                "request_id": self.request_id}


# ----------------------------------------------------------------------------------------- envelopes

def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_cloudflare(data: Any) -> ErrorInfo | None:
    """{"success": false, "errors": [{"code": 10000, "message": "..."}], ...}"""
    if not isinstance(data, Mapping) or not isinstance(data.get("errors"), list) or not data["errors"]:
        return None
    errors = [error for error in data["errors"] if isinstance(error, Mapping)]
    if not errors:
        return None
    first = errors[0]
    rest = tuple("{0}: {1}".format(error.get("code"), error.get("message")) for error in errors[1:])
    return ErrorInfo(first.get("code"), _text(first.get("message")), rest)


def parse_okta(data: Any) -> ErrorInfo | None:
    """{"errorCode": "E0000001", "errorSummary": "...", "errorCauses": [{"errorSummary": "..."}]}"""
    if not isinstance(data, Mapping) or "errorCode" not in data:
        return None
    causes = tuple(cause["errorSummary"] for cause in data.get("errorCauses") or ()
                   if isinstance(cause, Mapping) and _text(cause.get("errorSummary")))
    return ErrorInfo(data.get("errorCode"), _text(data.get("errorSummary")), causes)


def parse_graph(data: Any) -> ErrorInfo | None:
    """{"error": {"code": "Request_ResourceNotFound", "message": "...", "innerError": {...}}}"""
    error = data.get("error") if isinstance(data, Mapping) else None
    if not isinstance(error, Mapping):
        return None
    details = tuple("{0}: {1}".format(item.get("code"), item.get("message"))
                    for item in error.get("details") or () if isinstance(item, Mapping))
    return ErrorInfo(error.get("code"), _text(error.get("message")), details)


def parse_zitadel(data: Any) -> ErrorInfo | None:
    """gRPC gateway {"code": 5, "message": "...", "details": [...]} and Connect {"code": "not_found", ...}."""
    if not isinstance(data, Mapping) or "code" not in data or "message" not in data:
        return None
    details = tuple(str(item.get("message") or item.get("id") or item) for item in data.get("details") or ()
                    if isinstance(item, Mapping) and (item.get("message") or item.get("id")))
    return ErrorInfo(data.get("code"), _text(data.get("message")), details)


def parse_oauth(data: Any) -> ErrorInfo | None:
    """RFC 6749 token endpoint errors: {"error": "invalid_client", "error_description": "..."}"""
    if not isinstance(data, Mapping) or not _text(data.get("error")):
        return None
    return ErrorInfo(data["error"], _text(data.get("error_description")))


def parse_any(data: Any) -> ErrorInfo | None:
    """Every envelope above, then a bare {"message"} / {"error"} / {"detail"}: the default parser."""
    for parser in (parse_graph, parse_oauth, parse_cloudflare, parse_okta, parse_zitadel):
        info = parser(data)
        if info is not None:
            return info
    if isinstance(data, Mapping):
        for key in ("message", "error", "detail", "title"):
            if _text(data.get(key)):
                return ErrorInfo(None, data[key])
    return None


PARSERS: dict[str, ErrorParser] = {
    "cloudflare": parse_cloudflare,
    "okta": parse_okta,
    "graph": parse_graph,
    "zitadel": parse_zitadel,
    "oauth": parse_oauth,
    "any": parse_any,
}


def status_hint(status: int) -> str:
    if status >= 500:
        return SERVER_ERROR_HINT
    return STATUS_HINTS.get(status, "")


def describe_status(method: str, url: str, status: int, reason: str, info: ErrorInfo | None,
                    request_id: str | None) -> str:
    """The first sentence of an ApiError: the call, the status, and what the vendor said."""
    parts = ["{0} {1} failed: HTTP {2}{3}".format(method, url, status, " " + reason if reason else "")]
    if info is not None and (info.code is not None or info.message):
        said = ": ".join(str(item) for item in (info.code, info.message) if item not in (None, ""))
        parts.append(": " + said)
        if info.details:
            parts.append(" ({0})".format("; ".join(info.details)))
    if request_id:
        parts.append(" [request id {0}]".format(request_id))
    return "".join(parts) + "."
