# -*- coding: utf-8 -*-
"""The HTTP client against real local servers: TLS, redirects, size cap, timeouts, retries, redaction."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from ansible_collections.idfed.aws_sso.plugins.module_utils._http.fetch import HttpError, fetch
from ansible_collections.idfed.aws_sso.plugins.module_utils._http.redact import redact_url, url_secrets

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "support"))
from test_server import Reply, TestServer  # noqa: E402  pylint: disable=wrong-import-position


def _streamed_big(_request) -> Reply:
    return Reply(200, (b"y" * 100 for _chunk in range(40)), content_type="text/plain")  # chunked


class Documents(TestServer):
    """The fetch scenarios; /throttled answers 429 once per server."""

    def setup_routes(self) -> None:
        self._throttled = threading.Event()
        routes = {
            "/ok": lambda request: Reply.text(b"<ok/>"),
            "/missing": lambda request: Reply.text(b"nope", 404),
            "/loop": lambda request: self._redirect(302, "/loop"),
            "/hop": lambda request: self._redirect(301, "/ok"),
            "/downgrade": lambda request: self._redirect(302, "http://127.0.0.1:1/ok"),
            "/declared-big": lambda request: Reply.text(b"x" * 2000),
            "/streamed-big": _streamed_big,
            "/slow": lambda request: self.pause(3) or Reply.text(b"late"),
            "/throttled": self._throttle,
            "/bad-location": lambda request: self._redirect(302, "https://127.0.0.1:99999/x"),
            "/bracket-location": lambda request: self._redirect(302, "https://[::1/x"),
            "/unavailable": lambda request: Reply.text(b"down", 503, headers={"Retry-After": "0"}),
        }
        for path, handler in routes.items():
            self.add_route("GET", path, handler)

    def not_found(self, request) -> Reply:
        return Reply.text(b"?", 500)

    def _throttle(self, _request) -> Reply:
        if self._throttled.is_set():
            return Reply.text(b"<after-retry/>")
        self._throttled.set()
        return Reply.text(b"slow down", 429, headers={"Retry-After": "0"})

    @staticmethod
    def _redirect(status: int, location: str) -> Reply:
        return Reply(status, b"", {"Location": location})


@pytest.fixture(scope="module")
def documents():
    with Documents(http_port=0) as server:
        yield server


@pytest.fixture(scope="module")
def plain(documents):
    return documents.http_url


@pytest.fixture(scope="module")
def tls(documents):
    return documents.url, documents.ca_path


def _hits(server: TestServer, path: str) -> int:
    return len(server.requests("GET", path))


def test_tls_with_private_ca(tls):
    base, ca_path = tls
    assert fetch(base + "/ok", ca_path=ca_path, timeout=5).body == b"<ok/>"


def test_tls_failure_points_at_ca_path(tls):
    base, _ca_path = tls
    with pytest.raises(HttpError, match="ca_path"):
        fetch(base + "/ok", timeout=5)
    assert fetch(base + "/ok", validate_certs=False, timeout=5).status == 200


def test_unreadable_ca_path_is_explained(tls):
    base, _ca_path = tls
    with pytest.raises(HttpError, match="ca_path"):
        fetch(base + "/ok", ca_path="/nonexistent/ca.pem", timeout=5)


def test_plain_http_is_refused_unless_allowed(plain):
    with pytest.raises(HttpError, match="allow_http: true"):
        fetch(plain + "/ok")
    assert fetch(plain + "/ok", allow_http=True, timeout=5).body == b"<ok/>"


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.test/x"])
def test_other_schemes_are_refused(url):
    with pytest.raises(HttpError, match="scheme"):
        fetch(url, allow_http=True)


def test_http_error_status(plain):
    with pytest.raises(HttpError, match="HTTP 404"):
        fetch(plain + "/missing", allow_http=True, timeout=5)


def test_redirects(plain):
    assert fetch(plain + "/hop", allow_http=True, timeout=5).url.endswith("/ok")
    with pytest.raises(HttpError, match="redirects in a loop"):
        fetch(plain + "/loop", allow_http=True, timeout=5)
    with pytest.raises(HttpError, match="max_redirects"):
        fetch(plain + "/hop", allow_http=True, timeout=5, max_redirects=0)


def test_https_to_http_redirect_is_refused(tls):
    base, ca_path = tls
    with pytest.raises(HttpError, match="after a redirect"):
        fetch(base + "/downgrade", ca_path=ca_path, timeout=5)


@pytest.mark.parametrize("path", ["/declared-big", "/streamed-big"])
def test_size_cap(plain, path):
    with pytest.raises(HttpError, match="max_size"):
        fetch(plain + path, allow_http=True, timeout=5, max_size=1000)


def test_timeout_is_named(plain):
    with pytest.raises(HttpError, match="timed out after 1 seconds"):
        fetch(plain + "/slow", allow_http=True, timeout=1)


def test_retry_after_is_honoured(documents, plain):
    lines: list[str] = []
    assert fetch(plain + "/throttled?token=hunter5", allow_http=True, timeout=5, log=lines.append).body == \
        b"<after-retry/>"
    assert _hits(documents, "/throttled") == 2
    assert lines == ["Retry 1/2 of GET {0}/throttled?token=*** in 0.0 s (as Retry-After asks) after HTTP 429.".format(
        plain)]


def test_retries_give_up_with_the_status(documents, plain):
    before = _hits(documents, "/unavailable")
    with pytest.raises(HttpError, match="HTTP 503"):
        fetch(plain + "/unavailable", allow_http=True, timeout=5, retries=2)
    assert _hits(documents, "/unavailable") - before == 3


def test_a_dropped_connection_is_retried(documents, plain):
    documents.drop(path="/ok")
    assert fetch(plain + "/ok", allow_http=True, timeout=5, sleep=lambda _seconds: None).body == b"<ok/>"


def test_connection_refused_is_named():
    with pytest.raises(HttpError, match="Cannot connect"):
        fetch("http://127.0.0.1:1/x", allow_http=True, timeout=2, retries=0)


def test_secrets_are_redacted_from_urls_and_messages():
    assert redact_url("https://user:pw@idp.test:8443/m?token=abc&x=1") == "https://***@idp.test:8443/m?token=***&x=1"
    with pytest.raises(HttpError) as caught:
        fetch("http://user:hunter2@127.0.0.1:1/x?api_key=s3cret", allow_http=True, timeout=2, retries=0)
    assert "hunter2" not in str(caught.value) and "s3cret" not in str(caught.value)


def test_url_secrets_are_what_redaction_masks():
    assert url_secrets("https://user:pw@idp.test/m?token=abc&x=1&client_secret=s3&code=") == {"pw", "abc", "s3"}
    assert url_secrets("https://idp.test/metadata?appid=1234") == set()
    assert url_secrets("https://[::1/broken") == set()


@pytest.mark.parametrize("url, fragment", [
    ("https://127.0.0.1:99999/x", "not valid"),
    ("https://[::1/x", "not valid"),
    ("https:///metadata", "no host name"),
    ("https://exa mple.com/x", "exa mple.com"),
    ("ftp://idp.test/x", "scheme"),
    ("idp.test/metadata", "scheme"),
    ("", "scheme"),
])
def test_unusable_urls_are_named_without_a_request(url, fragment):
    with pytest.raises(HttpError, match=fragment):
        fetch(url, timeout=2, retries=0)


@pytest.mark.parametrize("path, fragment", [
    ("/bad-location", "after a redirect is not valid .*Port out of range"),
    ("/bracket-location", "Invalid IPv6 URL .*Location it redirects to"),
])
def test_a_broken_redirect_target_is_named(plain, path, fragment):
    with pytest.raises(HttpError, match=fragment):
        fetch(plain + path, allow_http=True, timeout=5, retries=0)
