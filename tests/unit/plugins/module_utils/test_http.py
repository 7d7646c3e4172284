# -*- coding: utf-8 -*-
"""The HTTP client against real local servers: TLS, redirects, size cap, timeouts, retries, redaction."""

from __future__ import annotations

import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ansible_collections.idfed.aws_sso.plugins.module_utils._http.fetch import HttpError, fetch
from ansible_collections.idfed.aws_sso.plugins.module_utils._http.redact import redact_url, url_secrets

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "support"))
import saml_factory as factory  # noqa: E402  pylint: disable=wrong-import-position


class Handler(BaseHTTPRequestHandler):
    hits: dict = {}

    def log_message(self, *_args):  # keep pytest output clean
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if "Content-Length" not in (headers or {}) and "Transfer-Encoding" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 (http.server API)
        Handler.hits[self.path] = Handler.hits.get(self.path, 0) + 1
        path = self.path
        if path == "/ok":
            self._send(200, b"<ok/>")
        elif path == "/missing":
            self._send(404, b"nope")
        elif path == "/loop":
            self._send(302, headers={"Location": "/loop"})
        elif path == "/hop":
            self._send(301, headers={"Location": "/ok"})
        elif path == "/downgrade":
            self._send(302, headers={"Location": "http://127.0.0.1:1/ok"})
        elif path == "/declared-big":
            self._send(200, b"x" * 2000)
        elif path == "/streamed-big":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _chunk in range(40):
                self.wfile.write(b"64\r\n" + b"y" * 100 + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/slow":
            time.sleep(3)
            self._send(200, b"late")
        elif path == "/throttled":
            if Handler.hits[path] == 1:
                self._send(429, b"slow down", {"Retry-After": "0"})
            else:
                self._send(200, b"<after-retry/>")
        elif path == "/bad-location":
            self._send(302, headers={"Location": "https://127.0.0.1:99999/x"})
        elif path == "/bracket-location":
            self._send(302, headers={"Location": "https://[::1/x"})
        elif path == "/unavailable":
            self._send(503, b"down", {"Retry-After": "0"})
        else:
            self._send(500, b"?")


def _serve(context: ssl.SSLContext | None = None):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


@pytest.fixture(scope="module")
def plain():
    server = _serve()
    yield "http://127.0.0.1:{0}".format(server.server_address[1])
    server.shutdown()


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    ca = factory.make_ca()
    pair = factory.make_tls_pair(ca)
    folder = tmp_path_factory.mktemp("tls")
    (folder / "server.pem").write_text(pair.pem + pair.key_pem)
    (folder / "ca.pem").write_text(ca.pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(folder / "server.pem"))
    server = _serve(context)
    yield "https://127.0.0.1:{0}".format(server.server_address[1]), str(folder / "ca.pem")
    server.shutdown()


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


def test_retry_after_is_honoured(plain):
    Handler.hits.pop("/throttled", None)
    assert fetch(plain + "/throttled", allow_http=True, timeout=5).body == b"<after-retry/>"
    assert Handler.hits["/throttled"] == 2


def test_retries_give_up_with_the_status(plain):
    Handler.hits.pop("/unavailable", None)
    with pytest.raises(HttpError, match="HTTP 503"):
        fetch(plain + "/unavailable", allow_http=True, timeout=5, retries=2)
    assert Handler.hits["/unavailable"] == 3


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
