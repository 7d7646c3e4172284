# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: no compatibility promise; other collections must not import this.

One GET of a document (metadata, a certificate). Every call has a timeout (per attempt, covering
connect, each read and the whole body), TLS verification is on unless the caller turns it off,
bodies are capped while streaming, redirects are followed by hand so each hop is checked (no
https -> http downgrade), safe calls are retried on 429/5xx honouring Retry-After, and error
messages never carry credentials. What a failure means for the document is the caller's to say.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import requests

from .redact import redact_url

USER_AGENT = "idfed.aws_sso (+https://github.com/idfed/aws_sso)"
RETRY_STATUSES = (429, 500, 502, 503, 504)
MAX_RETRY_AFTER = 30.0
# The HTTP layer's own cap on a response body; callers that know their documents pass a smaller one.
MAX_RESPONSE_SIZE = 16 * 1024 * 1024


class HttpError(Exception):
    """A user-facing failure: the message names the problem and the fix; status is the HTTP status, if any."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


@dataclass
class FetchResult:
    body: bytes
    url: str
    status: int
    headers: dict = field(default_factory=dict)


def _check_scheme(url: str, allow_http: bool, hop: str = "") -> None:
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


def _retry_delay(response, attempt: int) -> float:
    header = response.headers.get("Retry-After") if response is not None else None
    if header:
        try:
            return min(MAX_RETRY_AFTER, max(0.0, float(header)))
        except ValueError:
            try:
                return min(MAX_RETRY_AFTER, max(0.0, parsedate_to_datetime(header).timestamp() - time.time()))
            except (TypeError, ValueError):
                pass
    return min(MAX_RETRY_AFTER, 0.5 * (2 ** attempt))


def _read_capped(response, url: str, max_size: int, deadline: float, timeout: float) -> bytes:
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


def _describe_failure(exc: Exception, url: str, timeout: float) -> str:
    safe = redact_url(url)
    if isinstance(exc, requests.exceptions.SSLError):
        return ("TLS verification failed for {0} ({1}). If the server uses a private CA, pass its certificate "
                "bundle in ca_path; set validate_certs: false only for a throwaway test.".format(
                    safe, _short_reason(exc)))
    if isinstance(exc, requests.exceptions.Timeout):
        return "The request to {0} timed out after {1} seconds; raise timeout or check the host is reachable.".format(
            safe, timeout)
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "Cannot connect to {0} ({1}); check the host name, port and network path.".format(
            safe, _short_reason(exc))
    return "The request to {0} failed: {1}.".format(safe, _short_reason(exc))


def _short_reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("certificate verify failed", "Connection refused", "Name or service not known",
                   "No route to host", "timed out", "hostname mismatch"):
        if marker in text:
            detail = re.search(re.escape(marker) + r"[^')\"]*", text)
            return detail.group(0).strip() if detail else marker
    return re.sub(r"https?://\S+", "<url>", text)[:300]


def fetch(url: str, *, timeout: float = 30, validate_certs: bool = True, ca_path: str | None = None,
          allow_http: bool = False, max_size: int = MAX_RESPONSE_SIZE, max_redirects: int = 5,
          headers: dict | None = None, retries: int = 2) -> FetchResult:
    """GET a document; raise HttpError with a message that names the problem and the fix."""
    _check_scheme(url, allow_http)
    verify: bool | str = (ca_path or True) if validate_certs else False
    request_headers = {
        "User-Agent": USER_AGENT,
        "Accept": "application/samlmetadata+xml, application/xml, application/x-pem-file, */*;q=0.5",
    }
    request_headers.update(headers or {})
    current, visited, attempt = url, [], 0
    while True:
        deadline = time.monotonic() + timeout
        try:
            response = requests.get(current, headers=request_headers, timeout=timeout, verify=verify,
                                    allow_redirects=False, stream=True)
        except requests.exceptions.RequestException as exc:
            if attempt < retries and isinstance(exc, requests.exceptions.ConnectionError) \
                    and not isinstance(exc, requests.exceptions.SSLError):
                attempt += 1
                time.sleep(_retry_delay(None, attempt))
                continue
            raise HttpError(_describe_failure(exc, current, timeout)) from None
        except OSError as exc:  # e.g. an unreadable ca_path
            raise HttpError("Cannot fetch {0}: {1}.{2}".format(
                redact_url(current), exc, " Check ca_path points at a readable PEM bundle." if ca_path else "")) from None
        except ValueError as exc:  # requests parses a redirect target even when not following it
            raise HttpError("Cannot fetch {0}: {1} (in the URL or the Location it redirects to).".format(
                redact_url(current), exc)) from None
        with response:
            if response.is_redirect:
                # requests already joined this Location inside get(): one that cannot be joined raised there.
                target = urljoin(current, response.headers.get("Location", ""))
                visited.append(current)
                if len(visited) > max_redirects or target in visited:
                    raise HttpError("{0} redirects in a loop or more than max_redirects ({1}) times (last hop: "
                                    "{2}); fix the URL or raise max_redirects.".format(
                                        redact_url(url), max_redirects, redact_url(target)))
                _check_scheme(target, allow_http, hop=" after a redirect")
                current = target
                continue
            if response.status_code in RETRY_STATUSES and attempt < retries:
                attempt += 1
                time.sleep(_retry_delay(response, attempt))
                continue
            if response.status_code >= 400:
                raise HttpError("{0} returned HTTP {1} {2}.".format(
                    redact_url(current), response.status_code, response.reason or ""), status=response.status_code)
            try:
                body = _read_capped(response, current, max_size, deadline, timeout)
            except requests.exceptions.RequestException as exc:
                raise HttpError(_describe_failure(exc, current, timeout)) from None
            return FetchResult(body=body, url=redact_url(current), status=response.status_code,
                               headers=dict(response.headers))
