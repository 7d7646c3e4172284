# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A local HTTPS (and plain HTTP) server that publishes SAML metadata and certificates for tests.

Built on test_server.py (next to it: copy both). Standard library plus ``cryptography`` (and ``signxml`` +
``lxml`` for the signed document when they are installed), so it runs with the collection's venv python:

    python metadata_server.py --dir STATE [--port 0] [--http-port 0] [--background]
    python metadata_server.py --stop STATE

On start it creates (or reuses) in STATE a CA, a server certificate for 127.0.0.1/localhost and the
IdP keys, writes ``ca.pem`` and the documents it serves (``served_*``), and once both listeners accept
connections writes ``server.json``: {"https_port", "http_port", "pid", "https_url", "http_url", "ca",
"control_token", ...}. With ``--background`` it detaches, waits for that file and prints it (so a
playbook or a shell script can start it with one command). It stops on SIGTERM/SIGINT, on ``--stop
STATE`` and on its own after ``--max-lifetime`` seconds, so a crashed test run does not leave it behind
for long. test_server.ControlClient reads its request log and injects faults.

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

import base64
import hashlib
import os
import sys
import threading

from cryptography.hazmat.primitives import hashes, serialization
from cryptography import x509

import test_server
from test_server import DAY, Reply, Request, TestServer, keypair, make_name, now, write_atomic

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
XML_TYPE = "application/samlmetadata+xml"


# --------------------------------------------------------------------------------------------- keys

def _self_signed(common_name: str, not_before, not_after):
    def build(key):
        return (x509.CertificateBuilder()
                .subject_name(make_name(common_name)).issuer_name(make_name(common_name))
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(not_before).not_valid_after(not_after)
                .sign(key, hashes.SHA256()))
    return build


def make_idp_keys(state: str) -> dict:
    """Create or reuse the IdP keys and certificates; return them by name."""
    start = now()
    year = 365 * DAY
    return {
        "idp_signing": keypair(state, "idp-signing", _self_signed("idp.example.test signing", start - DAY,
                                                                  start + year), min_days_left=60),
        "idp_encryption": keypair(state, "idp-encryption", _self_signed("idp.example.test encryption", start - DAY,
                                                                        start + year), min_days_left=60),
        "idp2_signing": keypair(state, "idp2-signing", _self_signed("idp2.example.test signing", start - DAY,
                                                                    start + year), min_days_left=60),
        "expired": keypair(state, "expired", _self_signed("expired-idp.example.test signing", start - 400 * DAY,
                                                          start - 30 * DAY)),
    }


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
        "/idp.xml": (XML_TYPE, idp.encode("utf-8")),
        "/entities.xml": (XML_TYPE, entities.encode("utf-8")),
        "/expired.xml": (XML_TYPE, expired.encode("utf-8")),
        "/sp.xml": (XML_TYPE, sp_document().encode("utf-8")),
        "/cert.pem": ("application/x-pem-file", signing.public_bytes(serialization.Encoding.PEM)),
        "/cert.der": ("application/pkix-cert", signing.public_bytes(serialization.Encoding.DER)),
        "/cert.b64": ("text/plain", _b64_body(signing).encode("ascii")),
        "/expired.pem": ("application/x-pem-file", keys["expired"][1].public_bytes(serialization.Encoding.PEM)),
        "/ca.pem": ("application/x-pem-file", keys["ca"][1].public_bytes(serialization.Encoding.PEM)),
    }
    signed = sign_document(idp_entity(IDP_ENTITY_ID, IDP_BASE, signing, encryption, signature_placeholder=True,
                                      document_id="_idfed-test-idp"), signing_key, signing)
    if signed is not None:
        documents["/idp-signed.xml"] = (XML_TYPE, signed)
    return documents


# ------------------------------------------------------------------------------------------- server

def _big_body(declared: bool):
    head = b'<?xml version="1.0"?><md:EntityDescriptor xmlns:md="' + MD.encode() + b'" entityID="big"><!--'
    chunk = b"x" * 65536
    yield head
    sent = len(head)
    while sent + len(chunk) < BIG_SIZE:
        yield chunk
        sent += len(chunk)
    yield b"x" * (BIG_SIZE - sent - 3) + b"-->"


class MetadataServer(TestServer):
    name = "metadata server"

    def __init__(self, state: str, host: str = "127.0.0.1", https_port: int = 0, http_port: int = 0):
        os.makedirs(state, exist_ok=True)
        super().__init__(state, host=host, port=https_port, http_port=http_port, key_type="rsa",
                         access_log=os.path.join(state, "access.log"))
        self.keys = dict(make_idp_keys(state), ca=self.tls["ca"])
        self.documents = build_documents(self.keys)
        for route, (_type, body) in self.documents.items():
            write_atomic(os.path.join(state, "served" + route.replace("/", "_")), body)
        self._seen: set[str] = set()
        self._seen_lock = threading.Lock()

    def setup_routes(self) -> None:
        self.add_route("GET", "/slow", self._slow)
        self.add_route("GET", "/big", lambda request: Reply(
            200, _big_body(request.arg("declared") is not None), content_type=XML_TYPE, close=True,
            headers={"Content-Length": str(BIG_SIZE)} if request.arg("declared") is not None else {}))
        self.add_route("GET", "/loop", lambda _request: self._redirect("/loop"))
        self.add_route("GET", "/redirect", lambda _request: self._redirect("/idp.xml"))
        self.add_route("GET", "/to-http", lambda _request: self._redirect(
            "http://127.0.0.1:{0}/idp.xml".format(self.http_port)))
        self.add_route("GET", "/500", lambda _request: Reply.text("internal error (on purpose)\n", 500))
        self.add_route("GET", "/ratelimit", self._ratelimit)
        self.add_route("GET", "/{document}", self._document)

    def error_reply(self, status: int, message: str, headers: dict | None = None) -> Reply:
        return Reply.text(message + "\n", status, headers=headers)

    def not_found(self, request: Request) -> Reply:
        return self.error_reply(404, "not found")

    def _serve(self, route: str) -> Reply:
        content_type, body = self.documents[route]
        return Reply.text(body, content_type=content_type)

    def _document(self, request: Request) -> Reply:
        return self._serve(request.path) if request.path in self.documents else self.not_found(request)

    def _slow(self, request: Request) -> Reply:
        self.pause(float(request.arg("seconds", "10")))
        return self._serve("/idp.xml")

    def _ratelimit(self, request: Request) -> Reply:
        key = request.arg("key", request.client_host)
        with self._seen_lock:
            first = key not in self._seen
            self._seen.add(key)
        return self.error_reply(429, "slow down", {"Retry-After": "1"}) if first else self._serve("/idp.xml")

    @staticmethod
    def _redirect(location: str) -> Reply:
        return Reply(302, b"", {"Location": location}, "text/plain")

    def info(self) -> dict:
        signing = self.keys["idp_signing"][1]
        return dict(super().info(), **{
            "signed_metadata": "/idp-signed.xml" in self.documents,
            "idp": {
                "entity_id": IDP_ENTITY_ID,
                "signing_certificate": os.path.join(self.state_dir, "idp-signing.pem"),
                "signing_fingerprint_sha256": _fingerprint(signing),
                "encryption_fingerprint_sha256": _fingerprint(self.keys["idp_encryption"][1]),
                "sso_services": [{"binding": POST, "location": IDP_BASE + "/sso/post"},
                                 {"binding": REDIRECT, "location": IDP_BASE + "/sso/redirect"}],
                "second_entity_id": SECOND_IDP_ENTITY_ID,
                "second_signing_fingerprint_sha256": _fingerprint(self.keys["idp2_signing"][1]),
            },
            "expired": {
                "entity_id": EXPIRED_IDP_ENTITY_ID,
                "certificate": os.path.join(self.state_dir, "expired.pem"),
                "fingerprint_sha256": _fingerprint(self.keys["expired"][1]),
            },
            "sp": {
                "entity_id": SP_ENTITY_ID,
                "region": SP_REGION,
                "identity_store_id": SP_IDENTITY_STORE_ID,
                "tenant": SP_TENANT,
                "acs_urls": [{"form": form, "location": location} for form, location in SP_ACS_URLS],
            },
        })


def main(argv=None) -> int:
    return test_server.main(lambda args: MetadataServer(args.dir, args.host, args.port, args.http_port), argv,
                            script=__file__, description=__doc__.split("\n\n", maxsplit=1)[0],
                            name="metadata server", http_port_default=0)


if __name__ == "__main__":
    sys.exit(main())
