# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: no compatibility promise; other collections must not import this.

What a user may name a certificate by, read with one rule wherever an option takes certificates
(trusted_certificates, compare_to): a PEM bundle, a DER or bare base64 body, a SHA-256 fingerprint
in any usual spelling, or a whole metadata document (every certificate of its KeyDescriptors).
"""

from __future__ import annotations

from .certificate import PEM_CERTIFICATE, fingerprint, load_certificate, normalize_fingerprint
from .constants import ANALYSIS_MAX_SIZE, MD_KEY_DESCRIPTOR, DS_X509_CERTIFICATE
from .findings import SamlError, finding
from .xmlparse import parse_xml


def metadata_certificates(data: bytes, *, max_size: int = ANALYSIS_MAX_SIZE) -> list:
    """Every readable certificate in a metadata document's KeyDescriptors (raises SamlError for bad XML)."""
    root = parse_xml(data, max_size=max_size)
    found = []
    for key_descriptor in root.iter(MD_KEY_DESCRIPTOR):
        for node in key_descriptor.iter(DS_X509_CERTIFICATE):
            try:
                found.append(load_certificate(node.text or ""))
            except SamlError:
                continue
    return found


def resolve_references(items, option: str) -> tuple[list, set[str]]:
    """(certificates, fingerprints) named by `items`; raises SamlError(certificate_malformed) naming `option`
    and the fix for an item that is none of the accepted forms, or a metadata document without a certificate."""
    if items is None:
        return [], set()
    if isinstance(items, (str, bytes)):
        items = [items]
    certificates: list = []
    fingerprints: set[str] = set()
    for position, item in enumerate(items, start=1):
        text = (item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item)).strip()
        if not text:
            continue
        try:
            if text.startswith("<"):
                found = metadata_certificates(text.encode("utf-8"))
                if not found:
                    raise SamlError(finding("certificate_malformed", "the metadata document has no readable "
                                                                     "certificate"))
                certificates.extend(found)
                continue
            normalized = normalize_fingerprint(text) if "BEGIN" not in text else None
            if normalized:
                fingerprints.add(normalized)
                continue
            raw = text.encode("ascii", "replace")
            certificates.extend(load_certificate(block) for block in PEM_CERTIFICATE.findall(raw) or [raw])
        except SamlError as exc:
            raise SamlError(finding(
                "certificate_malformed",
                "{0} item {1} is not a PEM/DER/base64 certificate, a SHA-256 fingerprint or a metadata document "
                "with a certificate: {2}".format(option, position, exc.finding.message.rstrip("."))
                + ". Give the certificate as PEM, or its SHA-256 fingerprint.")) from None
    return certificates, fingerprints


def reference_fingerprints(items, option: str) -> set[str]:
    """Every SHA-256 fingerprint `items` name (see resolve_references)."""
    certificates, fingerprints = resolve_references(items, option)
    return fingerprints | {fingerprint(cert) for cert in certificates}
