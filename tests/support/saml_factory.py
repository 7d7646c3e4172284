# -*- coding: utf-8 -*-
"""Test data made on the spot: CAs, certificates of any validity/key/hash, and (signed) SAML metadata.

Shared by the unit tests, the integration HTTPS server, the demo and the benchmark. Pure Python
(cryptography + lxml, signxml for signing; no Ansible, no relative imports), so it is importable both as
``tests.support.saml_factory`` and as ``saml_factory`` with tests/support on sys.path.

Certificates: ``make_key`` (cached: RSA generation is slow), ``make_certificate`` (any validity, RSA or EC,
SHA-256/384, and SHA-1 or MD5 self-signatures as old IdPs have them: cryptography refuses to sign those,
so the factory signs the TBS bytes itself), ``make_ca`` and ``make_tls_pair`` (127.0.0.1/localhost).

Metadata: ``idp_metadata``, ``sp_metadata_identity_center``, ``entities_aggregate``; ``sign`` (enveloped,
first child of the root, SHA-1 explicitly enabled when asked for, since real IdPs still publish such
metadata); attacks: ``tamper``, ``move_signature_into_role``, ``move_signature_into_extensions``,
``wrap_signature`` (classic XSW), all reachable through ``relocate_signature(signed, how)``.

SAML protocol: ``saml_response`` (a Response with one Assertion, for an ACS), ``sign_saml_response``
(assertion, response or both signed) and ``saml_post_form`` (the HTTP-POST binding's fields).

Cross-check: ``xmlsec1_verify`` (the C reference implementation).  Self-check of the whole module:

    python tests/support/saml_factory.py --selfcheck
"""

from __future__ import annotations

import base64
import copy
import datetime
import functools
import ipaddress
import secrets
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from lxml import etree

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
MDATTR = "urn:oasis:names:tc:SAML:metadata:attribute"
FED = "http://docs.oasis-open.org/wsfed/federation/200706"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XS = "http://www.w3.org/2001/XMLSchema"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
BINDINGS = {
    "HTTP-POST": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
    "HTTP-Redirect": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
    "SOAP": "urn:oasis:names:tc:SAML:2.0:bindings:SOAP",
    "HTTP-Artifact": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact",
}
HASHES = {"sha256": hashes.SHA256, "sha1": hashes.SHA1, "sha384": hashes.SHA384, "sha512": hashes.SHA512,
          "md5": hashes.MD5}
UTC = datetime.timezone.utc
IDENTITY_CENTER_HOSTS = {"ipv4": "signin.aws", "dual_stack": "sso.signin.aws", "legacy": "signin.aws.amazon.com"}
DEFAULT_TENANT = "ssoins-72235d1f8b6bc3a7"


@dataclass
class Issued:
    """A certificate and its private key."""

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
        """The bare base64 body, as in ds:X509Certificate."""
        return base64.b64encode(self.der).decode("ascii")

    @property
    def key_pem(self) -> str:
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()).decode("ascii")

    @property
    def fingerprint_sha256(self) -> str:
        """Uppercase colon-separated hex, the form the modules report."""
        return ":".join("{0:02X}".format(b) for b in self.cert.fingerprint(hashes.SHA256()))


# --------------------------------------------------------------------------------------------- keys

_CURVES = {256: ec.SECP256R1, 384: ec.SECP384R1, 521: ec.SECP521R1, 192: ec.SECP192R1}


def _curve_size(size) -> int:
    """256, "P-256", "secp256r1", "prime256v1" -> 256 (and so on for 384/521/192)."""
    if isinstance(size, int):
        return size
    text = str(size).lower().replace("-", "").replace("_", "")
    for bits in _CURVES:
        if str(bits) in text:
            return bits
    raise ValueError("unknown curve {0!r}".format(size))


def make_key(kind: str = "rsa", size=None, index: int = 0):
    """A private key, cached per (kind, size, index): RSA generation is the slow part of test set-up.

    kind "rsa" (size in bits, default 2048, 1024 allowed) or "ec" (size 256/384 or "P-256"/"P-384",
    default P-256). `index` gives distinct keys of the same kind and size.
    """
    kind = kind.lower()
    if kind == "rsa":
        return _make_key("rsa", int(size or 2048), index)
    if kind in ("ec", "ecdsa"):
        return _make_key("ec", _curve_size(size or 256), index)
    raise ValueError("unknown key kind {0!r}".format(kind))


@functools.lru_cache(maxsize=None)
def _make_key(kind: str, size: int, index: int):
    del index  # only part of the cache key, to get distinct keys of the same kind
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=size)
    return ec.generate_private_key(_CURVES[size]())


# ------------------------------------------------------------------------------------- certificates

def _as_datetime(value) -> datetime.datetime | None:
    if value is None or isinstance(value, datetime.datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, datetime.date):
        return datetime.datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise TypeError("expected a datetime, got {0!r}".format(value))


def make_certificate(key=None, *, subject_cn: str = "idp.example.test", days_valid: int = 365,
                     not_before: datetime.datetime | None = None, not_after: datetime.datetime | None = None,
                     hash_alg: str = "sha256", issuer: Issued | None = None, issuer_cert=None, issuer_key=None,
                     is_ca: bool = False, san_dns: tuple = (), san_ip: tuple = (),
                     serial: int | None = None) -> Issued:
    """A certificate for `key` (default: the cached RSA 2048 key), self-signed unless an issuer is given.

    The issuer is `issuer` (an Issued) or `issuer_cert` (Issued or x509.Certificate) + `issuer_key`.
    `hash_alg` sha256/sha384/sha512, or sha1/md5: cryptography refuses to sign with those, so the factory
    re-signs the TBS bytes itself (RSA: sha1 and md5; EC: sha1 only). Default validity: from yesterday,
    `days_valid` days; `not_before`/`not_after` override.
    """
    key = key or make_key()
    if issuer is None and issuer_cert is not None:
        issuer = issuer_cert if isinstance(issuer_cert, Issued) else Issued(issuer_cert, issuer_key)
    if issuer is not None and issuer_key is not None:
        issuer = Issued(issuer.cert, issuer_key)
    now = datetime.datetime.now(UTC)
    not_before = _as_datetime(not_before) or now - datetime.timedelta(days=1)
    not_after = _as_datetime(not_after) or not_before + datetime.timedelta(days=days_valid)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)])
    builder = (x509.CertificateBuilder()
               .subject_name(name)
               .issuer_name(issuer.cert.subject if issuer else name)
               .public_key(key.public_key())
               .serial_number(serial or x509.random_serial_number())
               .not_valid_before(not_before)
               .not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True))
    if is_ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True)
    if isinstance(san_dns, str):
        san_dns = (san_dns,)
    if isinstance(san_ip, str):
        san_ip = (san_ip,)
    if san_dns or san_ip:
        names = [x509.DNSName(d) for d in san_dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in san_ip]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    signer = issuer.key if issuer else key
    if hash_alg in ("sha1", "md5"):
        return Issued(_legacy_sign(builder.sign(signer, hashes.SHA256()), signer, hash_alg), key)
    return Issued(builder.sign(signer, HASHES[hash_alg]()), key)


# DER AlgorithmIdentifiers of the legacy signature algorithms.
_LEGACY_ALGIDS = {
    ("rsa", "sha1"): bytes.fromhex("300d06092a864886f70d0101050500"),  # sha1WithRSAEncryption
    ("rsa", "md5"): bytes.fromhex("300d06092a864886f70d0101040500"),  # md5WithRSAEncryption
    ("ec", "sha1"): bytes.fromhex("300906072a8648ce3d0401"),  # ecdsa-with-SHA1
}


def _der_tlv(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        header = bytes([length])
    else:
        raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
        header = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + header + content


def _der_items(data: bytes):
    """(tag, whole TLV bytes) of each element in a DER content string."""
    pos = 0
    while pos < len(data):
        tag, first = data[pos], data[pos + 1]
        if first & 0x80:
            count = first & 0x7F
            length, header = int.from_bytes(data[pos + 2:pos + 2 + count], "big"), 2 + count
        else:
            length, header = first, 2
        yield tag, data[pos:pos + header + length]
        pos += header + length


def _legacy_sign(cert: x509.Certificate, signer, hash_alg: str) -> x509.Certificate:
    """Re-sign `cert` with SHA-1 or MD5: swap the AlgorithmIdentifier in the TBS and the outer
    certificate, sign the new TBS with the raw key, re-encode. (OpenSSL 3 still signs with both.)"""
    kind = "ec" if isinstance(signer, ec.EllipticCurvePrivateKey) else "rsa"
    if (kind, hash_alg) not in _LEGACY_ALGIDS:
        raise ValueError("no {0} signature with {1}".format(kind.upper(), hash_alg))
    algid = _LEGACY_ALGIDS[(kind, hash_alg)]
    tbs = cert.tbs_certificate_bytes  # one SEQUENCE: skip its header to walk its elements
    tbs_content = _der_items(tbs[2 if tbs[1] < 0x80 else 2 + (tbs[1] & 0x7F):])
    items = []
    replaced = False
    for tag, item in tbs_content:
        if tag == 0x30 and not replaced:  # the first SEQUENCE is the signature AlgorithmIdentifier
            item, replaced = algid, True
        items.append(item)
    new_tbs = _der_tlv(0x30, b"".join(items))
    digest = HASHES[hash_alg]()
    if kind == "rsa":
        signature = signer.sign(new_tbs, padding.PKCS1v15(), digest)
    else:
        signature = signer.sign(new_tbs, ec.ECDSA(digest))
    der = _der_tlv(0x30, new_tbs + algid + _der_tlv(0x03, b"\x00" + signature))
    return x509.load_der_x509_certificate(der)


def make_ca(cn: str = "idfed test CA", key=None) -> Issued:
    """A self-signed CA (RSA 2048, ten years)."""
    return make_certificate(key or make_key("rsa", 2048, 90), subject_cn=cn, days_valid=3650, is_ca=True)


def make_tls_pair(ca: Issued, hosts=("127.0.0.1", "localhost"), key=None) -> Issued:
    """A server certificate signed by `ca` for `hosts` (IP addresses become IP SANs, names DNS SANs)."""
    ips, dns = [], []
    for host in hosts:
        try:
            ipaddress.ip_address(host)
            ips.append(host)
        except ValueError:
            dns.append(host)
    return make_certificate(key or make_key("rsa", 2048, 91), subject_cn=hosts[0], issuer=ca,
                            san_dns=tuple(dns), san_ip=tuple(ips))


def utc(days: float = 0) -> datetime.datetime:
    return datetime.datetime.now(UTC) + datetime.timedelta(days=days)


def xs_datetime(days: float = 0) -> str:
    return utc(days).strftime("%Y-%m-%dT%H:%M:%SZ")


def _xs(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return _as_datetime(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ----------------------------------------------------------------------------------------- metadata

def _el(parent, ns: str, tag: str, text: str | None = None, **attrs):
    node = etree.SubElement(parent, "{%s}%s" % (ns, tag), {k: v for k, v in attrs.items() if v is not None})
    if text is not None:
        node.text = text
    return node


def _key_descriptor(role, issued, use: str | None) -> None:
    body = issued.b64 if isinstance(issued, Issued) else base64.b64encode(
        issued.public_bytes(serialization.Encoding.DER)).decode("ascii")
    descriptor = _el(role, MD, "KeyDescriptor", use=use)
    data = _el(_el(descriptor, DS, "KeyInfo"), DS, "X509Data")
    _el(data, DS, "X509Certificate", body)


def _serialize(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def idp_metadata(entity_id: str = "https://idp.example.test/saml", *, signing=None, encryption=(),
                 unspecified=(), sso_bindings=("HTTP-POST", "HTTP-Redirect"),
                 sso_location: str = "https://idp.example.test/saml/sso", slo: bool = True,
                 name_id_formats=(EMAIL,), valid_until=None, padding_chars: int = 0,
                 extra_name_id_formats: int = 0, ws_fed_role: bool = False, entity_ref: str = "_idp",
                 signing_certs=None, encryption_certs=None, entity_attributes=False, id: str | None = None,
                 target_size: int | None = None, cache_duration: str | None = None, role_valid_until=None,
                 role_cache_duration: str | None = None, attribute_authority: bool = False) -> bytes:
    """IdP metadata: one md:EntityDescriptor (md/ds namespaces) with an IDPSSODescriptor.

    signing / signing_certs: Issued certificates with KeyDescriptor use="signing" (default one fresh RSA
    2048 certificate); encryption / encryption_certs: use="encryption"; unspecified: no use attribute.
    entity_ref / id: the root ID (what a signature refers to). valid_until: xs:dateTime string or datetime.
    role_valid_until / role_cache_duration: the same on the IDPSSODescriptor, where ZITADEL puts them (and
    none on the EntityDescriptor); attribute_authority: ZITADEL's AttributeAuthorityDescriptor after the IdP
    role (a SOAP AttributeService, the signing keys, the role's validUntil and cacheDuration).
    ws_fed_role: a fed:SecurityTokenServiceType RoleDescriptor before the IdP role, as AD FS/Entra publish.
    entity_attributes: md:Extensions/mdattr:EntityAttributes (True for an entity category, or a dict
    name -> value(s)).
    Size: `padding_chars` adds that many characters of md:Organization content (droppable by
    minimisation); `target_size` pads the same way so the document is exactly that many bytes (ASCII,
    so characters == bytes); `extra_name_id_formats` adds NameIDFormat entries that minimisation keeps.
    """
    if signing_certs is not None:
        signing = list(signing_certs)
    if encryption_certs is not None:
        encryption = list(encryption_certs)
    if id is not None:
        entity_ref = id
    signing = [make_certificate()] if signing is None else signing
    if target_size is not None:
        base = len(_idp_tree(entity_id, signing, encryption, unspecified, sso_bindings, sso_location, slo,
                             name_id_formats, valid_until, 1, extra_name_id_formats, ws_fed_role, entity_ref,
                             entity_attributes, cache_duration, (role_valid_until, role_cache_duration),
                             attribute_authority))
        padding_chars = target_size - base + 1
        if padding_chars < 1:
            raise ValueError("target_size {0} is below the document's own size {1}".format(target_size, base - 1))
    data = _idp_tree(entity_id, signing, encryption, unspecified, sso_bindings, sso_location, slo, name_id_formats,
                     valid_until, padding_chars, extra_name_id_formats, ws_fed_role, entity_ref, entity_attributes,
                     cache_duration, (role_valid_until, role_cache_duration), attribute_authority)
    assert target_size is None or len(data) == target_size, (len(data), target_size)
    return data


def _role_validity(role, validity) -> None:
    """validUntil / cacheDuration on a role descriptor; validity = (valid_until, cache_duration), each optional."""
    valid_until, cache_duration = validity
    if valid_until:
        role.set("validUntil", _xs(valid_until))
    if cache_duration:
        role.set("cacheDuration", cache_duration)


def _idp_tree(entity_id, signing, encryption, unspecified, sso_bindings, sso_location, slo, name_id_formats,
              valid_until, padding_chars, extra_name_id_formats, ws_fed_role, entity_ref, entity_attributes,
              cache_duration, role_validity=(None, None), attribute_authority=False) -> bytes:
    attrs = {"entityID": entity_id}
    if entity_ref:
        attrs["ID"] = entity_ref
    root = etree.Element("{%s}EntityDescriptor" % MD, attrs, nsmap={"md": MD, "ds": DS})
    if valid_until:
        root.set("validUntil", _xs(valid_until))
    if cache_duration:
        root.set("cacheDuration", cache_duration)
    if entity_attributes:
        values = entity_attributes if isinstance(entity_attributes, dict) else {
            "http://macedir.org/entity-category-support": "http://refeds.org/category/research-and-scholarship"}
        extensions = _el(root, MD, "Extensions")
        holder = etree.SubElement(extensions, "{%s}EntityAttributes" % MDATTR, nsmap={"mdattr": MDATTR, "saml": SAML})
        for attr_name, attr_values in values.items():
            attribute = _el(holder, SAML, "Attribute", Name=attr_name,
                            NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri")
            for value in [attr_values] if isinstance(attr_values, str) else attr_values:
                _el(attribute, SAML, "AttributeValue", value)
    if ws_fed_role:
        role_descriptor = etree.SubElement(root, "{%s}RoleDescriptor" % MD, {
            "{%s}type" % XSI: "fed:SecurityTokenServiceType", "protocolSupportEnumeration": FED},
            nsmap={"fed": FED, "xsi": XSI})
        if signing:
            _key_descriptor(role_descriptor, signing[0], "signing")
        endpoint = _el(role_descriptor, FED, "PassiveRequestorEndpoint")
        reference = etree.SubElement(endpoint, "{http://www.w3.org/2005/08/addressing}EndpointReference",
                                     nsmap={"wsa": "http://www.w3.org/2005/08/addressing"})
        _el(reference, "http://www.w3.org/2005/08/addressing", "Address", sso_location.rsplit("/", 1)[0] + "/wsfed")
    role = _el(root, MD, "IDPSSODescriptor", protocolSupportEnumeration=PROTOCOL)
    _role_validity(role, role_validity)
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
        _el(role, MD, "SingleSignOnService", Binding=BINDINGS.get(binding, binding), Location=sso_location)
    if attribute_authority:
        authority = _el(root, MD, "AttributeAuthorityDescriptor", protocolSupportEnumeration=PROTOCOL)
        _role_validity(authority, role_validity)
        for issued in signing:
            _key_descriptor(authority, issued, "signing")
        _el(authority, MD, "AttributeService", Binding=BINDINGS["SOAP"], Location=sso_location + "/attribute")
        _el(authority, MD, "NameIDFormat", PERSISTENT)
    if padding_chars:
        organization = _el(root, MD, "Organization")
        _el(organization, MD, "OrganizationName", "Example", **{XML_LANG: "en"})
        _el(organization, MD, "OrganizationDisplayName", "x" * padding_chars, **{XML_LANG: "en"})
        _el(organization, MD, "OrganizationURL", "https://example.test", **{XML_LANG: "en"})
    return _serialize(root)


def sp_metadata_identity_center(region: str = "us-east-1", identity_store_id: str = "d-1234567890", *,
                                tenant: str = DEFAULT_TENANT, acs_forms=("ipv4", "dual_stack", "legacy"),
                                extra_regions=(), name_id_format: str = EMAIL, role_valid_until=None) -> bytes:
    """IAM Identity Center SP metadata as the console hands it out (../shared/notes/aws-identity-center.md).

    entityID https://<region>.signin.aws.amazon.com/platform/saml/<identity store id>; one HTTP-POST ACS per
    (region, form) for the home region then each of `extra_regions` (multi-Region instance); forms "ipv4"
    (<region>.signin.aws), "dual_stack" (<region>.sso.signin.aws), "legacy" (<region>.signin.aws.amazon.com).
    AuthnRequestsSigned="false", WantAssertionsSigned="true", NameIDFormat emailAddress, no KeyDescriptor.
    role_valid_until: a validUntil on the SPSSODescriptor (xs:dateTime string or datetime).
    """
    root = etree.Element("{%s}EntityDescriptor" % MD, {
        "entityID": "https://{0}.signin.aws.amazon.com/platform/saml/{1}".format(region, identity_store_id)},
        nsmap={"md": MD})
    role = _el(root, MD, "SPSSODescriptor", AuthnRequestsSigned="false", WantAssertionsSigned="true",
               protocolSupportEnumeration=PROTOCOL)
    _role_validity(role, (role_valid_until, None))
    _el(role, MD, "NameIDFormat", name_id_format)
    index = 0
    for acs_region in (region,) + tuple(extra_regions):
        for form in acs_forms:
            _el(role, MD, "AssertionConsumerService", Binding=BINDINGS["HTTP-POST"],
                Location="https://{0}.{1}/platform/saml/acs/{2}".format(acs_region, IDENTITY_CENTER_HOSTS[form], tenant),
                index=str(index), isDefault="true" if index == 0 else None)
            index += 1
    return _serialize(root)


def entities_aggregate(documents, *, name: str | None = "urn:example:federation", valid_until=None,
                       aggregate_id: str = "_federation") -> bytes:
    """md:EntitiesDescriptor wrapping the given EntityDescriptor documents (each keeps its own ID, and its
    own signature if it has one)."""
    attrs = {}
    if name:
        attrs["Name"] = name
    if aggregate_id:
        attrs["ID"] = aggregate_id
    root = etree.Element("{%s}EntitiesDescriptor" % MD, attrs, nsmap={"md": MD, "ds": DS})
    if valid_until:
        root.set("validUntil", _xs(valid_until))
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    for document in documents:
        root.append(etree.fromstring(document, parser))
    return _serialize(root)


# ---------------------------------------------------------------------------------------- signatures

def _signing_material(key, cert):
    if isinstance(key, Issued):
        return key.key, key.cert if cert is None else _as_cert(cert)
    if cert is None:
        raise TypeError("sign() needs a certificate: sign(document, issued) or sign(document, key, cert)")
    return key, _as_cert(cert)


def _as_cert(cert) -> x509.Certificate:
    if isinstance(cert, Issued):
        return cert.cert
    if isinstance(cert, x509.Certificate):
        return cert
    if isinstance(cert, bytes):
        cert = cert.decode("ascii")
    return x509.load_pem_x509_certificate(cert.encode("ascii"))


def sign(document: bytes, key, cert=None, *, algorithm: str | None = None, digest: str | None = None,
         reference_uri: str | None = None, include_certificate: bool = True) -> bytes:
    """Enveloped signature over the root (Reference "#<root ID>" unless `reference_uri`), placed as the
    FIRST child of the root, where the metadata schema wants it (before md:Extensions and the roles).

    sign(document, issued) or sign(document, key, cert). algorithm "rsa-sha256" (default for RSA keys),
    "rsa-sha1", "rsa-sha384", "ecdsa-sha256" (default for EC keys), ...; digest "sha256" (default) or
    "sha1". SHA-1 is refused by signxml's default configuration and explicitly allowed here. A root
    without an ID gets ID="_signed". Exclusive c14n, KeyInfo/X509Data with the certificate.
    """
    from signxml import DigestAlgorithm, SignatureMethod, XMLSigner
    from signxml.algorithms import CanonicalizationMethod

    class Signer(XMLSigner):
        def check_deprecated_methods(self):
            """Real IdPs still sign metadata with SHA-1: the tests must be able to make such documents."""

    private_key, certificate = _signing_material(key, cert)
    if algorithm is None:
        algorithm = "ecdsa-sha256" if isinstance(private_key, ec.EllipticCurvePrivateKey) else "rsa-sha256"
    if digest is None:
        digest = "sha1" if algorithm.endswith("sha1") else "sha256"
    root = etree.fromstring(document, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
    if reference_uri is None:
        if not root.get("ID"):
            root.set("ID", "_signed")
        reference_uri = "#" + root.get("ID")
    signer = Signer(signature_algorithm=SignatureMethod[algorithm.upper().replace("-", "_")],
                    digest_algorithm=DigestAlgorithm[digest.upper().replace("-", "_")],
                    c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0)
    signed = signer.sign(root, key=private_key, cert=[certificate] if include_certificate else None,
                         reference_uri=reference_uri, id_attribute="ID")
    signature = signed.find("{%s}Signature" % DS)
    signed.insert(0, signature)  # enveloped: its position does not change the digest
    return _serialize(signed)


def _parse(document: bytes):
    return etree.fromstring(document, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))


def tamper(signed: bytes) -> bytes:
    """Change the SSO location (or ACS location, or entityID) after signing: the digest no longer matches."""
    root = _parse(signed)
    service = root.find(".//{%s}SingleSignOnService" % MD)
    if service is None:
        service = root.find(".//{%s}AssertionConsumerService" % MD)
    if service is not None:
        service.set("Location", "https://attacker.example/sso")
    else:
        entity = root if root.get("entityID") else root.find(".//{%s}EntityDescriptor" % MD)
        entity.set("entityID", "https://attacker.example/idp")
    return _serialize(root)


def move_signature_into_role(signed: bytes) -> bytes:
    """Relocate the (still intact) root signature into the first IDPSSODescriptor/SPSSODescriptor.
    The enveloped transform still removes it from the digest, so xmlsec1 verifies it: only a validator
    that checks *where* the signature sits refuses it."""
    root = _parse(signed)
    signature = root.find("{%s}Signature" % DS)
    role = root.find(".//{%s}IDPSSODescriptor" % MD)
    if role is None:
        role = root.find(".//{%s}SPSSODescriptor" % MD)
    role.insert(0, signature)
    return _serialize(root)


def move_signature_into_extensions(signed: bytes) -> bytes:
    """Relocate the (still intact) root signature into an md:Extensions element of the root (created if
    needed). Cryptographically still valid (xmlsec1 verifies it); its position is wrong."""
    root = _parse(signed)
    signature = root.find("{%s}Signature" % DS)
    root.remove(signature)
    extensions = root.find("{%s}Extensions" % MD)
    if extensions is None:
        extensions = etree.Element("{%s}Extensions" % MD)
        root.insert(0, extensions)
    extensions.append(signature)
    return _serialize(root)


def wrap_signature(signed: bytes, *, keep_id: bool = False) -> bytes:
    """Classic XSW: the signed original hides in md:Extensions; the root is altered (SSO location) and
    re-identified (ID="_attacker"), unless keep_id, which leaves two elements with the signed ID.
    With a new ID, xmlsec1 verifies the signature (its reference resolves to the hidden, intact copy): the
    validator must notice that the signature does not cover the root it reads."""
    root = _parse(signed)
    signature = root.find("{%s}Signature" % DS)
    root.remove(signature)
    original = copy.deepcopy(root)  # exactly what was signed (the enveloped signature is not part of it)
    if not keep_id:
        root.set("ID", "_attacker")
    service = root.find(".//{%s}SingleSignOnService" % MD)
    if service is None:
        service = root.find(".//{%s}AssertionConsumerService" % MD)
    if service is not None:
        service.set("Location", "https://attacker.example/sso")
    extensions = etree.Element("{%s}Extensions" % MD)
    extensions.append(original)
    root.insert(0, extensions)
    root.insert(0, signature)  # the signature refers to the hidden original's ID
    return _serialize(root)


RELOCATIONS = {
    "into_role": move_signature_into_role,
    "into_extensions": move_signature_into_extensions,
    "xsw": wrap_signature,
    "xsw_same_id": functools.partial(wrap_signature, keep_id=True),
}


def relocate_signature(signed: bytes, how: str = "into_role") -> bytes:
    """Signature relocation / wrapping attacks by name: "into_role", "into_extensions", "xsw" (signed
    original hidden in md:Extensions, root altered with a new ID), "xsw_same_id" (same, duplicate ID)."""
    return RELOCATIONS[how](signed)


# ------------------------------------------------------------------------------ SAML responses (protocol)

SAMLP = PROTOCOL
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"


def saml_response(*, issuer: str, destination: str | None, audience, name_id: str, name_id_format: str = EMAIL,
                  recipient: str | None = None, in_response_to: str | None = None, attributes=None,
                  not_before=None, not_on_or_after=None, confirmation_not_on_or_after=None,
                  session_not_on_or_after=None, issue_instant=None, response_id: str | None = None,
                  assertion_id: str | None = None, status: str = SUCCESS, response_issuer: bool = True) -> bytes:
    """An unsigned samlp:Response with one saml:Assertion, as an IdP posts it to an ACS (sign it with
    sign_saml_response). Times are datetimes or xs:dateTime strings; defaults: issued now, valid from 5
    minutes ago to 5 minutes ahead. audience: one URI or several. recipient defaults to destination.
    attributes: name -> value or list of values (AttributeValue typed xs:string, as most IdPs write them)."""
    now = utc()
    minutes = datetime.timedelta(minutes=5)
    response_id = response_id or "_r" + secrets.token_hex(16)
    assertion_id = assertion_id or "_a" + secrets.token_hex(16)
    instant = _xs(issue_instant or now)
    root = etree.Element("{%s}Response" % SAMLP, {"ID": response_id, "Version": "2.0", "IssueInstant": instant},
                         nsmap={"samlp": SAMLP, "saml": SAML})
    if destination:
        root.set("Destination", destination)
    if in_response_to:
        root.set("InResponseTo", in_response_to)
    if response_issuer:
        _el(root, SAML, "Issuer", issuer)
    _el(_el(root, SAMLP, "Status"), SAMLP, "StatusCode", Value=status)
    assertion = _el(root, SAML, "Assertion", ID=assertion_id, Version="2.0", IssueInstant=instant)
    _el(assertion, SAML, "Issuer", issuer)
    subject = _el(assertion, SAML, "Subject")
    _el(subject, SAML, "NameID", name_id, Format=name_id_format)
    confirmation = _el(subject, SAML, "SubjectConfirmation", Method=BEARER)
    _el(confirmation, SAML, "SubjectConfirmationData", Recipient=recipient or destination,
        NotOnOrAfter=_xs(confirmation_not_on_or_after or not_on_or_after or now + minutes),
        InResponseTo=in_response_to)
    conditions = _el(assertion, SAML, "Conditions", NotBefore=_xs(not_before or now - minutes),
                     NotOnOrAfter=_xs(not_on_or_after or now + minutes))
    restriction = _el(conditions, SAML, "AudienceRestriction")
    for value in [audience] if isinstance(audience, str) else audience:
        _el(restriction, SAML, "Audience", value)
    _el(_el(_el(assertion, SAML, "AuthnStatement", AuthnInstant=instant, SessionIndex=assertion_id,
                SessionNotOnOrAfter=_xs(session_not_on_or_after)), SAML, "AuthnContext"),
        SAML, "AuthnContextClassRef", "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport")
    if attributes:
        statement = _el(assertion, SAML, "AttributeStatement")
        for attr_name, values in attributes.items():
            attribute = _el(statement, SAML, "Attribute", Name=attr_name,
                            NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri")
            for value in [values] if isinstance(values, str) else values:
                node = etree.SubElement(attribute, "{%s}AttributeValue" % SAML, nsmap={"xs": XS, "xsi": XSI})
                node.set("{%s}type" % XSI, "xs:string")
                node.text = str(value)
    return _serialize(root)


def _sign_element(element, key, cert, algorithm, digest):
    """Sign one element standalone (exclusive c14n makes the digest independent of its context) and put
    the enveloped signature right after its saml:Issuer, where the SAML schema wants it."""
    signed = _parse(sign(etree.tostring(element), key, cert, algorithm=algorithm, digest=digest))
    signature = signed.find("{%s}Signature" % DS)
    issuer = signed.find("{%s}Issuer" % SAML)
    if issuer is not None:
        issuer.addnext(signature)
    return signed


def sign_saml_response(document: bytes, key, cert=None, *, what: str = "assertion", algorithm: str | None = None,
                       digest: str | None = None) -> bytes:
    """Sign a samlp:Response: what = "assertion" (the assertion alone, as Identity Center wants it),
    "response" (the Response alone) or "both" (assertion first, then the Response around it). Key and
    certificate as for sign(): sign_saml_response(doc, issued) or (doc, key, cert)."""
    if what not in ("assertion", "response", "both"):
        raise ValueError("what is assertion, response or both, not {0!r}".format(what))
    root = _parse(document)
    if what in ("assertion", "both"):
        assertion = root.find("{%s}Assertion" % SAML)
        root.replace(assertion, _sign_element(assertion, key, cert, algorithm, digest))
    if what in ("response", "both"):
        root = _sign_element(root, key, cert, algorithm, digest)
    return _serialize(root)


def saml_post_form(document: bytes, relay_state: str | None = None) -> dict:
    """The HTTP-POST binding's form fields for a Response (what the browser posts to the ACS)."""
    form = {"SAMLResponse": base64.b64encode(document).decode("ascii")}
    if relay_state is not None:
        form["RelayState"] = relay_state
    return form


# ------------------------------------------------------------------------------------- cross-checks

def xmlsec1_verify(document: bytes, issued, root_tag: str | None = None, *, detail: bool = False):
    """What xmlsec1 (the C reference implementation) says about a signed document: True when it verifies
    with `issued` (Issued, x509 certificate or PEM) as the key. ID attributes of both EntityDescriptor and
    EntitiesDescriptor are registered (`root_tag` is accepted for compatibility). With detail=True returns
    (ok, xmlsec1's stderr)."""
    import os
    import subprocess
    import tempfile

    del root_tag
    pem = issued.pem if isinstance(issued, Issued) else (
        _as_cert(issued).public_bytes(serialization.Encoding.PEM).decode("ascii"))
    with tempfile.TemporaryDirectory() as folder:
        with open(os.path.join(folder, "doc.xml"), "wb") as handle:
            handle.write(document)
        with open(os.path.join(folder, "cert.pem"), "w", encoding="ascii") as handle:
            handle.write(pem)
        completed = subprocess.run(
            ["xmlsec1", "--verify", "--pubkey-cert-pem", os.path.join(folder, "cert.pem"),
             "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor",
             "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:metadata:EntitiesDescriptor",
             os.path.join(folder, "doc.xml")], capture_output=True, check=False)
    ok = completed.returncode == 0
    return (ok, completed.stderr.decode("utf-8", "replace")) if detail else ok


def pysaml2_load(document: bytes):
    """pysaml2's view of a document (InMemoryMetaData, validUntil not checked); raises when it cannot."""
    from saml2 import attribute_converter, mdstore

    source = mdstore.InMemoryMetaData(attribute_converter.ac_factory(), document.decode("utf-8"),
                                      check_validity=False)
    source.load()
    return source


def python3_saml_parse(document: bytes, entity_id: str | None = None) -> dict:
    """python3-saml's IdP metadata parser (IdP documents only)."""
    from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

    return OneLogin_Saml2_IdPMetadataParser.parse(document.decode("utf-8"), entity_id=entity_id)


def _selfcheck() -> int:  # pragma: no cover - run by hand: python tests/support/saml_factory.py --selfcheck
    import shutil
    import time

    failures = []

    def check(label: str, ok: bool, note: str = "") -> None:
        print("{0:4} {1}{2}".format("ok" if ok else "FAIL", label, " - " + note if note else ""))
        if not ok:
            failures.append(label)

    started = time.monotonic()
    # certificates
    rsa2048 = make_certificate(subject_cn="selfcheck rsa")
    check("rsa 2048 sha256 certificate", rsa2048.cert.public_key().key_size == 2048
          and rsa2048.cert.signature_hash_algorithm.name == "sha256"
          and len(rsa2048.fingerprint_sha256) == 95 and rsa2048.fingerprint_sha256 == rsa2048.fingerprint_sha256.upper())
    check("pem/der/b64 agree", x509.load_pem_x509_certificate(rsa2048.pem.encode()) == rsa2048.cert
          and base64.b64decode(rsa2048.b64) == rsa2048.der)
    check("rsa 1024 key", make_certificate(make_key("rsa", 1024)).cert.public_key().key_size == 1024)
    check("make_key cache", make_key("rsa", 2048) is make_key("rsa", 2048) and make_key("ec", "P-256") is make_key("ec", 256))
    for curve in ("P-256", "P-384"):
        issued = make_certificate(make_key("ec", curve))
        check("ec {0} certificate".format(curve), issued.cert.public_key().curve.key_size == _curve_size(curve))
    for hash_alg in ("sha1", "md5"):
        try:
            issued = make_certificate(hash_alg=hash_alg, not_before=utc(-10), days_valid=30)
            issued.cert.public_key().verify(issued.cert.signature, issued.cert.tbs_certificate_bytes,
                                            padding.PKCS1v15(), HASHES[hash_alg]())
            check("{0} self-signature (verifies, validity kept)".format(hash_alg),
                  issued.cert.signature_hash_algorithm.name == hash_alg
                  and abs((issued.cert.not_valid_after_utc - utc(20)).total_seconds()) < 120)
        except Exception as error:  # pylint: disable=broad-except
            check("{0} self-signature".format(hash_alg), False, "refused: {0}".format(error))
    ec_sha1 = make_certificate(make_key("ec", 256), hash_alg="sha1")
    check("ecdsa-with-SHA1 certificate", ec_sha1.cert.signature_hash_algorithm.name == "sha1")
    expired = make_certificate(not_before=utc(-400), days_valid=365)
    check("expired certificate", expired.cert.not_valid_after_utc < utc())
    future = make_certificate(not_before=utc(10))
    check("not-yet-valid certificate", future.cert.not_valid_before_utc > utc())
    ca = make_ca()
    tls = make_tls_pair(ca)
    sans = tls.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    tls.cert.verify_directly_issued_by(ca.cert)
    check("CA + TLS pair (IP SAN 127.0.0.1, DNS localhost)",
          sans.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
          and sans.get_values_for_type(x509.DNSName) == ["localhost"])
    leaf = make_certificate(make_key("rsa", 2048, 7), issuer_cert=ca.cert, issuer_key=ca.key, subject_cn="leaf")
    leaf.cert.verify_directly_issued_by(ca.cert)
    check("issuer_cert/issuer_key", leaf.cert.issuer == ca.cert.subject)

    # metadata
    signer = make_certificate(make_key("rsa", 2048, 5), subject_cn="metadata signer")
    ec_signer = make_certificate(make_key("ec", 256, 1), subject_cn="ec metadata signer")
    enc = make_certificate(make_key("rsa", 2048, 4), subject_cn="encryption")
    idp = idp_metadata(signing_certs=[signer, rsa2048], encryption_certs=[enc], ws_fed_role=True,
                       entity_attributes=True, valid_until=utc(30))
    big = idp_metadata(signing_certs=[signer], target_size=80000)
    check("target_size=80000", len(big) == 80000 and len(big.decode()) == 80000)
    sp = sp_metadata_identity_center("eu-west-1", "d-93670c4a5b", extra_regions=("eu-central-1",))
    check("Identity Center SP: 6 ACS", sp.count(b"AssertionConsumerService ") == 6)
    aggregate = entities_aggregate([idp_metadata("https://idp{0}.example.test/saml".format(i), signing_certs=[signer],
                                                 id="_e{0}".format(i)) for i in range(3)] + [sp])
    documents = {"idp": idp, "idp 80000": big, "sp": sp, "aggregate": aggregate}

    have_xmlsec1 = shutil.which("xmlsec1") is not None
    signed = {
        "idp rsa-sha256": (sign(idp, signer), signer),
        "idp rsa-sha1": (sign(idp, signer.key, signer.cert, algorithm="rsa-sha1", digest="sha1"), signer),
        "idp ecdsa-sha256": (sign(idp, ec_signer), ec_signer),
        "idp 80000 rsa-sha256": (sign(big, signer), signer),
        "sp rsa-sha256": (sign(sp, signer), signer),
        "aggregate rsa-sha256": (sign(aggregate, signer), signer),
    }
    for label, (document, issued) in signed.items():
        root = _parse(document)
        check("signed {0}: Signature is first child".format(label), root[0].tag == "{%s}Signature" % DS)
        if have_xmlsec1:
            ok, err = xmlsec1_verify(document, issued, detail=True)
            check("xmlsec1 verifies {0}".format(label), ok, err.strip().splitlines()[-1] if not ok and err else "")
        documents["signed " + label] = document
    if have_xmlsec1:
        base, issued = signed["idp rsa-sha256"]
        check("xmlsec1 refuses tampered", not xmlsec1_verify(tamper(base), issued))
        check("xmlsec1 refuses tampered aggregate", not xmlsec1_verify(tamper(signed["aggregate rsa-sha256"][0]), signer))
        check("xmlsec1 refuses wrong key", not xmlsec1_verify(base, rsa2048))
        for how in RELOCATIONS:
            attack = relocate_signature(base, how)
            ok = xmlsec1_verify(attack, issued)
            print("info xmlsec1 on relocation {0!r}: {1} (crypto only; position/coverage is the validator's job)".format(
                how, "verifies" if ok else "fails"))
    else:
        print("skip xmlsec1 is not installed")

    # real SAML libraries read the outputs
    for label, document in documents.items():
        try:
            source = pysaml2_load(document)
            check("pysaml2 loads {0}".format(label), len(list(source.keys())) >= 1)
        except ImportError:
            print("skip pysaml2 is not installed")
            break
        except Exception as error:  # pylint: disable=broad-except
            check("pysaml2 loads {0}".format(label), False, repr(error))
    for label, document in documents.items():
        if label.startswith("sp") or "sp " in label:
            continue
        entity_id = "https://idp1.example.test/saml" if "aggregate" in label else None
        try:
            parsed = python3_saml_parse(document, entity_id)
            check("python3-saml parses {0}".format(label), bool(parsed.get("idp", {}).get("entityId")))
        except ImportError:
            print("skip python3-saml is not installed")
            break
        except Exception as error:  # pylint: disable=broad-except
            check("python3-saml parses {0}".format(label), False, repr(error))
    print("{0} failure(s), {1:.1f}s".format(len(failures), time.monotonic() - started))
    return 1 if failures else 0


if __name__ == "__main__":  # pragma: no cover
    import sys

    if "--selfcheck" in sys.argv[1:]:
        sys.exit(_selfcheck())
    print(__doc__)
