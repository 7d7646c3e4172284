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

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin

from .errors import HttpError
from .redact import redact_url
from .retry import RETRY_STATUSES, RetryPolicy
from .transport import (DROPPED, MAX_RESPONSE_SIZE, NOT_SENT, USER_AGENT, check_scheme, classify, describe_failure,
                        read_capped, short_reason)

try:
    import requests
except ImportError:  # pragma: no cover - the module reports it through _deps.require()
    requests = None

__all__ = ["FetchResult", "HttpError", "MAX_RESPONSE_SIZE", "fetch"]
# A document is fetched once per run: wait less than an API client would before giving up.
FETCH_RETRY = RetryPolicy(cap=30.0, max_wait=30.0)


@dataclass
class FetchResult:
    body: bytes
    url: str
    status: int
    headers: dict = field(default_factory=dict)


def fetch(url: str, *, timeout: float = 30, validate_certs: bool = True, ca_path: str | None = None,
          allow_http: bool = False, max_size: int = MAX_RESPONSE_SIZE, max_redirects: int = 5,
          headers: dict | None = None, retries: int = 2, policy: RetryPolicy = FETCH_RETRY,
          log: Callable[[str], None] | None = None, sleep: Callable[[float], None] = time.sleep) -> FetchResult:
    """GET a document; raise HttpError with a message that names the problem and the fix.

    Connection failures and 429/5xx answers are retried up to `retries` times (a GET is safe to repeat),
    each retry reported through log() without credentials; a slow server is not, timeout bounds it.
    """
    check_scheme(url, allow_http)
    verify: bool | str = (ca_path or True) if validate_certs else False
    request_headers = {
        "User-Agent": USER_AGENT,
        "Accept": "application/samlmetadata+xml, application/xml, application/x-pem-file, */*;q=0.5",
    }
    request_headers.update(headers or {})
    current, visited, attempt = url, [], 0

    def retry(why: str, status: int | None = None, response_headers=None) -> bool:
        nonlocal attempt
        if attempt >= retries:
            return False
        attempt += 1
        seconds, reason = policy.wait(attempt, status, response_headers)
        if log is not None:
            log("Retry {0}/{1} of GET {2} in {3:.1f} s ({4}) after {5}.".format(
                attempt, retries, redact_url(current), seconds, reason, why))
        sleep(seconds)
        return True

    while True:
        deadline = time.monotonic() + timeout
        try:
            response = requests.get(current, headers=request_headers, timeout=timeout, verify=verify,
                                    allow_redirects=False, stream=True)
        except requests.exceptions.RequestException as exc:
            if classify(exc) in (NOT_SENT, DROPPED) and retry(short_reason(exc)):
                continue
            raise HttpError(describe_failure(exc, current, timeout)) from None
        except OSError as exc:  # e.g. an unreadable ca_path
            raise HttpError("Cannot fetch {0}: {1}.{2}".format(
                redact_url(current), exc, " Check ca_path points at a readable PEM bundle." if ca_path else "")) from None
        except ValueError as exc:  # requests parses a redirect target even when not following it
            raise HttpError("Cannot fetch {0}: {1} (in the URL or the Location it redirects to).".format(
                redact_url(current), exc)) from None
        with response:
            if response.is_redirect:
                current = _next_hop(url, current, response, visited, max_redirects, allow_http)
                continue
            status = response.status_code
            if status in RETRY_STATUSES and retry("HTTP {0}".format(status), status, response.headers):
                continue
            if status >= 400:
                raise HttpError("{0} returned HTTP {1} {2}.".format(
                    redact_url(current), status, response.reason or ""), status=status)
            try:
                body = read_capped(response, current, max_size, deadline, timeout)
            except requests.exceptions.RequestException as exc:
                raise HttpError(describe_failure(exc, current, timeout)) from None
            return FetchResult(body=body, url=redact_url(current), status=status, headers=dict(response.headers))


def _next_hop(url: str, current: str, response, visited: list[str], max_redirects: int, allow_http: bool) -> str:
    """The checked target of a redirect: no loop, no more than max_redirects hops, no https -> http."""
    # requests already joined this Location inside get(): one that cannot be joined raised there.
    target = urljoin(current, response.headers.get("Location", ""))
    visited.append(current)
    if len(visited) > max_redirects or target in visited:
        raise HttpError("{0} redirects in a loop or more than max_redirects ({1}) times (last hop: "
                        "{2}); fix the URL or raise max_redirects.".format(
                            redact_url(url), max_redirects, redact_url(target)))
    check_scheme(target, allow_http, hop=" after a redirect")
    return target
