# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Finding codes: the stable vocabulary users script against.

Every rule in this package reports through :class:`Finding`; the table below is the one
place a code, its severity and its meaning are defined (the module docs mirror it).
"""

from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"

# code -> (severity, what it means)
CODES: dict[str, tuple[str, str]] = {
    "xml_malformed": (ERROR, "The document is not well-formed XML."),
    "xml_forbidden_construct": (ERROR, "The document has a DTD, an entity declaration or an external reference."),
    "too_large": (ERROR, "The document is larger than the size cap."),
    "not_metadata": (ERROR, "The root element is not a SAML 2.0 EntityDescriptor or EntitiesDescriptor."),
    "entity_not_found": (ERROR, "No entity has the requested entityID (or the requested role)."),
    "ambiguous_entity": (ERROR, "Several entities qualify; pick one with entity_id."),
    "no_idp_role": (ERROR, "The entity has no IDPSSODescriptor."),
    "no_sp_role": (ERROR, "The entity has no SPSSODescriptor."),
    "no_signing_certificate": (ERROR, "The role has no usable signing certificate."),
    "certificate_malformed": (ERROR, "A certificate cannot be decoded as X.509."),
    "certificate_expired": (ERROR, "A certificate is past its notAfter date."),
    "certificate_not_yet_valid": (ERROR, "A certificate is before its notBefore date."),
    "certificate_expiring": (WARNING, "A certificate expires within expiry_warning_days."),
    "certificate_expired_dropped": (WARNING, "An expired signing certificate was left out of the upload document."),
    "weak_key": (ERROR, "A certificate key is too small (RSA under 2048 bits, EC under 256 bits)."),
    "weak_certificate_signature": (WARNING, "A certificate is self-signed with MD5 or SHA-1; rotate it."),
    "signature_missing": (ERROR, "A signature is required but the metadata is not signed."),
    "signature_invalid": (ERROR, "The metadata signature does not verify, is misplaced (wrapping) or is not from a trusted signer."),
    "signature_unverifiable": (WARNING, "The metadata is signed but no certificate is available to check it."),
    "weak_signature_algorithm": (ERROR, "The metadata is signed with SHA-1 (a warning when the signature is not relied on)."),
    "metadata_expired": (ERROR, "A validUntil on the role, its entity or an enclosing EntitiesDescriptor is in the past."),
    "no_sso_service": (ERROR, "The IdP has no SingleSignOnService with the HTTP-POST or HTTP-Redirect binding."),
    "sso_not_https": (ERROR, "A SingleSignOnService location is not an https:// URL."),
    "exceeds_identity_center_limit": (ERROR, "The upload document is over the 75,000-character limit of Identity Center."),
    "exceeds_iam_limit": (ERROR, "The document is outside the 1,000 to 10,000,000-character range IAM accepts."),
    "encryption_key_present": (WARNING, "The IdP advertises an encryption key; it is dropped from the upload document."),
    "name_id_email_missing": (ERROR, "The emailAddress NameID format is not advertised (a warning for an IdP)."),
    "acs_not_https": (ERROR, "An AssertionConsumerService location is not an https:// URL."),
    "no_acs_service": (ERROR, "The SP has no AssertionConsumerService."),
    "identity_center_issuer_unrecognized": (ERROR, "The SP entityID is not an IAM Identity Center issuer URL."),
}


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "severity": self.severity, "message": self.message}


def finding(code: str, message: str, severity: str | None = None) -> Finding:
    """Build a finding with the code's default severity unless one is forced."""
    return Finding(code, severity or CODES[code][0], message)


class SamlError(Exception):
    """A fatal problem: analysis cannot go on (the document is not parseable metadata)."""

    def __init__(self, found: Finding):
        super().__init__(found.message)
        self.finding = found
