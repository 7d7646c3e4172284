# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The upload-ready IdP metadata for the Identity Center console.

Built from scratch out of the facts we validated (never by editing the input), so nothing the
IdP added (WS-Federation roles, encryption keys, signatures, extensions) can slip through.
The output is deterministic: same input facts, same bytes, so `dest` writes are idempotent.
"""

from __future__ import annotations

import base64
import traceback

try:
    from lxml import etree
except ImportError:  # pragma: no cover - reported by deps.missing_libraries()
    etree = None
    LXML_IMPORT_ERROR: str | None = traceback.format_exc()
else:
    LXML_IMPORT_ERROR = None

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
SAML2_PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
UPLOAD_BINDINGS = (
    "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
    "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
)


def _sub(parent, ns: str, tag: str, **attributes: str):
    return etree.SubElement(parent, "{%s}%s" % (ns, tag), {key: value for key, value in attributes.items() if value})


def build_upload_document(*, entity_id: str, signing_certificates_der: list[bytes], name_id_formats: list[str],
                          sso_services: list[dict], slo_services: list[dict],
                          want_authn_requests_signed: str | None = None) -> bytes:
    """One EntityDescriptor with one IDPSSODescriptor: signing keys, SLO, NameID formats, SSO (schema order)."""
    root = etree.Element("{%s}EntityDescriptor" % MD, {"entityID": entity_id}, nsmap={"md": MD, "ds": DS})
    role = _sub(root, MD, "IDPSSODescriptor", WantAuthnRequestsSigned=want_authn_requests_signed or "",
                protocolSupportEnumeration=SAML2_PROTOCOL)
    for der in signing_certificates_der:
        key_info = _sub(_sub(role, MD, "KeyDescriptor", use="signing"), DS, "KeyInfo")
        _sub(_sub(key_info, DS, "X509Data"), DS, "X509Certificate").text = base64.b64encode(der).decode("ascii")
    for service in slo_services:
        if service["binding"] in UPLOAD_BINDINGS:
            _sub(role, MD, "SingleLogoutService", Binding=service["binding"], Location=service["location"],
                 ResponseLocation=service.get("response_location") or "")
    for name_id_format in name_id_formats:
        _sub(role, MD, "NameIDFormat").text = name_id_format
    for service in sso_services:
        if service["binding"] in UPLOAD_BINDINGS:
            _sub(role, MD, "SingleSignOnService", Binding=service["binding"], Location=service["location"])
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root, encoding="UTF-8", pretty_print=True)
