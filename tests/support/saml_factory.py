# -*- coding: utf-8 -*-
"""Test data made on the spot: CAs, certificates of any validity/key/hash, and (signed) SAML metadata.

Shared by the unit tests, the integration HTTPS server, the demo and the benchmark. Signing uses
signxml (SHA-1 explicitly enabled when asked for, since real IdPs still publish such metadata).
"""

from __future__ import annotations

import base64
import copy
import datetime
import functools
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from lxml import etree

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
BINDINGS = {
    "HTTP-POST": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
    "HTTP-Redirect": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
    "SOAP": "urn:oasis:names:tc:SAML:2.0:bindings:SOAP",
}
HASHES = {"sha256": hashes.SHA256, "sha1": hashes.SHA1, "sha384": hashes.SHA384, "md5": hashes.MD5}
UTC = datetime.timezone.utc


@dataclass
class Issued:
    cert: x509.Certificate
    key: object

    @property
    def pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def b64(self) -> str:
        return base64.b64encode(self.der).decode("ascii")

    @property
    def key_pem(self) -> str:
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()).decode("ascii")

    @property
    def fingerprint_sha256(self) -> str:
        return ":".join("{0:02X}".format(b) for b in self.cert.fingerprint(hashes.SHA256()))


@functools.lru_cache(maxsize=None)
def make_key(kind: str = "rsa", size: int = 2048, index: int = 0):
    """A private key, cached per (kind, size, index): RSA generation is the slow part of test set-up."""
    del index  # only part of the cache key, to get distinct keys of the same kind
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=size)
    curves = {256: ec.SECP256R1, 384: ec.SECP384R1, 192: ec.SECP192R1}
    return ec.generate_private_key(curves[size]())


def make_certificate(key=None, *, subject_cn: str = "idp.example.test", days_valid: int = 365,
                     not_before: datetime.datetime | None = None, not_after: datetime.datetime | None = None,
                     hash_alg: str = "sha256", issuer: Issued | None = None, is_ca: bool = False,
                     san_dns: tuple = (), san_ip: tuple = ()) -> Issued:
    import ipaddress

    key = key or make_key()
    if hash_alg in ("sha1", "md5"):
        return _legacy_self_signed(key, subject_cn, days_valid, hash_alg)
    now = datetime.datetime.now(UTC)
    not_before = not_before or now - datetime.timedelta(days=1)
    not_after = not_after or not_before + datetime.timedelta(days=days_valid)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)])
    builder = (x509.CertificateBuilder()
               .subject_name(name)
               .issuer_name(issuer.cert.subject if issuer else name)
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(not_before)
               .not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True))
    if san_dns or san_ip:
        names = [x509.DNSName(d) for d in san_dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in san_ip]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    signer = issuer.key if issuer else key
    return Issued(builder.sign(signer, HASHES[hash_alg]()), key)


def _legacy_self_signed(key, subject_cn: str, days_valid: int, hash_alg: str) -> Issued:
    """cryptography refuses to sign with SHA-1/MD5 any more; OpenSSL still does, as old IdPs did."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        with open(folder + "/key.pem", "wb") as handle:
            handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
        pem = subprocess.run(["openssl", "req", "-x509", "-new", "-key", folder + "/key.pem", "-" + hash_alg,
                              "-days", str(days_valid), "-subj", "/CN=" + subject_cn],
                             capture_output=True, check=True).stdout
    return Issued(x509.load_pem_x509_certificate(pem), key)


def make_ca(cn: str = "idfed test CA") -> Issued:
    return make_certificate(make_key("rsa", 2048, 90), subject_cn=cn, days_valid=3650, is_ca=True)


def make_tls_pair(ca: Issued, hosts=("127.0.0.1", "localhost")) -> Issued:
    ips = tuple(h for h in hosts if h.replace(".", "").isdigit())
    dns = tuple(h for h in hosts if h not in ips)
    return make_certificate(make_key("rsa", 2048, 91), subject_cn=hosts[0], issuer=ca, san_dns=dns, san_ip=ips)


def _el(parent, ns: str, tag: str, text: str | None = None, **attrs):
    node = etree.SubElement(parent, "{%s}%s" % (ns, tag), {k: v for k, v in attrs.items() if v is not None})
    if text is not None:
        node.text = text
    return node


def _key_descriptor(role, issued: Issued, use: str | None) -> None:
    descriptor = _el(role, MD, "KeyDescriptor", use=use)
    data = _el(_el(descriptor, DS, "KeyInfo"), DS, "X509Data")
    _el(data, DS, "X509Certificate", issued.b64)


def idp_metadata(entity_id: str = "https://idp.example.test/saml", *, signing=None, encryption=(),
                 unspecified=(), sso_bindings=("HTTP-POST", "HTTP-Redirect"),
                 sso_location: str = "https://idp.example.test/saml/sso", slo: bool = True,
                 name_id_formats=(EMAIL,), valid_until: str | None = None, padding_chars: int = 0,
                 extra_name_id_formats: int = 0, ws_fed_role: bool = False, entity_ref: str = "_idp") -> bytes:
    """IdP metadata; `padding_chars` grows it with an Organization/ContactPerson blob that minimisation drops,
    `extra_name_id_formats` with NameIDFormat entries that minimisation keeps."""
    signing = [make_certificate()] if signing is None else signing
    root = etree.Element("{%s}EntityDescriptor" % MD, {"entityID": entity_id, "ID": entity_ref},
                         nsmap={"md": MD, "ds": DS})
    if valid_until:
        root.set("validUntil", valid_until)
    if ws_fed_role:
        fed = "http://docs.oasis-open.org/wsfed/federation/200706"
        xsi = "http://www.w3.org/2001/XMLSchema-instance"
        role_descriptor = etree.SubElement(root, "{%s}RoleDescriptor" % MD, {
            "{%s}type" % xsi: "fed:SecurityTokenServiceType",
            "protocolSupportEnumeration": "http://docs.oasis-open.org/wsfed/federation/200706"},
            nsmap={"fed": fed, "xsi": xsi})
        _key_descriptor(role_descriptor, signing[0], "signing")
    role = _el(root, MD, "IDPSSODescriptor", protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol")
    for issued in signing:
        _key_descriptor(role, issued, "signing")
    for issued in unspecified:
        _key_descriptor(role, issued, None)
    for issued in encryption:
        _key_descriptor(role, issued, "encryption")
    if slo:
        _el(role, MD, "SingleLogoutService", Binding=BINDINGS["HTTP-Redirect"], Location=sso_location + "/logout")
    for name_id_format in name_id_formats:
        _el(role, MD, "NameIDFormat", name_id_format)
    for index in range(extra_name_id_formats):
        _el(role, MD, "NameIDFormat", "urn:example:nameid-format:padding-{0:06d}".format(index))
    for binding in sso_bindings:
        _el(role, MD, "SingleSignOnService", Binding=BINDINGS[binding], Location=sso_location)
    if padding_chars:
        organization = _el(root, MD, "Organization")
        _el(organization, MD, "OrganizationName", "Example", **{"{http://www.w3.org/XML/1998/namespace}lang": "en"})
        _el(organization, MD, "OrganizationDisplayName", "x" * padding_chars,
            **{"{http://www.w3.org/XML/1998/namespace}lang": "en"})
        _el(organization, MD, "OrganizationURL", "https://example.test",
            **{"{http://www.w3.org/XML/1998/namespace}lang": "en"})
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def sp_metadata_identity_center(region: str = "us-east-1", identity_store_id: str = "d-1234567890", *,
                                tenant: str = "ssoins-72235d1f8b6bc3a7", acs_forms=("ipv4", "dual_stack", "legacy"),
                                extra_regions=(), name_id_format: str = EMAIL) -> bytes:
    hosts = {"ipv4": "signin.aws", "dual_stack": "sso.signin.aws", "legacy": "signin.aws.amazon.com"}
    root = etree.Element("{%s}EntityDescriptor" % MD, {
        "entityID": "https://{0}.signin.aws.amazon.com/platform/saml/{1}".format(region, identity_store_id)},
        nsmap={"md": MD})
    role = _el(root, MD, "SPSSODescriptor", AuthnRequestsSigned="false", WantAssertionsSigned="true",
               protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol")
    _el(role, MD, "NameIDFormat", name_id_format)
    index = 0
    for acs_region in (region,) + tuple(extra_regions):
        for form in acs_forms:
            _el(role, MD, "AssertionConsumerService", Binding=BINDINGS["HTTP-POST"],
                Location="https://{0}.{1}/platform/saml/acs/{2}".format(acs_region, hosts[form], tenant),
                index=str(index), isDefault="true" if index == 0 else None)
            index += 1
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def entities_aggregate(documents, *, name: str = "urn:example:federation", valid_until: str | None = None,
                       aggregate_id: str = "_federation") -> bytes:
    root = etree.Element("{%s}EntitiesDescriptor" % MD, {"Name": name, "ID": aggregate_id},
                         nsmap={"md": MD, "ds": DS})
    if valid_until:
        root.set("validUntil", valid_until)
    for document in documents:
        root.append(etree.fromstring(document))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def sign(document: bytes, issued: Issued, *, algorithm: str = "rsa-sha256", digest: str = "sha256") -> bytes:
    """Enveloped signature over the root (Reference #ID), placed first as the metadata schema wants."""
    from signxml import DigestAlgorithm, SignatureMethod, XMLSigner
    from signxml.algorithms import CanonicalizationMethod

    class Signer(XMLSigner):
        def check_deprecated_methods(self):
            """Real IdPs still sign metadata with SHA-1: the tests must be able to make such documents."""

    root = etree.fromstring(document)
    signer = Signer(signature_algorithm=SignatureMethod[algorithm.upper().replace("-", "_")],
                    digest_algorithm=DigestAlgorithm[digest.upper()],
                    c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0)
    signed = signer.sign(root, key=issued.key, cert=[issued.cert], reference_uri="#" + root.get("ID"),
                         id_attribute="ID")
    signature = signed.find("{%s}Signature" % DS)
    signed.insert(0, signature)  # enveloped: its position does not change the digest
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


def tamper(signed: bytes) -> bytes:
    """Change the SSO location after signing: the digest must no longer match."""
    root = etree.fromstring(signed)
    service = root.find(".//{%s}SingleSignOnService" % MD)
    service.set("Location", "https://attacker.example/sso")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def move_signature_into_role(signed: bytes) -> bytes:
    """Relocate the (still intact) signature into the IDPSSODescriptor."""
    root = etree.fromstring(signed)
    signature = root.find("{%s}Signature" % DS)
    root.find("{%s}IDPSSODescriptor" % MD).insert(0, signature)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def wrap_signature(signed: bytes, *, keep_id: bool = False) -> bytes:
    """Classic XSW: the signed original hides in md:Extensions; the root is altered (and re-identified,
    unless keep_id, which leaves two elements with the signed ID)."""
    root = etree.fromstring(signed)
    original = copy.deepcopy(root)
    signature = root.find("{%s}Signature" % DS)
    root.remove(signature)
    if not keep_id:
        root.set("ID", "_attacker")
    root.find(".//{%s}SingleSignOnService" % MD).set("Location", "https://attacker.example/sso")
    extensions = etree.Element("{%s}Extensions" % MD)
    extensions.append(original)
    root.insert(0, extensions)
    root.insert(0, signature)  # the signature refers to the hidden original's ID
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def utc(days: float = 0) -> datetime.datetime:
    return datetime.datetime.now(UTC) + datetime.timedelta(days=days)


def xs_datetime(days: float = 0) -> str:
    return utc(days).strftime("%Y-%m-%dT%H:%M:%SZ")


def xmlsec1_verify(document: bytes, issued: Issued, root_tag: str = "EntityDescriptor") -> bool:
    """What xmlsec1 (the C reference implementation) says about a signed document."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        with open(folder + "/doc.xml", "wb") as handle:
            handle.write(document)
        with open(folder + "/cert.pem", "w") as handle:
            handle.write(issued.pem)
        completed = subprocess.run(["xmlsec1", "--verify", "--pubkey-cert-pem", folder + "/cert.pem",
                                    "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:metadata:" + root_tag,
                                    folder + "/doc.xml"], capture_output=True, check=False)
    return completed.returncode == 0
