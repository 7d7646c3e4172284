# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: no compatibility promise; other collections must not import this.

What the document fetch and the REST client share below HTTP semantics: the URL checks, the capped
streaming read, and what a requests exception means: its user-facing description, and whether the
request can have reached the server (which decides if a POST may be sent again).
"""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

from .errors import HttpError
from .redact import redact_url

try:
    import requests
    from urllib3.exceptions import NewConnectionError, ReadTimeoutError
except ImportError:  # pragma: no cover - the module reports it through _deps.require()
    requests = None

USER_AGENT = "idfed.aws_sso (+https://github.com/idfed/aws_sso)"
# The HTTP layer's own cap on a response body; callers that know their documents pass a smaller one.
MAX_RESPONSE_SIZE = 16 * 1024 * 1024

# What a transport failure was; see classify().
TLS, NOT_SENT, READ_TIMEOUT, DROPPED, OTHER = "tls", "not_sent", "read_timeout", "dropped", "other"


def check_scheme(url: str, allow_http: bool, hop: str = "") -> None:
    """Refuse what must not be fetched: a URL that does not parse, plain http unless allowed, other schemes."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 pylint: disable=pointless-statement  # raises for a port out of range
    except ValueError as exc:
        raise HttpError("The URL{0} is not valid ({1}): {2}.".format(hop, exc, redact_url(url))) from None
    scheme = parts.scheme.lower()
    if scheme in ("http", "https") and not parts.hostname:
        raise HttpError("The URL{0} has no host name: {1}.".format(hop, redact_url(url)))
    if scheme == "https":
        return
    if scheme == "http":
        if allow_http:
            return
        raise HttpError(
            "Refused plain http{0}: {1}. A document fetched without TLS can be swapped in transit; "
            "use the https:// URL, or set allow_http: true for a trusted test endpoint.".format(hop, redact_url(url)))
    raise HttpError("Unsupported URL scheme {0!r} in {1}: use an https:// URL.".format(scheme, redact_url(url)))


def read_capped(response, url: str, max_size: int, deadline: float, timeout: float) -> bytes:
    """The body of a streamed response, refused past max_size bytes or past deadline (time.monotonic())."""
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_size:
        raise HttpError("{0} is {1} bytes, larger than max_size ({2} bytes); raise max_size if the document is "
                        "legitimate.".format(redact_url(url), declared, max_size))
    chunks, size = [], 0
    for chunk in response.iter_content(chunk_size=65536):
        size += len(chunk)
        if size > max_size:
            raise HttpError("{0} sent more than max_size ({1} bytes) and was cut off; raise max_size if the "
                            "document is legitimate.".format(redact_url(url), max_size))
        if time.monotonic() > deadline:
            raise HttpError("Reading {0} took longer than the {1}-second timeout; raise timeout or check the "
                            "server.".format(redact_url(url), timeout))
        chunks.append(chunk)
    return b"".join(chunks)


def classify(exc: Exception) -> str:
    """TLS, NOT_SENT (connection refused, DNS, connect timeout: the server cannot have seen the request),
    READ_TIMEOUT and DROPPED (sent, answer lost: a write may have been applied), or OTHER."""
    if isinstance(exc, requests.exceptions.SSLError):
        return TLS
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return NOT_SENT
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return READ_TIMEOUT
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = getattr(exc.args[0], "reason", exc.args[0]) if exc.args else None
        if isinstance(reason, NewConnectionError):
            return NOT_SENT
        if isinstance(reason, ReadTimeoutError):  # raised while streaming the body
            return READ_TIMEOUT
        return DROPPED
    return OTHER


def describe_failure(exc: Exception, url: str, timeout: float) -> str:
    safe = redact_url(url)
    kind = classify(exc)
    if kind == TLS:
        return ("TLS verification failed for {0} ({1}). If the server uses a private CA, pass its certificate "
                "bundle in ca_path; set validate_certs: false only for a throwaway test.".format(
                    safe, short_reason(exc)))
    if kind == READ_TIMEOUT or isinstance(exc, requests.exceptions.Timeout):
        return "The request to {0} timed out after {1} seconds; raise timeout or check the host is reachable.".format(
            safe, timeout)
    if kind == NOT_SENT:
        return "Cannot connect to {0} ({1}); check the host name, port and network path.".format(
            safe, short_reason(exc))
    if kind == DROPPED:
        return "The connection to {0} closed before an answer came back ({1}).".format(safe, short_reason(exc))
    return "The request to {0} failed: {1}.".format(safe, short_reason(exc))


def short_reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("certificate verify failed", "Connection refused", "Name or service not known",
                   "No route to host", "timed out", "hostname mismatch", "Remote end closed connection without response",
                   "Connection reset by peer", "Connection aborted"):
        if marker in text:
            detail = re.search(re.escape(marker) + r"[^')\"]*", text)
            return detail.group(0).strip() if detail else marker
    return re.sub(r"https?://\S+", "<url>", text)[:300]
