# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The upload-ready IdP metadata for the Identity Center console.

Built from scratch out of the facts we validated (never by editing the input), so nothing the
IdP added (WS-Federation roles, encryption keys, signatures, extensions) can slip through.
The output is deterministic, same facts, same bytes, so `dest` writes are idempotent. It is
written as text: this runs on every validation (for the 75,000-character check) and is several
times faster than building an lxml tree.
"""

from __future__ import annotations

import re

from .constants import BROWSER_SSO_BINDINGS as UPLOAD_BINDINGS, DS, MD, SAML2_PROTOCOL

_TEXT_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
_ATTRIBUTE_ESCAPES = _TEXT_ESCAPES + (('"', "&quot;"), ("\n", "&#10;"), ("\r", "&#13;"), ("\t", "&#9;"))


_NEEDS_ESCAPE = re.compile(r"[&<>\"\n\r\t]")


def escape(text: str, escapes=_TEXT_ESCAPES) -> str:
    if not _NEEDS_ESCAPE.search(text):  # the usual case: URLs and URNs
        return text
    for character, entity in escapes:
        if character in text:
            text = text.replace(character, entity)
    return text


def quoteattr(value: str) -> str:
    return '"' + escape(value, _ATTRIBUTE_ESCAPES) + '"'


def _service(tag: str, service: dict) -> str:
    response = service.get("response_location")
    return "    <md:{0} Binding={1} Location={2}{3}/>".format(
        tag, quoteattr(service["binding"]), quoteattr(service["location"]),
        " ResponseLocation=" + quoteattr(response) if response else "")


def build_upload_document(*, entity_id: str, signing_certificates_b64: list[str], name_id_formats: list[str],
                          sso_services: list[dict], slo_services: list[dict],
                          want_authn_requests_signed: str | None = None) -> bytes:
    """One EntityDescriptor with one IDPSSODescriptor: signing keys, SLO, NameID formats, SSO (schema order)."""
    want = " WantAuthnRequestsSigned=" + quoteattr(want_authn_requests_signed) if want_authn_requests_signed else ""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<md:EntityDescriptor xmlns:md="{0}" xmlns:ds="{1}" entityID={2}>'.format(MD, DS, quoteattr(entity_id)),
        '  <md:IDPSSODescriptor{0} protocolSupportEnumeration="{1}">'.format(want, SAML2_PROTOCOL),
    ]
    for body in signing_certificates_b64:
        lines.extend((
            '    <md:KeyDescriptor use="signing">',
            "      <ds:KeyInfo>",
            "        <ds:X509Data>",
            "          <ds:X509Certificate>{0}</ds:X509Certificate>".format(body),
            "        </ds:X509Data>",
            "      </ds:KeyInfo>",
            "    </md:KeyDescriptor>",
        ))
    lines.extend(_service("SingleLogoutService", s) for s in slo_services if s["binding"] in UPLOAD_BINDINGS)
    lines.extend("    <md:NameIDFormat>{0}</md:NameIDFormat>".format(escape(value)) for value in name_id_formats)
    lines.extend(_service("SingleSignOnService", s) for s in sso_services if s["binding"] in UPLOAD_BINDINGS)
    lines.extend(("  </md:IDPSSODescriptor>", "</md:EntityDescriptor>", ""))
    return "\n".join(lines).encode("utf-8")
