# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""X.509 certificate loading and analysis (the one place certificates are judged)."""

from __future__ import annotations

import base64
import binascii
import re
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone

from .findings import ERROR, WARNING, Finding, SamlError, finding

try:
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
    from cryptography.x509.oid import NameOID
except ImportError:  # pragma: no cover - the module reports it through _deps.require()
    x509 = None

MIN_RSA_BITS = 2048
MIN_EC_BITS = 256
PEM_CERTIFICATE = re.compile(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.DOTALL)
_HEX64 = re.compile(r"^[0-9A-F]{64}$")
_SIGNATURE_NAMES = {
    "1.2.840.113549.1.1.4": "md5WithRSAEncryption",
    "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
    "1.2.840.113549.1.1.11": "sha256WithRSAEncryption",
    "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
    "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
    "1.2.840.113549.1.1.10": "rsassaPss",
    "1.2.840.10045.4.1": "ecdsa-with-SHA1",
    "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
    "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
    "1.2.840.10045.4.3.4": "ecdsa-with-SHA512",
    "1.3.101.112": "ed25519",
    "1.3.101.113": "ed448",
    "1.2.840.10040.4.3": "dsa-with-sha1",
}
_WEAK_SIGNATURE_OIDS = {"1.2.840.113549.1.1.4", "1.2.840.113549.1.1.5", "1.2.840.10045.4.1", "1.2.840.10040.4.3"}


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def colon_hex(digest: bytes) -> str:
    return digest.hex(":").upper()


def normalize_fingerprint(value: str) -> str | None:
    """Accept 'AB:CD..', 'abcd..', 'sha256:AB..' or 'SHA256 Fingerprint=AB:..'; None if not a SHA-256 hex digest."""
    text = value.strip()
    if "=" in text:
        text = text.split("=", 1)[1]
    if text.lower().startswith("sha256:"):
        text = text[7:]
    text = re.sub(r"[\s:]", "", text).upper()
    if not _HEX64.match(text):
        return None
    return colon_hex(bytes.fromhex(text))


def _malformed(detail: str) -> SamlError:
    return SamlError(finding("certificate_malformed", "The certificate cannot be read: {0}.".format(detail)))


def load_certificate(data: bytes | str, *, names: bool = True) -> "x509.Certificate":
    """Load one certificate from PEM, DER or a bare base64 body (as in ds:X509Certificate).

    names=False skips reading the subject and issuer (the costly part of a load) for a certificate used only
    for its key, such as the one in a signature's KeyInfo; anything described or judged needs them read."""
    raw = data.encode("ascii", "replace") if isinstance(data, str) else data
    if b"-----BEGIN" in raw:
        match = PEM_CERTIFICATE.search(raw)
        if not match:
            raise _malformed("the PEM block is not a CERTIFICATE or has no END line")
        raw = match.group(1)
    elif raw[:1] == b"\x30":  # DER: an ASN.1 SEQUENCE
        return _load_der(raw, "invalid DER", names)
    body = b"".join(raw.split())
    if not body:
        raise _malformed("it is empty")
    try:
        der = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise _malformed("the body is not valid base64") from None
    if der.lstrip().startswith(b"-----BEGIN"):
        raise _malformed(
            "it holds a whole PEM file (with BEGIN/END lines) base64-encoded a second time; "
            "put only the base64 body between the BEGIN and END lines in the X509Certificate element"
        )
    return _load_der(der, "the decoded bytes are not an X.509 certificate", names)


class CertificateReader:
    """Loads each distinct certificate of one document once: metadata repeats the same certificate in
    every role, KeyDescriptor and signature KeyInfo, and a full load (names included) is the costly part."""

    def __init__(self) -> None:
        self._loaded: dict[str, object] = {}  # base64 body -> x509.Certificate or the Finding it raised

    def load(self, body: str, *, names: bool = True) -> "x509.Certificate":
        key = "".join(body.split())
        if key not in self._loaded:
            try:
                self._loaded[key] = load_certificate(key, names=False)
            except SamlError as exc:
                self._loaded[key] = exc.finding
        loaded = self._loaded[key]
        if isinstance(loaded, Finding):
            raise SamlError(loaded)
        if names:  # cryptography keeps names it has parsed: reading them again costs nothing
            try:
                _read_names(loaded, "the decoded bytes are not an X.509 certificate")
            except SamlError as exc:
                self._loaded[key] = exc.finding
                raise
        return loaded


def _read_names(cert: "x509.Certificate", problem: str) -> None:
    try:
        cert.subject, cert.issuer  # noqa: B018 pylint: disable=pointless-statement
    except (ValueError, TypeError) as exc:
        raise _malformed("{0} ({1})".format(problem, exc)) from None


def _load_der(der: bytes, problem: str, names: bool = True) -> "x509.Certificate":
    """Load DER and read every field the rules and facts use: cryptography parses names, the version and
    the key lazily, so a certificate broken inside one of them would otherwise fail later, mid-report."""
    try:
        # Real IdP certificates sometimes carry a negative serial: readable, so no deprecation noise about it.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cert = x509.load_der_x509_certificate(der)
            cert.serial_number  # noqa: B018 pylint: disable=pointless-statement
        cert.not_valid_before_utc, cert.not_valid_after_utc, cert.version  # noqa: B018 pylint: disable=pointless-statement
        cert.signature_algorithm_oid  # noqa: B018 pylint: disable=pointless-statement
    except (ValueError, TypeError, x509.InvalidVersion) as exc:
        raise _malformed("{0} ({1})".format(problem, exc)) from None
    if names:
        _read_names(cert, problem)
    try:
        cert.public_key()
    except UnsupportedAlgorithm as exc:
        raise _malformed("its public key uses an algorithm this host cannot read ({0}); SAML IdPs sign with RSA "
                         "or EC keys".format(exc)) from None
    except ValueError as exc:
        raise _malformed("its public key is invalid ({0})".format(exc)) from None
    return cert


def _serial_hex(cert: "x509.Certificate") -> str:
    # Real IdP certificates sometimes carry a negative serial; report it without cryptography's warning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return "{0:X}".format(cert.serial_number)


def fingerprint(cert: "x509.Certificate") -> str:
    return colon_hex(cert.fingerprint(hashes.SHA256()))


def pem_of(cert: "x509.Certificate") -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _key_facts(cert: "x509.Certificate") -> tuple[str, int | None]:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC", key.curve.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size
    return type(key).__name__, None


@dataclass
class CertificateReport:
    certificate: dict
    findings: list[Finding] = field(default_factory=list)
    matches_metadata: bool | None = None

    @property
    def valid(self) -> bool:
        return not any(item.severity == ERROR for item in self.findings)

    def to_facts(self) -> dict:
        facts = {
            "certificate": self.certificate,
            "valid": self.valid,
            "findings": [item.to_dict() for item in self.findings],
        }
        if self.matches_metadata is not None:
            facts["matches_metadata"] = self.matches_metadata
        return facts


def describe(cert: "x509.Certificate", *, use: str = "signing", now: datetime | None = None) -> dict:
    moment = now or now_utc()
    key_type, key_size = _key_facts(cert)
    oid = cert.signature_algorithm_oid.dotted_string
    not_after = cert.not_valid_after_utc
    return {
        "use": use,
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": _serial_hex(cert),
        "not_before": iso(cert.not_valid_before_utc),
        "not_after": iso(not_after),
        "days_left": int((not_after - moment).total_seconds() // 86400),
        "key_type": key_type,
        "key_size": key_size,
        "signature_algorithm": _SIGNATURE_NAMES.get(oid, oid),
        "fingerprint_sha256": fingerprint(cert),
        "pem": pem_of(cert),
    }


def judge(cert: "x509.Certificate", *, use: str = "signing", label: str | None = None,
          expiry_warning_days: int = 30, now: datetime | None = None) -> list[Finding]:
    """Every rule about one certificate. Messages name it by `label`, by default its use, subject and
    fingerprint (computed only when there is something to say: this is the hot path of metadata parsing)."""
    moment = now or now_utc()
    found: list[Finding] = []

    def name() -> str:
        return label or label_for(cert, use)

    not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    if not_after < moment:
        found.append(finding("certificate_expired", "{0} expired on {1}; the IdP must publish a current "
                             "signing certificate.".format(name(), iso(not_after))))
    elif not_before > moment:
        found.append(finding("certificate_not_yet_valid", "{0} is not valid before {1}.".format(name(), iso(not_before))))
    elif (not_after - moment).total_seconds() < expiry_warning_days * 86400:
        found.append(finding("certificate_expiring", "{0} expires on {1}, within {2} days; plan the rotation "
                             "(add the new certificate, then remove the old).".format(
                                 name(), iso(not_after), expiry_warning_days)))
    key_type, key_size = _key_facts(cert)
    if key_size is not None and ((key_type in ("RSA", "DSA") and key_size < MIN_RSA_BITS)
                                 or (key_type == "EC" and key_size < MIN_EC_BITS)):
        found.append(finding("weak_key", "{0} has a {1}-bit {2} key; use at least {3}-bit RSA or a P-256 EC key.".format(
            name(), key_size, key_type, MIN_RSA_BITS)))
    oid = cert.signature_algorithm_oid.dotted_string
    if oid in _WEAK_SIGNATURE_OIDS:
        kind = "self-signed" if cert.issuer == cert.subject else "signed"
        found.append(finding("weak_certificate_signature", "{0} is {1} with {2}; SAML trusts its key, not this "
                             "signature, but the IdP should rotate to a SHA-256 certificate.".format(
                                 name(), kind, _SIGNATURE_NAMES[oid])))
    return found


def label_for(cert: "x509.Certificate", use: str) -> str:
    """How messages name a certificate: its CN (the full DN is in the facts) and its fingerprint."""
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    subject = "CN=" + str(names[0].value) if names else cert.subject.rfc4514_string() or "(empty subject)"
    return "The {0} certificate {1} ({2})".format(use, subject, fingerprint(cert))


def analyze_certificate(data: bytes | str, *, expiry_warning_days: int = 30, now: datetime | None = None,
                        compare_to: set[str] | None = None) -> CertificateReport:
    """Analyze one certificate; SamlError is turned into a certificate_malformed finding.

    compare_to: SHA-256 fingerprints (references.resolve_references() reads them from what a user gives)."""
    try:
        cert = load_certificate(data)
    except SamlError as exc:
        return CertificateReport(certificate={}, findings=[exc.finding])
    report = CertificateReport(
        certificate=describe(cert, now=now),
        findings=judge(cert, label=label_for(cert, "signing").replace("The signing", "The", 1),
                       expiry_warning_days=expiry_warning_days, now=now),
    )
    if compare_to is not None:
        report.matches_metadata = fingerprint(cert) in compare_to
    return report


__all__ = [
    "CertificateReader", "CertificateReport", "analyze_certificate", "describe", "judge", "load_certificate", "fingerprint",
    "normalize_fingerprint", "WARNING",
]
