# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A local HTTPS (and plain HTTP) server that publishes SAML metadata and certificates for tests.

Standard library plus ``cryptography`` (and ``signxml`` + ``lxml`` for the signed document when they are
installed), so it runs with the collection's venv python and nothing from the repository:

    python metadata_server.py --dir STATE [--port 0] [--http-port 0] [--background]
    python metadata_server.py --stop STATE

On start it creates (or reuses) in STATE a CA, a server certificate for 127.0.0.1/localhost and the
IdP keys, writes ``ca.pem`` and the documents it serves, and once both listeners accept connections
writes ``server.json``: {"https_port", "http_port", "pid", "https_url", "http_url", "ca", ...}. With
``--background`` it detaches, waits for that file and prints it (so a playbook or a shell script can
start it with one command). It stops on SIGTERM/SIGINT, on ``--stop STATE`` and on its own after
``--max-lifetime`` seconds, so a crashed test run does not leave it behind for long.

Routes (same on both listeners):
  /idp.xml        IdP metadata: RSA 2048 signing certificate valid for a year, an encryption key,
                  emailAddress NameID, HTTP-POST and HTTP-Redirect SSO (unsigned)
  /idp-signed.xml the same, signed (rsa-sha256) with the IdP signing key (when signxml is installed)
  /sp.xml         Identity Center SP metadata (eu-west-1, IPv4, dual-stack and legacy ACS URLs)
  /entities.xml   an EntitiesDescriptor aggregate with two IdPs
  /expired.xml    IdP metadata whose only signing certificate expired
  /cert.pem       the IdP signing certificate (like ZITADEL's /saml/v2/certificate); /cert.der DER;
                  /cert.b64 the bare base64 body; /expired.pem an expired certificate; /ca.pem
  /slow           waits 10 seconds (?seconds=N) before answering with /idp.xml
  /big            streams 20 MB without Content-Length (?declared=1 sends a Content-Length header)
  /loop           redirects to itself;  /redirect one redirect to /idp.xml;  /to-http redirects an
                  https request to the plain-http listener
  /missing        404 (so is every unknown path);  /500 HTTP 500
  /ratelimit      429 with Retry-After: 1 the first time per ?key=..., then /idp.xml
"""

from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import http.server
import json
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"

IDP_ENTITY_ID = "https://idp.example.test/saml/metadata"
IDP_BASE = "https://idp.example.test/saml"
SECOND_IDP_ENTITY_ID = "https://idp2.example.test/saml/metadata"
EXPIRED_IDP_ENTITY_ID = "https://expired-idp.example.test/saml/metadata"
SP_REGION = "eu-west-1"
SP_IDENTITY_STORE_ID = "d-93670c4a5b"
SP_TENANT = "65752d776573742d-2b3c-4d5e-8f90-a1b2c3d4e5f6"
SP_ENTITY_ID = "https://{0}.signin.aws.amazon.com/platform/saml/{1}".format(SP_REGION, SP_IDENTITY_STORE_ID)
SP_ACS_URLS = (
    ("ipv4", "https://{0}.signin.aws/platform/saml/acs/{1}".format(SP_REGION, SP_TENANT)),
    ("dual_stack", "https://{0}.sso.signin.aws/platform/saml/acs/{1}".format(SP_REGION, SP_TENANT)),
    ("legacy", "https://{0}.signin.aws.amazon.com/platform/saml/acs/{1}".format(SP_REGION, SP_TENANT)),
)
BIG_SIZE = 20 * 1024 * 1024
DAY = datetime.timedelta(days=1)


# --------------------------------------------------------------------------------------------- keys

def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def _write_private(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _write(path: str, data: bytes) -> None:
    temporary = path + ".tmp"
    with open(temporary, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "idfed.aws_sso tests"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _keypair(state: str, stem: str, build, min_days_left: int = 2):
    """Load <stem>.key/<stem>.pem from state, or make them with build(key) -> certificate."""
    key_path, cert_path = os.path.join(state, stem + ".key"), os.path.join(state, stem + ".pem")
    if os.path.exists(key_path) and os.path.exists(cert_path):
        with open(key_path, "rb") as handle:
            key = serialization.load_pem_private_key(handle.read(), password=None)
        with open(cert_path, "rb") as handle:
            cert = x509.load_pem_x509_certificate(handle.read())
        expired_on_purpose = stem.startswith("expired")
        if expired_on_purpose or cert.not_valid_after_utc - _now() > datetime.timedelta(days=min_days_left):
            return key, cert
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = build(key)
    _write_private(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return key, cert


def _self_signed(common_name: str, not_before: datetime.datetime, not_after: datetime.datetime):
    def build(key):
        return (x509.CertificateBuilder()
                .subject_name(_name(common_name)).issuer_name(_name(common_name))
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(not_before).not_valid_after(not_after)
                .sign(key, hashes.SHA256()))
    return build


def make_state(state: str) -> dict:
    """Create or reuse every key and certificate; return them by name."""
    os.makedirs(state, exist_ok=True)
    now = _now()
    keys = {}

    def build_ca(key):
        return (x509.CertificateBuilder()
                .subject_name(_name("idfed.aws_sso test CA")).issuer_name(_name("idfed.aws_sso test CA"))
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - DAY).not_valid_after(now + 365 * DAY)
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                             data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                             crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256()))

    keys["ca"] = _keypair(state, "ca", build_ca, min_days_left=30)
    ca_key, ca_cert = keys["ca"]

    def build_server(key):
        import ipaddress
        return (x509.CertificateBuilder()
                .subject_name(_name("localhost")).issuer_name(ca_cert.subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - DAY).not_valid_after(min(now + 90 * DAY, ca_cert.not_valid_after_utc))
                .add_extension(x509.SubjectAlternativeName([
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.IPAddress(ipaddress.ip_address("::1")),
                ]), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
                .sign(ca_key, hashes.SHA256()))

    server_key_path = os.path.join(state, "server.pem")
    if os.path.exists(server_key_path):
        # A new CA invalidates the old server certificate.
        with open(server_key_path, "rb") as handle:
            if x509.load_pem_x509_certificate(handle.read()).issuer != ca_cert.subject or \
                    os.path.getmtime(server_key_path) < os.path.getmtime(os.path.join(state, "ca.pem")):
                os.unlink(server_key_path)
    keys["server"] = _keypair(state, "server", build_server)
    keys["idp_signing"] = _keypair(state, "idp-signing", _self_signed("idp.example.test signing", now - DAY,
                                                                      now + 365 * DAY), min_days_left=60)
    keys["idp_encryption"] = _keypair(state, "idp-encryption", _self_signed("idp.example.test encryption",
                                                                            now - DAY, now + 365 * DAY), 60)
    keys["idp2_signing"] = _keypair(state, "idp2-signing", _self_signed("idp2.example.test signing", now - DAY,
                                                                        now + 365 * DAY), min_days_left=60)
    keys["expired"] = _keypair(state, "expired", _self_signed("expired-idp.example.test signing",
                                                              now - 400 * DAY, now - 30 * DAY))
    return keys


# ---------------------------------------------------------------------------------------- documents

def _b64_body(cert) -> str:
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii")


def _fingerprint(cert) -> str:
    digest = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def _key_descriptor(cert, use: str) -> str:
    return ('<md:KeyDescriptor use="{0}"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{1}</ds:X509Certificate>'
            '</ds:X509Data></ds:KeyInfo></md:KeyDescriptor>'.format(use, _b64_body(cert)))


def idp_entity(entity_id: str, base: str, signing, encryption=None, signature_placeholder: bool = False,
               document_id: str | None = None) -> str:
    keys = _key_descriptor(signing, "signing") + (_key_descriptor(encryption, "encryption") if encryption else "")
    attributes = ' ID="{0}"'.format(document_id) if document_id else ""
    placeholder = '<ds:Signature Id="placeholder"></ds:Signature>' if signature_placeholder else ""
    return (
        '<md:EntityDescriptor xmlns:md="{md}" xmlns:ds="{ds}" entityID="{entity_id}"{attributes}>'
        '{placeholder}'
        '<md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="{protocol}">'
        '{keys}'
        '<md:SingleLogoutService Binding="{redirect}" Location="{base}/slo"/>'
        '<md:NameIDFormat>{email}</md:NameIDFormat>'
        '<md:NameIDFormat>{persistent}</md:NameIDFormat>'
        '<md:SingleSignOnService Binding="{post}" Location="{base}/sso/post"/>'
        '<md:SingleSignOnService Binding="{redirect}" Location="{base}/sso/redirect"/>'
        '</md:IDPSSODescriptor>'
        '<md:Organization><md:OrganizationName xml:lang="en">idfed tests</md:OrganizationName>'
        '<md:OrganizationDisplayName xml:lang="en">idfed tests</md:OrganizationDisplayName>'
        '<md:OrganizationURL xml:lang="en">https://idp.example.test/</md:OrganizationURL></md:Organization>'
        '<md:ContactPerson contactType="technical"><md:EmailAddress>mailto:idp-admin@example.test</md:EmailAddress>'
        '</md:ContactPerson>'
        '</md:EntityDescriptor>'
    ).format(md=MD, ds=DS, entity_id=entity_id, attributes=attributes, placeholder=placeholder, protocol=PROTOCOL,
             keys=keys, redirect=REDIRECT, post=POST, base=base, email=EMAIL, persistent=PERSISTENT)


def sp_document() -> str:
    acs = "".join(
        '<md:AssertionConsumerService Binding="{0}" Location="{1}" index="{2}"{3}/>'.format(
            POST, location, index, ' isDefault="true"' if index == 0 else "")
        for index, (_form, location) in enumerate(SP_ACS_URLS))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<md:EntityDescriptor xmlns:md="{md}" entityID="{entity_id}">'
        '<md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true" '
        'protocolSupportEnumeration="{protocol}">'
        '<md:NameIDFormat>{email}</md:NameIDFormat>{acs}'
        '</md:SPSSODescriptor></md:EntityDescriptor>'
    ).format(md=MD, entity_id=SP_ENTITY_ID, protocol=PROTOCOL, email=EMAIL, acs=acs)


def sign_document(xml: str, key, cert) -> bytes | None:
    """Enveloped rsa-sha256 signature in the placeholder, or None without signxml."""
    try:
        from lxml import etree
        from signxml import XMLSigner
        from signxml.algorithms import DigestAlgorithm, SignatureMethod
    except ImportError:
        return None
    root = etree.fromstring(xml.encode("utf-8"))
    signer = XMLSigner(signature_algorithm=SignatureMethod.RSA_SHA256, digest_algorithm=DigestAlgorithm.SHA256,
                       c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#")
    signed = signer.sign(root, key=key, cert=[cert], reference_uri="#" + root.get("ID"))
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


def build_documents(keys: dict) -> dict:
    """Path -> (content type, body). Deterministic for a given set of keys."""
    xml_type = "application/samlmetadata+xml"
    signing_key, signing = keys["idp_signing"]
    encryption = keys["idp_encryption"][1]
    declaration = '<?xml version="1.0" encoding="UTF-8"?>'
    idp = declaration + idp_entity(IDP_ENTITY_ID, IDP_BASE, signing, encryption)
    entities = (declaration + '<md:EntitiesDescriptor xmlns:md="{0}" Name="urn:example:test-federation">'.format(MD)
                + idp_entity(IDP_ENTITY_ID, IDP_BASE, signing, encryption)
                + idp_entity(SECOND_IDP_ENTITY_ID, "https://idp2.example.test/saml", keys["idp2_signing"][1])
                + "</md:EntitiesDescriptor>")
    expired = declaration + idp_entity(EXPIRED_IDP_ENTITY_ID, "https://expired-idp.example.test/saml",
                                       keys["expired"][1])
    documents = {
        "/idp.xml": (xml_type, idp.encode("utf-8")),
        "/entities.xml": (xml_type, entities.encode("utf-8")),
        "/expired.xml": (xml_type, expired.encode("utf-8")),
        "/sp.xml": (xml_type, sp_document().encode("utf-8")),
        "/cert.pem": ("application/x-pem-file", signing.public_bytes(serialization.Encoding.PEM)),
        "/cert.der": ("application/pkix-cert", signing.public_bytes(serialization.Encoding.DER)),
        "/cert.b64": ("text/plain", _b64_body(signing).encode("ascii")),
        "/expired.pem": ("application/x-pem-file", keys["expired"][1].public_bytes(serialization.Encoding.PEM)),
        "/ca.pem": ("application/x-pem-file", keys["ca"][1].public_bytes(serialization.Encoding.PEM)),
    }
    signed = sign_document(idp_entity(IDP_ENTITY_ID, IDP_BASE, signing, encryption, signature_placeholder=True,
                                      document_id="_idfed-test-idp"), signing_key, signing)
    if signed is not None:
        documents["/idp-signed.xml"] = (xml_type, signed)
    return documents


# ------------------------------------------------------------------------------------------- server

class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "idfed-metadata-server/1"
    timeout = 60  # a client that connects and sends nothing does not hold a thread for ever

    def setup(self):
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(self.timeout)
            self.request.do_handshake()  # in this thread, so a stalled client cannot block accept()
        super().setup()

    def log_message(self, format, *args):  # noqa: A002 - the signature of the base class
        self.server.app.log("%s %s" % (self.address_string(), format % args))

    def _send(self, status: int, body: bytes = b"", content_type: str = "text/plain", headers: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _redirect(self, location: str):
        self._send(302, b"", headers={"Location": location})

    def do_HEAD(self):  # noqa: N802 - http.server naming
        self.do_GET()

    def do_GET(self):  # noqa: N802 - http.server naming
        app = self.server.app
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        route = parts.path
        try:
            if route in app.documents:
                content_type, body = app.documents[route]
                self._send(200, body, content_type)
            elif route == "/slow":
                time.sleep(float(query.get("seconds", ["10"])[0]))
                content_type, body = app.documents["/idp.xml"]
                self._send(200, body, content_type)
            elif route == "/big":
                self._stream_big(declared="declared" in query)
            elif route == "/loop":
                self._redirect("/loop")
            elif route == "/redirect":
                self._redirect("/idp.xml")
            elif route == "/to-http":
                self._redirect("http://127.0.0.1:{0}/idp.xml".format(app.http_port))
            elif route == "/500":
                self._send(500, b"internal error (on purpose)\n")
            elif route == "/ratelimit":
                client_key = query.get("key", [self.client_address[0]])[0]
                if app.first_visit(client_key):
                    self._send(429, b"slow down\n", headers={"Retry-After": "1"})
                else:
                    content_type, body = app.documents["/idp.xml"]
                    self._send(200, body, content_type)
            else:
                self._send(404, b"not found\n")
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, TimeoutError):
            pass  # the client gave up (timeout and size tests do that on purpose)

    def _stream_big(self, declared: bool):
        self.send_response(200)
        self.send_header("Content-Type", "application/samlmetadata+xml")
        if declared:
            self.send_header("Content-Length", str(BIG_SIZE))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        head = b'<?xml version="1.0"?><md:EntityDescriptor xmlns:md="' + MD.encode() + b'" entityID="big"><!--'
        chunk = b"x" * 65536
        self.wfile.write(head)
        sent = len(head)
        while sent + len(chunk) < BIG_SIZE:
            self.wfile.write(chunk)
            sent += len(chunk)
        self.wfile.write(b"x" * (BIG_SIZE - sent - 3) + b"-->")
        self.close_connection = True


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address, app, tls_context=None):
        self.app = app
        super().__init__(address, Handler)
        if tls_context is not None:
            self.socket = tls_context.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        self.app.log("{0} connection error: {1!r}".format(client_address[0], exc))


class App:
    def __init__(self, state: str, host: str, https_port: int, http_port: int):
        self.state = state
        self.keys = make_state(state)
        self.documents = build_documents(self.keys)
        for route, (_type, body) in self.documents.items():
            _write(os.path.join(state, "served" + route.replace("/", "_")), body)
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        self._log = open(os.path.join(state, "access.log"), "a", buffering=1, encoding="utf-8")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(os.path.join(state, "server.pem"), os.path.join(state, "server.key"))
        self.https = Server((host, https_port), self, context)
        self.http = Server((host, http_port), self)
        self.host = host
        self.https_port = self.https.server_address[1]
        self.http_port = self.http.server_address[1]

    def log(self, line: str) -> None:
        self._log.write("{0} {1}\n".format(time.strftime("%H:%M:%S"), line))

    def first_visit(self, key: str) -> bool:
        with self._lock:
            if key in self._seen:
                return False
            self._seen.add(key)
            return True

    def info(self) -> dict:
        host = "[{0}]".format(self.host) if ":" in self.host else self.host
        signing = self.keys["idp_signing"][1]
        return {
            "pid": os.getpid(),
            "host": self.host,
            "https_port": self.https_port,
            "http_port": self.http_port,
            "https_url": "https://{0}:{1}".format(host, self.https_port),
            "http_url": "http://{0}:{1}".format(host, self.http_port),
            "ca": os.path.join(self.state, "ca.pem"),
            "dir": self.state,
            "signed_metadata": "/idp-signed.xml" in self.documents,
            "idp": {
                "entity_id": IDP_ENTITY_ID,
                "signing_certificate": os.path.join(self.state, "idp-signing.pem"),
                "signing_fingerprint_sha256": _fingerprint(signing),
                "encryption_fingerprint_sha256": _fingerprint(self.keys["idp_encryption"][1]),
                "sso_services": [{"binding": POST, "location": IDP_BASE + "/sso/post"},
                                 {"binding": REDIRECT, "location": IDP_BASE + "/sso/redirect"}],
                "second_entity_id": SECOND_IDP_ENTITY_ID,
                "second_signing_fingerprint_sha256": _fingerprint(self.keys["idp2_signing"][1]),
            },
            "expired": {
                "entity_id": EXPIRED_IDP_ENTITY_ID,
                "certificate": os.path.join(self.state, "expired.pem"),
                "fingerprint_sha256": _fingerprint(self.keys["expired"][1]),
            },
            "sp": {
                "entity_id": SP_ENTITY_ID,
                "region": SP_REGION,
                "identity_store_id": SP_IDENTITY_STORE_ID,
                "tenant": SP_TENANT,
                "acs_urls": [{"form": form, "location": location} for form, location in SP_ACS_URLS],
            },
        }

    def serve(self, max_lifetime: float) -> None:
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, lambda *_: stop.set())
        threads = [threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
                   for server in (self.https, self.http)]
        for thread in threads:
            thread.start()
        info_path = os.path.join(self.state, "server.json")
        _write(info_path, json.dumps(self.info(), indent=2, sort_keys=True).encode("utf-8") + b"\n")
        self.log("listening https={0} http={1} pid={2}".format(self.https_port, self.http_port, os.getpid()))
        stop.wait(max_lifetime if max_lifetime > 0 else None)
        self.log("stopping" if stop.is_set() else "max lifetime reached, stopping")
        for server in (self.https, self.http):
            server.shutdown()
            server.server_close()
        try:
            with open(info_path, encoding="utf-8") as handle:
                if json.load(handle).get("pid") == os.getpid():
                    os.unlink(info_path)
        except (OSError, ValueError):
            pass


# ------------------------------------------------------------------------------------ start / stop

def _read_info(state: str) -> dict | None:
    try:
        with open(os.path.join(state, "server.json"), encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def _is_our_process(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    try:
        with open("/proc/{0}/cmdline".format(pid), "rb") as handle:
            return b"metadata_server" in handle.read()
    except OSError:
        return True  # no /proc (macOS): trust the pid file


def stop(state: str, wait: float = 10.0) -> int:
    info = _read_info(state)
    if not info:
        print("no server.json in {0}: nothing to stop".format(state))
        return 0
    pid = int(info["pid"])
    if _is_our_process(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and _is_our_process(pid):
            time.sleep(0.1)
        if _is_our_process(pid):
            os.kill(pid, signal.SIGKILL)
    try:
        os.unlink(os.path.join(state, "server.json"))
    except FileNotFoundError:
        pass
    print("stopped metadata server pid {0}".format(pid))
    return 0


def start_background(args) -> int:
    state = os.path.abspath(args.dir)
    os.makedirs(state, exist_ok=True)
    info = _read_info(state)
    if info and _is_our_process(int(info["pid"])):
        print(json.dumps(info, indent=2, sort_keys=True))  # already running: reuse it
        return 0
    try:
        os.unlink(os.path.join(state, "server.json"))
    except FileNotFoundError:
        pass
    command = [sys.executable, os.path.abspath(__file__), "--dir", state, "--host", args.host,
               "--port", str(args.port), "--http-port", str(args.http_port),
               "--max-lifetime", str(args.max_lifetime)]
    with open(os.path.join(state, "server.log"), "ab") as log:
        child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                 start_new_session=True, close_fds=True)
    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline:
        info = _read_info(state)
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
    sys.stderr.write("metadata server did not start within {0} seconds\n".format(args.wait))
    return 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--dir", help="state directory (keys, certificates, server.json, logs)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="HTTPS port (0: any free port)")
    parser.add_argument("--http-port", type=int, default=0, help="plain HTTP port (0: any free port)")
    parser.add_argument("--max-lifetime", type=float, default=3600.0,
                        help="stop on its own after this many seconds (0: never)")
    parser.add_argument("--background", action="store_true",
                        help="detach, wait until listening, print server.json and exit")
    parser.add_argument("--wait", type=float, default=60.0, help="with --background: seconds to wait for start")
    parser.add_argument("--stop", metavar="DIR", help="stop the server whose state directory is DIR")
    args = parser.parse_args(argv)
    if args.stop:
        return stop(args.stop)
    if not args.dir:
        parser.error("--dir is required")
    if args.background:
        return start_background(args)
    app = App(os.path.abspath(args.dir), args.host, args.port, args.http_port)
    app.serve(args.max_lifetime)
    return 0


if __name__ == "__main__":
    sys.exit(main())
