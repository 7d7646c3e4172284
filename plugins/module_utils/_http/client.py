# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: no compatibility promise; other collections must not import this.

The REST client every IdP client shares, with no vendor knowledge: one requests Session per module
run, JSON in and out, a timeout on every attempt and one deadline for the run, TLS verification on by
default, a capped body, safe retries (see retry.py), auth as a hook (auth.py), errors as ApiError with
the vendor's code and message (the error parser is the vendor client's), and every secret it holds or
obtains masked in whatever it raises, logs or returns.
"""

from __future__ import annotations

import json as jsonlib
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit, urlunsplit

from .auth import Auth, basic
from .errors import ApiError, ErrorInfo, ErrorParser, HttpError, describe_status, parse_any, parse_oauth, status_hint
from .redact import data_secrets, is_secret_header, mask_secrets, redact_data, redact_url, url_secrets
from .retry import Deadline, RetryPolicy, is_idempotent, may_retry_status
from .transport import (DROPPED, MAX_RESPONSE_SIZE, NOT_SENT, READ_TIMEOUT, USER_AGENT, check_scheme, classify,
                        describe_failure, read_capped, short_reason)

try:
    import requests
    from requests.structures import CaseInsensitiveDict
except ImportError:  # pragma: no cover - the module reports it through _deps.require()
    requests = None

# Where vendors put the id their support asks for: generic, Cloudflare, Okta, Microsoft Graph.
REQUEST_ID_HEADERS = ("x-request-id", "cf-ray", "x-okta-request-id", "request-id", "client-request-id")
TOKEN_HINT = ("Getting an access token failed: check the client id and secret (or the key file), the scope and "
              "the token URL.")


@dataclass
class Response:
    status: int
    reason: str
    headers: Mapping[str, str]
    body: bytes
    url: str  # redacted
    data: Any = None  # the parsed JSON answer; None for an empty or non-JSON body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


@dataclass
class _Call:
    """One logical call, through its retries."""

    method: str
    url: str
    display: str  # redacted, with the query
    idempotent: bool
    use_auth: bool
    parser: ErrorParser
    hint: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    timeout: float = 0.0
    sent_timeout: float = 0.0  # the last attempt's, cut to the deadline


class RestClient:
    """A JSON REST API at base_url. Paths are joined to base_url; an absolute URL (a next-page link) must
    have the same origin, so credentials never go to another host."""

    def __init__(self, base_url: str, *, auth: Auth | None = None, timeout: float = 30.0, deadline: float = 600.0,
                 validate_certs: bool = True, ca_path: str | None = None, allow_http: bool = False,
                 max_size: int = MAX_RESPONSE_SIZE, user_agent: str = USER_AGENT,
                 headers: Mapping[str, str] | None = None, error_parser: ErrorParser = parse_any,
                 request_id_headers: Iterable[str] = REQUEST_ID_HEADERS, retry: RetryPolicy | None = None,
                 log: Callable[[str], None] | None = None, on_secret: Callable[[str], None] | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic):
        check_scheme(base_url, allow_http)
        self.base_url, auth = _split_credentials(base_url, auth)
        self.auth = auth
        self.timeout = timeout
        self.deadline = Deadline(deadline, clock)
        self.allow_http = allow_http
        self.max_size = max_size
        self.error_parser = error_parser
        self.request_id_headers = tuple(request_id_headers)
        self.retry = retry or RetryPolicy()
        self.secrets: set[str] = set()
        self._log = log
        self._on_secret = on_secret
        self._sleep = sleep
        self.session = requests.Session()
        # Passed with every request: requests lets REQUESTS_CA_BUNDLE override a Session's own verify.
        self.verify: bool | str = (ca_path or True) if validate_certs else False
        self.session.headers.update({"User-Agent": user_agent, "Accept": "application/json"})
        self.session.auth = _as_sent  # the Auth hook sets credentials: no ~/.netrc entry may replace them
        self.session.headers.update(headers or {})
        for secret in _header_secrets(headers):
            self.add_secret(secret)
        self._ca_path = ca_path
        for secret in self.auth.secrets():
            self.add_secret(secret)

    # ------------------------------------------------------------------------------------ secrets

    def add_secret(self, value: str) -> None:
        """Mask value from now on, and report it (on_secret: the module's no_log_values.add)."""
        if value and value not in self.secrets:
            self.secrets.add(value)
            if self._on_secret is not None:
                self._on_secret(value)

    def mask(self, text: str) -> str:
        return mask_secrets(text, self.secrets)

    def redact(self, value: Any) -> Any:
        """A copy of an answer (or anything built from one) safe for diff, return values and messages."""
        return redact_data(value, self.secrets)

    def redact_url(self, url: str) -> str:
        return self.mask(redact_url(url))

    # ------------------------------------------------------------------------------------ public calls

    def url_for(self, path: str) -> str:
        if "://" not in path.split("?", 1)[0]:  # a URL in the query (a filter value) keeps a path relative
            return "{0}/{1}".format(self.base_url, path.lstrip("/"))
        base, target = urlsplit(self.base_url), urlsplit(path)
        if (target.scheme, target.netloc) != (base.scheme, base.netloc):
            raise HttpError("Refused to follow {0}: it is not on {1}, and the client's credentials are only for "
                            "that host.".format(self.redact_url(path), self.redact_url(self.base_url)))
        return path

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None,
                data: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None,
                idempotent: bool | None = None, timeout: float | None = None) -> Response:
        """Send one call (with its retries) and return the answer; raise ApiError for any failure.

        json: the JSON body; data: a form body. idempotent=True declares a POST safe to repeat (a search).
        """
        method = method.upper()
        url = self.url_for(path)
        # Mask what the request carries wherever it comes back (an API that echoes it in an error message).
        for secret in url_secrets(self._with_query(url, params)) | data_secrets(json) | data_secrets(data) | \
                _header_secrets(headers):
            self.add_secret(secret)
        call = _Call(method, url, self._display(url, params), is_idempotent(method, idempotent), True,
                     self.error_parser, options=dict(params=params, json=json, data=data, headers=headers),
                     timeout=timeout or self.timeout)
        return self._run(call)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs).data

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs).data

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.request("PUT", path, **kwargs).data

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.request("PATCH", path, **kwargs).data

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs).data

    def token_request(self, url: str, form: dict[str, str], headers: Mapping[str, str] | None = None) -> Any:
        """POST a form to an OAuth token endpoint (for auth hooks): no API credentials, retried as a read,
        since a second token does no harm."""
        check_scheme(url, self.allow_http)
        call = _Call("POST", url, self.redact_url(url), True, False, parse_oauth, hint=TOKEN_HINT,
                     options=dict(params=None, json=None, data=form, headers=headers), timeout=self.timeout)
        answer = self._run(call).data
        self._say("Obtained an access token from {0}.".format(call.display))
        return answer

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> RestClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------ the loop

    def _run(self, call: _Call) -> Response:
        refreshed = False
        while True:
            self._check_deadline(call)
            call.attempts += 1
            try:
                response = self._attempt(call)
            except requests.exceptions.RequestException as exc:
                self._after_failure(call, exc)
                continue
            if response.status == 401 and call.use_auth and not refreshed and self.auth.refresh(self):
                refreshed = True
                call.attempts -= 1  # a new token is not a retry
                self._say("{0} {1} got HTTP 401: obtaining a new token and trying once more.".format(
                    call.method, call.display))
                continue
            if response.status >= 300:
                self._after_status(call, response)
                continue
            return response

    def _attempt(self, call: _Call) -> Response:
        timeout = call.sent_timeout = min(call.timeout, self.deadline.remaining())
        headers = dict(call.options["headers"] or {})
        if call.use_auth:
            headers.update(self.auth.headers(self))
        try:
            raw = self.session.request(call.method, call.url, params=call.options["params"],
                                       json=call.options["json"], data=call.options["data"], headers=headers,
                                       timeout=timeout, verify=self.verify, allow_redirects=False, stream=True)
        except requests.exceptions.RequestException:
            raise  # an OSError too, but _run() classifies it
        except OSError as exc:  # an unreadable ca_path
            raise self._error(call, "Cannot send {0} {1}: {2}.{3}".format(
                call.method, call.display, exc, " Check ca_path points at a readable PEM bundle."
                if self._ca_path else "")) from None
        with raw:
            try:
                body = read_capped(raw, call.url, self.max_size, time.monotonic() + timeout, timeout)
            except HttpError as exc:
                raise self._error(call, str(exc), status=raw.status_code) from None
            return Response(raw.status_code, raw.reason or "", CaseInsensitiveDict(raw.headers), body,
                            call.display, self._decode(call, raw, body))

    def _decode(self, call: _Call, raw, body: bytes) -> Any:
        content_type = raw.headers.get("Content-Type", "")
        if not body.strip() or ("json" not in content_type and body.lstrip()[:1] not in (b"{", b"[")):
            return None
        try:
            return jsonlib.loads(body)
        except ValueError:
            if raw.status_code >= 300:
                return None  # an error page: the status says enough
            raise self._error(call, "{0} {1} answered HTTP {2} with a body that is not valid JSON; check the "
                                    "base URL points at the API.".format(call.method, call.display,
                                                                         raw.status_code)) from None

    def _after_failure(self, call: _Call, exc: Exception) -> None:
        """Retry a failure that cannot have been applied (or any, for an idempotent call), or raise."""
        kind = classify(exc)
        retryable = kind == NOT_SENT or (call.idempotent and kind in (READ_TIMEOUT, DROPPED))
        seconds = float(round(call.sent_timeout, 1))  # an int timeout has no is_integer() before 3.12
        message = describe_failure(exc, call.url, int(seconds) if seconds.is_integer() else seconds).replace(
            redact_url(call.url), call.display)
        if kind in (READ_TIMEOUT, DROPPED) and not call.idempotent:
            message += (" The {0} was sent and is not retried, as the server may have applied it: check whether "
                        "the change was made before running again.".format(call.method))
        if not retryable or call.attempts >= self.retry.attempts:
            if retryable:
                message += " Gave up after {0} attempts.".format(call.attempts)
            raise self._error(call, message, may_have_applied=kind in (READ_TIMEOUT, DROPPED) and not call.idempotent)
        self._pause(call, short_reason(exc), None, None, lambda extra: self._error(call, message + extra))

    def _after_status(self, call: _Call, response: Response) -> None:
        """Retry a status that allows it (see retry.may_retry_status), or raise the ApiError it means."""
        status = response.status
        if not may_retry_status(status, call.idempotent) or call.attempts >= self.retry.attempts:
            raise self._status_error(call, response)
        self._pause(call, "HTTP {0}".format(status), status, response.headers,
                    lambda extra: self._status_error(call, response, extra))

    def _pause(self, call: _Call, what: str, status: int | None, headers: Mapping[str, str] | None,
               failure: Callable[[str], ApiError]) -> None:
        seconds, why = self.retry.wait(call.attempts, status, headers)
        remaining = self.deadline.remaining()
        if seconds >= remaining:
            raise failure(" The next try (in {0:.1f} s, {1}) would pass the {2:g}-second deadline of this run "
                          "({3:.1f} s left): raise the deadline or retry later.".format(
                              seconds, why, self.deadline.seconds, remaining))
        self._say("Retry {0}/{1}: {2} {3} got {4}; next try in {5:.1f} s ({6}).".format(
            call.attempts, self.retry.attempts - 1, call.method, call.display, what, seconds, why))
        self._sleep(seconds)

    def _check_deadline(self, call: _Call) -> None:
        if self.deadline.expired:
            raise self._error(call, "{0} {1} was not sent: the {2:g}-second deadline of this run passed{3}; "
                                    "raise the deadline or check the API's health.".format(
                                        call.method, call.display, self.deadline.seconds,
                                        " after {0} attempts".format(call.attempts) if call.attempts else ""))

    # ------------------------------------------------------------------------------------ errors

    def _error(self, call: _Call, message: str, *, status: int | None = None,
               may_have_applied: bool = False) -> ApiError:
        return ApiError(self.mask(message), method=call.method, url=call.display, status=status,
                        attempts=call.attempts, may_have_applied=may_have_applied)

    def _status_error(self, call: _Call, response: Response, extra: str = "") -> ApiError:
        info = self._error_info(call, response)
        request_id = next((response.headers[name] for name in self.request_id_headers if name in response.headers),
                          None)
        message = describe_status(call.method, call.display, response.status, response.reason, info, request_id)
        message += " " + self._advice(call, response)
        may_have_applied = response.status >= 500 and not call.idempotent
        return ApiError(self.mask(message + extra), method=call.method, url=call.display, status=response.status,
                        code=info.code if info else None,
                        vendor_message=self.mask(info.message) if info and info.message else None,
                        request_id=request_id, details=tuple(self.mask(item) for item in info.details) if info else (),
                        attempts=call.attempts, may_have_applied=may_have_applied)

    def _error_info(self, call: _Call, response: Response) -> ErrorInfo | None:
        if response.data is not None:
            return call.parser(response.data)
        text = response.text.strip()
        return ErrorInfo(None, text[:200]) if text and "<" not in text[:1] else None

    def _advice(self, call: _Call, response: Response) -> str:
        status = response.status
        if 300 <= status < 400:
            return "The API answered with a redirect to {0}: check the base URL.".format(
                self.redact_url(response.headers.get("Location", "?")))
        if call.hint and 400 <= status < 500 and status != 429:
            return call.hint
        advice = status_hint(status)
        if status == 429 and call.attempts > 1:
            advice = "Still rate-limited after {0} attempts. {1}".format(call.attempts, advice)
        elif status >= 500 and not call.idempotent:
            advice += (" The {0} is not retried after a server error, as the server may have applied it: check "
                       "whether the change was made before running again.".format(call.method))
        elif status >= 500 and call.attempts > 1:
            advice += " Gave up after {0} attempts.".format(call.attempts)
        return advice

    # ------------------------------------------------------------------------------------ helpers

    @staticmethod
    def _with_query(url: str, params: Mapping[str, Any] | None) -> str:
        return url + ("&" if "?" in url else "?") + urlencode(params, doseq=True) if params else url

    def _display(self, url: str, params: Mapping[str, Any] | None) -> str:
        return self.redact_url(self._with_query(url, params))

    def _say(self, text: str) -> None:
        if self._log is not None:
            self._log(self.mask(text))


def _split_credentials(base_url: str, auth: Auth | None) -> tuple[str, Auth]:
    """Userinfo in the base URL becomes basic auth, so it is masked like any credential and never logged."""
    parts = urlsplit(base_url.rstrip("/"))
    if parts.username is None and parts.password is None:
        return urlunsplit(parts), auth or Auth()
    if auth is not None:
        raise HttpError("The base URL {0} carries credentials and an auth method is given too: pass the credentials "
                        "once.".format(redact_url(base_url)))
    netloc = parts.netloc.rsplit("@", 1)[1]
    plain = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return plain, basic(unquote(parts.username or ""), unquote(parts.password or ""))


def _header_secrets(headers: Mapping[str, str] | None) -> set[str]:
    return {value for name, value in (headers or {}).items() if is_secret_header(name) and value}


def _as_sent(request):
    return request
