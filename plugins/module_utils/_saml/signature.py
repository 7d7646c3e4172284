# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Metadata signature checks: placement (anti-wrapping), integrity and trust.

This module decides *which* signature may count: only an enveloped signature that is a direct
child of the element it signs, whose single Reference points at that element's unique ID (or at
the whole document), where that element is the document root or the selected EntityDescriptor.
Anything else is a wrapping attempt.

Verification: the profile nearly every IdP uses (a signature on the document root, exclusive
canonicalisation, enveloped-signature + exclusive-c14n transforms, RSA or ECDSA) is checked on
the tree already parsed, with lxml's canonicaliser and cryptography; signxml re-parses the
document four times, which made a 2,000-entity federation file slower to check than xmlsec1.
Everything outside that profile, and every signature the fast path rejects, goes to signxml, so
a document is never refused on the fast path's word alone. The unit tests run both on every
signed document and require them to agree.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import warnings
from dataclasses import dataclass, field

from .certificate import CertificateReader, fingerprint
from .constants import (DIGEST_ALGORITHMS, DS, DS_SIGNATURE, ENVELOPED_SIGNATURE, EXC_C14N, SIGNATURE_ALGORITHMS,
                        TRANSFORMS)
from .findings import ERROR, WARNING, Finding, SamlError, finding
from .references import resolve_references
from .xmlparse import etree
from .. import _deps

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
except ImportError:  # pragma: no cover - the module reports it through _deps.require()
    hashes = None

_NS = {"ds": DS, "ec": EXC_C14N}
# The fast path's profile: the RSA and ECDSA signature methods with the SHA-1/SHA-2 digests.
_FAST_SIGNATURES = {uri: (kind, hash_name) for uri, (_short, kind, hash_name) in SIGNATURE_ALGORITHMS.items()
                    if kind in ("RSA", "EC")}
_SHORT_NAMES = {uri: short for uri, (short, *_rest) in list(SIGNATURE_ALGORITHMS.items()) + list(DIGEST_ALGORITHMS.items())}


def _signxml():
    """signxml, imported on first use: it costs about 110 ms of start-up and most documents never need it
    (the fast path decides them). Raises _deps.MissingLibrary when it is absent."""
    _deps.load("signxml")
    import signxml  # pylint: disable=import-outside-toplevel
    from signxml.exceptions import SignXMLException  # pylint: disable=import-outside-toplevel
    from signxml.verifier import SignatureConfiguration  # pylint: disable=import-outside-toplevel
    return signxml, SignXMLException, SignatureConfiguration


@dataclass
class SignatureReport:
    present: bool = False
    valid: bool = False
    trusted: bool = False
    algorithm: str | None = None
    digest_algorithm: str | None = None
    signer_fingerprint_sha256: str | None = None
    signed_element: str | None = None
    findings: list[Finding] = field(default_factory=list)

    def to_facts(self) -> dict:
        return {
            "present": self.present,
            "valid": self.valid,
            "trusted": self.trusted,
            "algorithm": self.algorithm,
            "digest_algorithm": self.digest_algorithm,
            "signer_fingerprint_sha256": self.signer_fingerprint_sha256,
            "signed_element": self.signed_element,
        }


@dataclass
class TrustAnchors:
    certificates: list = field(default_factory=list)  # cryptography x509.Certificate
    fingerprints: set[str] = field(default_factory=set)

    @property
    def given(self) -> bool:
        return bool(self.certificates or self.fingerprints)

    def trusts(self, fingerprint_sha256: str) -> bool:
        return fingerprint_sha256 in self.fingerprints or any(
            fingerprint(cert) == fingerprint_sha256 for cert in self.certificates)


def trust_anchors(items) -> TrustAnchors:
    """trusted_certificates: certificates, SHA-256 fingerprints or metadata documents (raises SamlError)."""
    certificates, fingerprints = resolve_references(items, "trusted_certificates")
    return TrustAnchors(certificates, fingerprints)


# Compiled once: on a federation file this scan of every ID attribute is the check against ID clashes.
_ids_equal_to = etree.XPath("//@ID[. = $value]") if etree is not None else None


def _bad(message: str) -> Finding:
    return finding("signature_invalid", message)


def _placement_problem(signature, allowed_parents) -> str | None:
    """Why this signature cannot count, or None when its placement and reference are sound."""
    parent = signature.getparent()
    if parent not in allowed_parents:
        return ("A ds:Signature sits inside <{0}>, not directly under the signed metadata root: a relocated "
                "signature (XML signature wrapping) is never trusted.".format(etree.QName(parent).localname))
    references = signature.findall("ds:SignedInfo/ds:Reference", _NS)
    if len(references) != 1:
        return "The signature has {0} references; SAML metadata signatures have exactly one.".format(len(references))
    uri = references[0].get("URI")
    element_id = parent.get("ID")
    if uri not in ("", "#" + (element_id or "\x00")):
        return ("The signature references {0!r} but sits in the element with ID {1!r}: the signed content is not "
                "the metadata it envelops (signature wrapping).".format(uri, element_id))
    if uri and len(_ids_equal_to(parent.getroottree().getroot(), value=element_id)) != 1:
        return "The ID {0!r} appears more than once in the document (signature wrapping).".format(element_id)
    for transform in references[0].findall("ds:Transforms/ds:Transform", _NS):
        if transform.get("Algorithm") not in TRANSFORMS:
            return "The signature uses the transform {0!r}, which SAML metadata signatures never need.".format(
                transform.get("Algorithm"))
    return None


def _embedded_certificate(signature, reader: CertificateReader):
    node = signature.find("ds:KeyInfo/ds:X509Data/ds:X509Certificate", _NS)
    if node is None or not (node.text or "").strip():
        return None
    return reader.load(node.text, names=False)  # only its key and fingerprint are used


def _exclusive_c14n(element, method_node) -> bytes:
    prefixes = method_node.find("ec:InclusiveNamespaces", _NS)
    prefix_list = (prefixes.get("PrefixList") or "").split() if prefixes is not None else None
    return etree.tostring(element, method="c14n", exclusive=True, with_comments=False,
                          inclusive_ns_prefixes=prefix_list or None)


def _b64(node) -> bytes:
    return base64.b64decode("".join((node.text or "").split()), validate=True)


def _without_signature(signed_element, signature, transform) -> bytes | None:
    """The enveloped-signature + exclusive-c14n transforms, without touching the tree.

    Exclusive c14n renders an element from its own namespace use, so the signature's bytes inside
    the whole element's canonical form are its canonical form on its own: cut them out. When they
    are not there exactly once (a rendering that depends on the context), or the SignatureValue
    text appears anywhere else (a copied signature), return None and let signxml decide. Taking
    the signature out of the tree instead re-homes namespaces, and lxml's canonicaliser has
    crashed on such a tree; a second parse to avoid that cost as much as the whole check.
    """
    whole = _exclusive_c14n(signed_element, transform)
    alone = _exclusive_c14n(signature, transform)
    value_text = (signature.findtext("ds:SignatureValue", namespaces=_NS) or "").strip().encode("ascii", "replace")
    if not value_text or whole.count(alone) != 1 or whole.count(value_text) != 1:
        return None
    start = whole.index(alone)
    return whole[:start] + whole[start + len(alone):]


def verify_fast(signature, cert) -> bool | None:
    """True/False for an enveloped root signature in the common SAML profile; None when outside it (use signxml).

    Only for a signature that _placement_problem accepted (a direct child of the root, one
    Reference, to the root's ID or ""). The tree is read, never changed.
    """
    signed_element = signature.getparent()
    signed_info = signature.find("ds:SignedInfo", _NS)
    value = signature.find("ds:SignatureValue", _NS)
    if (signed_element is None or signed_element.getparent() is not None or signed_info is None or value is None
            or len(signature.findall("ds:SignedInfo", _NS)) != 1):
        return None
    c14n_method = signed_info.find("ds:CanonicalizationMethod", _NS)
    method = signed_info.find("ds:SignatureMethod", _NS)
    reference = signed_info.find("ds:Reference", _NS)
    transforms = reference.findall("ds:Transforms/ds:Transform", _NS) if reference is not None else []
    digest_method = reference.find("ds:DigestMethod", _NS) if reference is not None else None
    digest_value = reference.find("ds:DigestValue", _NS) if reference is not None else None
    if (c14n_method is None or c14n_method.get("Algorithm") != EXC_C14N or method is None
            or method.get("Algorithm") not in _FAST_SIGNATURES or digest_method is None or digest_value is None
            or digest_method.get("Algorithm") not in DIGEST_ALGORITHMS
            or [t.get("Algorithm") for t in transforms] != [ENVELOPED_SIGNATURE, EXC_C14N]):
        return None
    try:
        expected_digest, raw_signature = _b64(digest_value), _b64(value)
    except (binascii.Error, ValueError):
        return False
    data = _exclusive_c14n(signed_info, c14n_method)
    payload = _without_signature(signed_element, signature, transforms[1])
    if payload is None:
        return None
    digest = hashes.Hash(getattr(hashes, DIGEST_ALGORITHMS[digest_method.get("Algorithm")][1])())
    digest.update(payload)
    if not hmac.compare_digest(digest.finalize(), expected_digest):
        return False
    key_kind, hash_name = _FAST_SIGNATURES[method.get("Algorithm")]
    key = cert.public_key()
    try:
        if key_kind == "RSA" and isinstance(key, rsa.RSAPublicKey):
            key.verify(raw_signature, data, padding.PKCS1v15(), getattr(hashes, hash_name)())
        elif key_kind == "EC" and isinstance(key, ec.EllipticCurvePublicKey):
            half = len(raw_signature) // 2
            der = encode_dss_signature(int.from_bytes(raw_signature[:half], "big"),
                                       int.from_bytes(raw_signature[half:], "big"))
            key.verify(der, data, ec.ECDSA(getattr(hashes, hash_name)()))
        else:
            return False
    except InvalidSignature:
        return False
    return True


def _verify(document: bytes, cert) -> None:
    """Integrity with one certificate (signxml); raises on any failure. Validity dates are judged elsewhere."""
    signxml, _error, signature_configuration = _signxml()
    midpoint = cert.not_valid_before_utc + (cert.not_valid_after_utc - cert.not_valid_before_utc) / 2
    config = signature_configuration(
        location="./",
        expect_references=1,
        signature_methods=frozenset(signxml.SignatureMethod),
        digest_algorithms=frozenset(signxml.DigestAlgorithm),
        verification_time=midpoint,
    )
    with warnings.catch_warnings():  # signxml prints the serial, which may be negative (see certificate.py)
        warnings.simplefilter("ignore")
        signxml.XMLVerifier().verify(document, x509_cert=cert, id_attribute="ID", expect_config=config)


def _failure_reason(exc: Exception) -> str:
    """Why signxml refused, in words. A bad signature value reaches signxml as cryptography's InvalidSignature,
    which has no text, so signxml's own message ends in an empty 'Signature verification failed: '."""
    from signxml.exceptions import InvalidDigest  # pylint: disable=import-outside-toplevel  # loaded by _verify

    if isinstance(exc, InvalidDigest):
        return "the signed content does not match its digest"
    if isinstance(exc.__context__, InvalidSignature) and not str(exc.__context__):
        return "the signature value does not match the signed content"
    return str(exc).strip().rstrip(":").strip() or type(exc).__name__


def check_signature(root, entity, *, document: bytes, require: bool, anchors: TrustAnchors,
                    reader: CertificateReader | None = None) -> SignatureReport:
    """Judge the signature(s) that cover `entity` (the selected EntityDescriptor) in the tree `root`.
    `reader` shares loaded certificates with the rest of the document's analysis."""
    report = SignatureReport()
    relied_on = require or anchors.given
    allowed_parents = [root] if entity is root else [root, entity]
    candidates = []
    for signature in entity.iter(DS_SIGNATURE) if entity is not root else root.iter(DS_SIGNATURE):
        problem = _placement_problem(signature, allowed_parents)
        if problem:
            report.present = True
            report.findings.append(_bad(problem))
        else:
            candidates.append(signature)
    if entity is not root:  # a signature on the aggregate covers the entity too
        candidates.extend(sig for sig in root.findall(DS_SIGNATURE) if sig not in candidates)
    if not candidates:
        if require and not report.present:
            report.findings.append(finding("signature_missing", "The metadata is not signed but require_signature "
                                                                "is true; get signed metadata from the IdP or "
                                                                "set require_signature: false."))
        elif require:
            report.findings.append(finding("signature_missing", "No correctly placed signature covers the entity."))
        return report
    if report.findings:  # a wrapped signature next to a good one: never accept the document
        return report

    # Prefer the signature closest to the entity (its own), else the aggregate's.
    signature = candidates[0]
    report.present = True
    signed_element = signature.getparent()
    report.signed_element = etree.QName(signed_element).localname
    method = signature.find("ds:SignedInfo/ds:SignatureMethod", _NS)
    digest = signature.find("ds:SignedInfo/ds:Reference/ds:DigestMethod", _NS)
    algorithm_uri = method.get("Algorithm") if method is not None else None
    digest_uri = digest.get("Algorithm") if digest is not None else None
    report.algorithm = _SHORT_NAMES.get(algorithm_uri, algorithm_uri)
    report.digest_algorithm = _SHORT_NAMES.get(digest_uri, digest_uri)

    try:
        embedded = _embedded_certificate(signature, reader or CertificateReader())
    except SamlError as exc:
        report.findings.append(_bad("The certificate inside the signature's KeyInfo is unreadable: {0}".format(
            exc.finding.message)))
        return report
    signed_bytes = document if signed_element is root else etree.tostring(signed_element)
    tried = []
    if anchors.given:
        tried = list(anchors.certificates)
        if embedded is not None and anchors.trusts(fingerprint(embedded)):
            tried.insert(0, embedded)
    elif embedded is not None:
        tried = [embedded]
    if not tried:
        if anchors.given:
            report.findings.append(_bad(
                "The signature's certificate {0} is not in trusted_certificates.".format(
                    fingerprint(embedded) if embedded is not None else "(none embedded)")))
        else:
            report.findings.append(finding(
                "signature_unverifiable", "The metadata is signed but carries no certificate to check it with; "
                                          "pass the signer's certificate in trusted_certificates."))
        return report

    last_error = ""
    for cert in tried:
        if signed_element is root and verify_fast(signature, cert):
            report.valid = True
            report.trusted = anchors.given
            report.signer_fingerprint_sha256 = fingerprint(cert)
            break
        try:
            _verify(signed_bytes, cert)
        except (_signxml()[1], ValueError, etree.LxmlError) as exc:
            last_error = _failure_reason(exc)
            continue
        report.valid = True
        report.trusted = anchors.given
        report.signer_fingerprint_sha256 = fingerprint(cert)
        break
    if not report.valid:
        if anchors.given and embedded is not None and not anchors.trusts(fingerprint(embedded)):
            report.findings.append(_bad(
                "The metadata is not signed by a certificate in trusted_certificates (it names the signer "
                "{0}): {1}.".format(fingerprint(embedded), last_error)))
        else:
            report.findings.append(_bad(
                "The metadata signature does not verify ({0}): the document was changed after signing, "
                "or signed with another key.".format(last_error)))
        return report

    weak = [name for name in (report.algorithm, report.digest_algorithm) if name and name.endswith("sha1")]
    if weak:
        report.findings.append(finding(
            "weak_signature_algorithm",
            "The metadata is signed with SHA-1 ({0}); ask the IdP to sign with SHA-256.".format(", ".join(weak)),
            severity=ERROR if relied_on else WARNING))
    return report
