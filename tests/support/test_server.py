# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A local HTTPS (and optionally plain HTTP) server for tests, the base of every emulator.

Standard library plus ``cryptography``, so it runs with the collection's venv python and nothing else
from the repository (ansible-test copies tests/support files alone into its work dir).

- TLS from a throw-away CA it makes itself (``ca.pem`` in the state directory: the client's ca_path).
- Routes: ``server.add_route("POST", "/api/v1/apps/{app_id}", handler)``; a handler takes a Request and
  returns a Reply, a dict/list (JSON 200), ``(status, data[, headers])``, bytes, str or None (204).
  ``{name}`` matches one path segment, ``{name:path}`` the rest of the path.
- A request log (method, path, query, headers and body with secrets masked, the fault applied, the
  status sent) that tests read with ``server.requests()`` and clear with ``server.clear_log()``.
- Faults, per route (method and path pattern) or global, for the next N requests or at a rate:
  an HTTP status (429 with Retry-After, 500/502/503), a slow answer, a connection dropped before the
  handler runs, and a connection dropped AFTER the handler ran (the write is applied, the answer lost).
- In-process: ``with TestServer() as server: ...`` (threaded). As a subprocess: an emulator script
  calls ``main(factory, ...)`` for ``--dir/--background/--stop``; the process writes ``server.json`` with
  its ports, CA and a control token, and ``ControlClient`` drives ``/_control/`` (log, faults, reset, state).

An emulator is a subclass: it adds routes in ``setup_routes()``, keeps its state in attributes, clears it
in ``reset()``, reports it in ``state()``, renders its vendor's error envelope in ``error_reply()`` and
extends ``info()``.
"""

from __future__ import annotations

import argparse
import datetime
import http.server
import ipaddress
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DAY = datetime.timedelta(days=1)
CONTROL_PREFIX = "/_control/"
CONTROL_HEADER = "X-Control-Token"
LOG_LIMIT = 10000
# Fault kinds.
STATUS, SLOW, DROP, DROP_AFTER = "status", "slow", "drop", "drop_after"
_SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-auth-key", "x-api-key",
                   CONTROL_HEADER.lower()}
_SECRET_KEYS = re.compile(r"secret|password|token|assertion|private|^key$|credential", re.IGNORECASE)


# ------------------------------------------------------------------------------------------ TLS

def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def write_private(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def write_atomic(path: str, data: bytes) -> None:
    temporary = path + ".tmp"
    with open(temporary, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


def make_name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "idfed.aws_sso tests"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def new_key(key_type: str = "ec"):
    """EC P-256 is fast to make (in-process tests); RSA 2048 where a test looks at the certificate."""
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def keypair(state: str, stem: str, build: Callable, *, min_days_left: int = 2, key_type: str = "rsa"):
    """Load <stem>.key/<stem>.pem from state, or make them with build(key) -> certificate. A certificate
    closer than min_days_left to its end is renewed, unless its stem says it is expired on purpose."""
    key_path, cert_path = os.path.join(state, stem + ".key"), os.path.join(state, stem + ".pem")
    if os.path.exists(key_path) and os.path.exists(cert_path):
        with open(key_path, "rb") as handle:
            key = serialization.load_pem_private_key(handle.read(), password=None)
        with open(cert_path, "rb") as handle:
            cert = x509.load_pem_x509_certificate(handle.read())
        if stem.startswith("expired") or cert.not_valid_after_utc - now() > datetime.timedelta(days=min_days_left):
            return key, cert
    key = new_key(key_type)
    cert = build(key)
    write_private(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
    write_atomic(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return key, cert


def _build_ca(key):
    start = now()
    return (x509.CertificateBuilder()
            .subject_name(make_name("idfed.aws_sso test CA")).issuer_name(make_name("idfed.aws_sso test CA"))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start - DAY).not_valid_after(start + 365 * DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))


def _server_builder(ca_key, ca_cert):
    def build(key):
        start = now()
        return (x509.CertificateBuilder()
                .subject_name(make_name("localhost")).issuer_name(ca_cert.subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(start - DAY).not_valid_after(min(start + 90 * DAY, ca_cert.not_valid_after_utc))
                .add_extension(x509.SubjectAlternativeName([
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.IPAddress(ipaddress.ip_address("::1")),
                ]), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                               critical=False)
                .sign(ca_key, hashes.SHA256()))
    return build


def ensure_tls(state: str, key_type: str = "ec") -> dict:
    """The CA (ca.key/ca.pem) and the server certificate for 127.0.0.1, ::1 and localhost (server.key/
    server.pem) in state, made or reused; returns {"ca": (key, cert), "server": (key, cert)}."""
    os.makedirs(state, exist_ok=True)
    ca_key, ca_cert = keypair(state, "ca", _build_ca, min_days_left=30, key_type=key_type)
    server_cert_path = os.path.join(state, "server.pem")
    if os.path.exists(server_cert_path):  # a new CA invalidates the old server certificate
        with open(server_cert_path, "rb") as handle:
            if x509.load_pem_x509_certificate(handle.read()).issuer != ca_cert.subject or \
                    os.path.getmtime(server_cert_path) < os.path.getmtime(os.path.join(state, "ca.pem")):
                os.unlink(server_cert_path)
    server = keypair(state, "server", _server_builder(ca_key, ca_cert), key_type=key_type)
    return {"ca": (ca_key, ca_cert), "server": server}


# -------------------------------------------------------------------------------- requests, replies

def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    masked = {}
    for name, value in headers.items():
        if name.lower() in _SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            value = (scheme + " ***").strip()
        masked[name] = value
    return masked


def mask_body(data: Any) -> Any:
    if isinstance(data, Mapping):
        return {key: "***" if _SECRET_KEYS.search(str(key)) and value else mask_body(value)
                for key, value in data.items()}
    if isinstance(data, list):
        return [mask_body(item) for item in data]
    return data


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # as sent, secrets included: for handlers (the log masks them)
    body: bytes
    client_host: str
    client_port: int
    params: dict[str, str] = field(default_factory=dict)

    def header(self, name: str, default: str | None = None) -> str | None:
        return next((value for key, value in self.headers.items() if key.lower() == name.lower()), default)

    def arg(self, name: str, default: str | None = None) -> str | None:
        return self.query.get(name, [default])[0]

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    def logged(self) -> dict[str, Any]:
        """The log entry: JSON-able, secrets masked."""
        content_type = self.header("Content-Type", "") or ""
        if "json" in content_type and self.json is not None:
            body: Any = mask_body(self.json)
        elif "form-urlencoded" in content_type:
            body = mask_body(self.form)
        else:
            body = self.body.decode("utf-8", "replace")[:2000]
        return {"method": self.method, "path": self.path, "query": self.query, "headers": mask_headers(self.headers),
                "body": body, "client_port": self.client_port, "fault": None, "status": None}


@dataclass
class Reply:
    status: int = 200
    body: bytes | Iterable[bytes] = b""  # an iterable is streamed (chunked, unless headers give Content-Length)
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    close: bool = False

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
        return cls(status, json.dumps(data).encode("utf-8"), dict(headers or {}))

    @classmethod
    def text(cls, text: str | bytes, status: int = 200, content_type: str = "text/plain",
             headers: dict[str, str] | None = None) -> Reply:
        body = text.encode("utf-8") if isinstance(text, str) else text
        return cls(status, body, dict(headers or {}), content_type)


def as_reply(result: Any) -> Reply:
    """What a handler returned, as a Reply."""
    if isinstance(result, Reply):
        return result
    if result is None:
        return Reply(204)
    if isinstance(result, tuple):
        status, data, *rest = result
        headers = rest[0] if rest else None
        if isinstance(data, (bytes, str)):
            return Reply.text(data, status, headers=headers)
        return Reply.json(data, status, headers) if data is not None else Reply(status, b"", dict(headers or {}))
    if isinstance(result, (bytes, str)):
        return Reply.text(result)
    return Reply.json(result)


@dataclass
class Fault:
    kind: str  # STATUS, SLOW, DROP, DROP_AFTER
    method: str | None = None  # None: any
    path: str | None = None  # a route pattern or a literal path; None: any
    times: int | None = 1  # how many requests it hits; None: until cleared
    rate: float | None = None  # the chance a matching request is hit; None: every one
    status: int = 503
    retry_after: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # SLOW: seconds before the handler runs
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method:
            return False
        return self.path is None or self.path == path or _compile(self.path).fullmatch(path) is not None

    @property
    def spent(self) -> bool:
        return self.times is not None and self.hits >= self.times


def _compile(pattern: str) -> re.Pattern:
    regex, position = "", 0
    for match in re.finditer(r"\{(\w+)(:path)?\}", pattern):
        regex += re.escape(pattern[position:match.start()])
        regex += "(?P<{0}>{1})".format(match.group(1), ".+" if match.group(2) else "[^/]+")
        position = match.end()
    return re.compile(regex + re.escape(pattern[position:]))


@dataclass
class _Route:
    method: str
    pattern: str
    regex: re.Pattern
    handler: Callable[[Request], Any]


# ---------------------------------------------------------------------------------------- server

class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so a client's connection reuse is exercised
    server_version = "idfed-test-server/1"
    timeout = 60  # a client that connects and sends nothing does not hold a thread for ever
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

    def setup(self):
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(self.timeout)
            self.request.do_handshake()  # in this thread, so a stalled client cannot block accept()
        super().setup()

    def log_message(self, format, *args):  # noqa: A002 - the signature of the base class
        self.server.owner.access("%s %s" % (self.address_string(), format % args))

    def _dispatch(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request(self.command, parts.path, parse_qs(parts.query, keep_blank_values=True),
                          dict(self.headers.items()), body, *self.client_address[:2])
        try:
            self.server.owner.handle(self, request)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, TimeoutError):
            self.close_connection = True  # the client gave up (timeout and size tests do that on purpose)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch  # noqa: N815

    def drop(self) -> None:
        """Close the connection without an answer."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        headers = {"Content-Type": reply.content_type, **reply.headers}
        streamed = not isinstance(reply.body, (bytes, bytearray))
        if not streamed:
            headers.setdefault("Content-Length", str(len(reply.body)))
        elif "Content-Length" not in headers:
            headers["Transfer-Encoding"] = "chunked"
        if reply.close:
            headers["Connection"] = "close"
            self.close_connection = True
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command == "HEAD":
            return
        if not streamed:
            self.wfile.write(reply.body)
            return
        chunked = headers.get("Transfer-Encoding") == "chunked"
        for chunk in reply.body:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")


class _Listener(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address, owner: TestServer, tls_context: ssl.SSLContext | None = None):
        self.owner = owner
        super().__init__(address, _Handler)
        if tls_context is not None:
            self.socket = tls_context.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def handle_error(self, request, client_address):
        self.owner.access("{0} connection error: {1!r}".format(client_address[0], sys.exc_info()[1]))


class TestServer:
    """The base server; see the module docstring. Subclass it for an emulator."""

    __test__ = False  # not a pytest test class
    name = "test server"

    def __init__(self, state_dir: str | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 http_port: int | None = None, key_type: str = "ec", seed: int | None = None,
                 access_log: str | None = None):
        self._own_state = state_dir is None
        self.state_dir = state_dir or tempfile.mkdtemp(prefix="idfed-test-server-")
        self.host = host
        self.tls = ensure_tls(self.state_dir, key_type)
        self.ca_path = os.path.join(self.state_dir, "ca.pem")
        self.control_token = secrets.token_urlsafe(16)
        self._routes: list[_Route] = []
        self._faults: list[Fault] = []
        self._log: deque[dict[str, Any]] = deque(maxlen=LOG_LIMIT)
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._access = open(access_log, "a", buffering=1, encoding="utf-8") if access_log else None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(os.path.join(self.state_dir, "server.pem"), os.path.join(self.state_dir, "server.key"))
        self._listeners = [_Listener((host, port), self, context)]
        if http_port is not None:
            self._listeners.append(_Listener((host, http_port), self))
        self.setup_routes()

    # --------------------------------------------------------------------------- for subclasses

    def setup_routes(self) -> None:
        """Add the emulator's routes."""

    def reset(self) -> None:
        """Back to the initial state: the base clears the log and the faults; emulators also their state."""
        self.clear_log()
        self.clear_faults()

    def state(self) -> Any:
        """The emulator's state, for GET /_control/state."""
        return {}

    def error_reply(self, status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
        """An error in the vendor's envelope (injected faults and unknown routes use it)."""
        return Reply.json({"message": message}, status, headers)

    def not_found(self, request: Request) -> Reply:
        return self.error_reply(404, "no route for {0} {1}".format(request.method, request.path))

    # --------------------------------------------------------------------------- routes and faults

    def add_route(self, method: str, pattern: str, handler: Callable[[Request], Any]) -> None:
        self._routes.append(_Route(method.upper(), pattern, _compile(pattern), handler))

    def route(self, method: str, pattern: str) -> Callable:
        """Decorator form of add_route()."""
        def register(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
            self.add_route(method, pattern, handler)
            return handler
        return register

    def inject(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def fail(self, status: int = 503, *, retry_after: str | int | None = None, **where: Any) -> Fault:
        """Answer status (without running the handler), e.g. fail(429, retry_after=1, method="POST")."""
        return self.inject(Fault(STATUS, status=status, retry_after=None if retry_after is None else str(retry_after),
                                 **where))

    def slow(self, delay: float, **where: Any) -> Fault:
        """Wait delay seconds, then run the handler and answer (to a client that may have given up)."""
        return self.inject(Fault(SLOW, delay=delay, **where))

    def drop(self, **where: Any) -> Fault:
        """Close the connection without running the handler or answering."""
        return self.inject(Fault(DROP, **where))

    def drop_after_write(self, **where: Any) -> Fault:
        """Run the handler (its change is applied), then close the connection without the answer."""
        return self.inject(Fault(DROP_AFTER, **where))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.spent or not fault.matches(method, path):
                    continue
                if fault.rate is not None and self._random.random() >= fault.rate:
                    continue
                fault.hits += 1
                return fault
        return None

    def _match(self, method: str, path: str) -> tuple[_Route | None, dict[str, str]]:
        for candidates in (method, "GET" if method == "HEAD" else None, "*"):
            for route in self._routes:
                if route.method == candidates:
                    found = route.regex.fullmatch(path)
                    if found:
                        return route, found.groupdict()
        return None, {}

    # --------------------------------------------------------------------------- the request log

    def requests(self, method: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        """Logged requests (secrets masked), oldest first; method and path (a pattern) filter them."""
        with self._lock:
            entries = list(self._log)
        return [entry for entry in entries if (method is None or entry["method"] == method.upper())
                and (path is None or path == entry["path"] or _compile(path).fullmatch(entry["path"]))]

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    def access(self, line: str) -> None:
        if self._access is not None:
            self._access.write("{0} {1}\n".format(time.strftime("%H:%M:%S"), line))

    def pause(self, seconds: float) -> None:
        """Sleep in a handler; cut short when the server stops."""
        self._stopping.wait(seconds)

    # --------------------------------------------------------------------------- handling

    def handle(self, handler: _Handler, request: Request) -> None:
        if request.path.startswith(CONTROL_PREFIX):
            handler.send(self._control(request))
            return
        fault = self._take_fault(request.method, request.path)
        entry = request.logged()
        entry["fault"] = fault.kind if fault else None
        with self._lock:
            self._log.append(entry)
        if fault is not None and fault.kind == DROP:
            handler.drop()
            return
        if fault is not None and fault.kind == STATUS:
            headers = dict(fault.headers, **({"Retry-After": fault.retry_after} if fault.retry_after else {}))
            reply = self.error_reply(fault.status, "injected HTTP {0}".format(fault.status), headers)
        else:
            if fault is not None and fault.kind == SLOW:
                self.pause(fault.delay)
            reply = self._run_route(request)
        entry["status"] = reply.status
        if fault is not None and fault.kind == DROP_AFTER:
            handler.drop()
            return
        handler.send(reply)

    def _run_route(self, request: Request) -> Reply:
        route, params = self._match(request.method, request.path)
        if route is None:
            return self.not_found(request)
        request.params = params
        try:
            return as_reply(route.handler(request))
        except Exception as exc:  # pylint: disable=broad-except  # a handler bug is a 500, not a hung test
            self.access("handler error for {0} {1}: {2!r}".format(request.method, request.path, exc))
            return self.error_reply(500, "handler error: {0!r}".format(exc))

    def _control(self, request: Request) -> Reply:
        if request.header(CONTROL_HEADER) != self.control_token:
            return Reply.json({"message": "the control token is missing or wrong"}, 403)
        action = (request.method, request.path[len(CONTROL_PREFIX):])
        if action == ("GET", "log"):
            return Reply.json({"requests": self.requests()})
        if action == ("DELETE", "log"):
            self.clear_log()
            return Reply(204)
        if action == ("POST", "faults"):
            try:
                fault = self.inject(Fault(**(request.json or {})))
            except TypeError as exc:
                return Reply.json({"message": "not a fault: {0}".format(exc)}, 400)
            return Reply.json(asdict(fault), 201)
        if action == ("DELETE", "faults"):
            self.clear_faults()
            return Reply(204)
        if action == ("POST", "reset"):
            self.reset()
            return Reply(204)
        if action == ("GET", "state"):
            return Reply.json(self.state())
        return Reply.json({"message": "unknown control call"}, 404)

    # --------------------------------------------------------------------------- life cycle

    @property
    def https_port(self) -> int:
        return self._listeners[0].server_address[1]

    @property
    def http_port(self) -> int | None:
        return self._listeners[1].server_address[1] if len(self._listeners) > 1 else None

    @property
    def url(self) -> str:
        return "https://{0}:{1}".format(self._url_host(), self.https_port)

    @property
    def http_url(self) -> str | None:
        return "http://{0}:{1}".format(self._url_host(), self.http_port) if self.http_port else None

    def _url_host(self) -> str:
        return "[{0}]".format(self.host) if ":" in self.host else self.host

    def info(self) -> dict[str, Any]:
        """What server.json holds; emulators add their facts."""
        return {"pid": os.getpid(), "host": self.host, "https_port": self.https_port, "http_port": self.http_port,
                "https_url": self.url, "http_url": self.http_url, "ca": self.ca_path, "dir": self.state_dir,
                "control_token": self.control_token}

    def start(self) -> TestServer:
        for listener in self._listeners:
            thread = threading.Thread(target=listener.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stopping.set()
        # shutdown() waits for the serve loop's next poll: wait for all listeners at once.
        stoppers = [threading.Thread(target=listener.shutdown) for listener in self._listeners if self._threads]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        for listener in self._listeners:
            listener.server_close()
        if self._access is not None:
            self._access.close()
            self._access = None
        if self._own_state:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def __enter__(self) -> TestServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def serve(self, max_lifetime: float) -> None:
        """Run until SIGTERM/SIGINT/SIGHUP or max_lifetime seconds (0: no limit), with server.json written."""
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, lambda *_: stop.set())
        self.start()
        info_path = os.path.join(self.state_dir, "server.json")
        write_atomic(info_path, json.dumps(self.info(), indent=2, sort_keys=True).encode("utf-8") + b"\n")
        self.access("listening https={0} http={1} pid={2}".format(self.https_port, self.http_port, os.getpid()))
        stop.wait(max_lifetime if max_lifetime > 0 else None)
        self.access("stopping" if stop.is_set() else "max lifetime reached, stopping")
        self.stop()
        if read_info(self.state_dir).get("pid") == os.getpid():
            os.unlink(info_path)


# ------------------------------------------------------------------------------- subprocess control

def read_info(state: str) -> dict[str, Any]:
    try:
        with open(os.path.join(state, "server.json"), encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {}


class ControlClient:
    """Drives a server started as a subprocess, from its server.json (a dict, or the state directory)."""

    def __init__(self, info: Mapping[str, Any] | str):
        self.info = read_info(info) if isinstance(info, str) else dict(info)
        self._context = ssl.create_default_context(cafile=self.info["ca"])

    def call(self, method: str, action: str, data: Any = None) -> Any:
        request = urllib.request.Request(
            self.info["https_url"] + CONTROL_PREFIX + action, method=method,
            data=None if data is None else json.dumps(data).encode("utf-8"),
            headers={CONTROL_HEADER: self.info["control_token"], "Content-Type": "application/json"})
        with urllib.request.urlopen(request, context=self._context, timeout=10) as answer:  # noqa: S310
            body = answer.read()
        return json.loads(body) if body else None

    def requests(self) -> list[dict[str, Any]]:
        return self.call("GET", "log")["requests"]

    def clear_log(self) -> None:
        self.call("DELETE", "log")

    def inject(self, **fault: Any) -> dict[str, Any]:
        """Fault fields as keywords: inject(kind="status", status=429, retry_after="1", path="/x")."""
        return self.call("POST", "faults", fault)

    def clear_faults(self) -> None:
        self.call("DELETE", "faults")

    def reset(self) -> None:
        self.call("POST", "reset")

    def state(self) -> Any:
        return self.call("GET", "state")


def _is_our_process(pid: int, marker: str) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:
        with open("/proc/{0}/cmdline".format(pid), "rb") as handle:
            return marker.encode() in handle.read()
    except OSError:
        return True  # no /proc (macOS): trust the pid file


def stop_server(state: str, marker: str, name: str, wait: float = 10.0) -> int:
    info = read_info(state)
    if not info:
        print("no server.json in {0}: nothing to stop".format(state))
        return 0
    pid = int(info["pid"])
    if _is_our_process(pid, marker):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and _is_our_process(pid, marker):
            time.sleep(0.1)
        if _is_our_process(pid, marker):
            os.kill(pid, signal.SIGKILL)
    try:
        os.unlink(os.path.join(state, "server.json"))
    except FileNotFoundError:
        pass
    print("stopped {0} pid {1}".format(name, pid))
    return 0


def start_background(args: argparse.Namespace, script: str, name: str) -> int:
    """Start script detached, wait for its server.json and print it (a playbook starts it in one task)."""
    state = os.path.abspath(args.dir)
    os.makedirs(state, exist_ok=True)
    info = read_info(state)
    if info and _is_our_process(int(info["pid"]), os.path.basename(script)):
        print(json.dumps(info, indent=2, sort_keys=True))  # already running: reuse it
        return 0
    try:
        os.unlink(os.path.join(state, "server.json"))
    except FileNotFoundError:
        pass
    command = [sys.executable, os.path.abspath(script), "--dir", state, "--host", args.host, "--port", str(args.port),
               "--max-lifetime", str(args.max_lifetime)]
    if args.http_port is not None:
        command += ["--http-port", str(args.http_port)]
    with open(os.path.join(state, "server.log"), "ab") as log:
        child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,  # noqa: S603
                                 start_new_session=True, close_fds=True)
    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline:
        info = read_info(state)
        if info and info.get("pid") == child.pid:
            print(json.dumps(info, indent=2, sort_keys=True))
            return 0
        if child.poll() is not None:
            break
        time.sleep(0.05)
    if child.poll() is None:
        child.kill()
    with open(os.path.join(state, "server.log"), encoding="utf-8", errors="replace") as handle:
        sys.stderr.write(handle.read()[-4000:])
    sys.stderr.write("{0} did not start within {1} seconds\n".format(name, args.wait))
    return 1


def main(factory: Callable[[argparse.Namespace], TestServer], argv: list[str] | None = None, *, script: str,
         description: str, name: str, http_port_default: int | None = None) -> int:
    """The command line of an emulator script: --dir STATE [--port N] [--http-port N] [--background],
    --stop STATE. factory(args) builds the server for the foreground (child) process."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--dir", help="state directory (keys, certificates, server.json, logs)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="HTTPS port (0: any free port)")
    parser.add_argument("--http-port", type=int, default=http_port_default,
                        help="plain HTTP port (0: any free port; omitted: {0})".format(
                            "no plain listener" if http_port_default is None else http_port_default))
    parser.add_argument("--max-lifetime", type=float, default=3600.0,
                        help="stop on its own after this many seconds (0: never)")
    parser.add_argument("--background", action="store_true",
                        help="detach, wait until listening, print server.json and exit")
    parser.add_argument("--wait", type=float, default=60.0, help="with --background: seconds to wait for start")
    parser.add_argument("--stop", metavar="DIR", help="stop the server whose state directory is DIR")
    args = parser.parse_args(argv)
    if args.stop:
        return stop_server(args.stop, os.path.basename(script), name)
    if not args.dir:
        parser.error("--dir is required")
    if args.background:
        return start_background(args, script, name)
    args.dir = os.path.abspath(args.dir)
    factory(args).serve(args.max_lifetime)
    return 0
