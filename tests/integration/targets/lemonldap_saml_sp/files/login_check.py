# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A real SP-initiated login at the LemonLDAP::NG of setup_lemonldap, checked as an SP would check it.

    python login_check.py LAUNCHER SERVER_JSON SP_ENTITY_ID ACS_URL USER PASSWORD

Builds an AuthnRequest (HTTP-Redirect, unsigned, as Identity Center sends it) from the IdP metadata the portal
serves, logs in with the launcher's login(), then verifies with signxml both signatures (response and assertion)
against the signing certificate of that metadata, and prints what the assertion says as JSON.
"""

from __future__ import annotations

import base64
import datetime
import importlib.util
import json
import sys
import uuid
import zlib
from urllib.parse import urlencode

from lxml import etree
from signxml import XMLVerifier

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"


def main(launcher: str, server_json: str, sp_entity_id: str, acs_url: str, user: str, password: str) -> int:
    spec = importlib.util.spec_from_file_location("lemonldap_ng", launcher)
    llng = importlib.util.module_from_spec(spec)
    sys.path.insert(0, launcher.rsplit("/", 1)[0])  # it imports test_server next to it
    spec.loader.exec_module(llng)
    with open(server_json, encoding="utf-8") as handle:
        info = json.load(handle)
    http = llng._session(info)  # pylint: disable=protected-access
    metadata = etree.fromstring(http.get(info["metadata_url"], timeout=30).content)
    sso = metadata.find(".//{%s}SingleSignOnService[@Binding='urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect']" % MD)
    cert_body = "".join(metadata.find(".//{%s}KeyDescriptor[@use='signing']//{%s}X509Certificate" % (MD, DS)).text.split())
    cert = "-----BEGIN CERTIFICATE-----\n{0}\n-----END CERTIFICATE-----\n".format(cert_body)
    request_id = "_" + uuid.uuid4().hex
    instant = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    request = ('<samlp:AuthnRequest xmlns:samlp="{0}" xmlns:saml="{1}" ID="{2}" Version="2.0" IssueInstant="{3}" '
               'Destination="{4}" AssertionConsumerServiceURL="{5}" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:'
               'bindings:HTTP-POST"><saml:Issuer>{6}</saml:Issuer><samlp:NameIDPolicy Format="urn:oasis:names:tc:'
               'SAML:1.1:nameid-format:emailAddress" AllowCreate="true"/></samlp:AuthnRequest>').format(
                   SAMLP, SAML, request_id, instant, sso.get("Location"), acs_url, sp_entity_id)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    encoded = base64.b64encode(deflate.compress(request.encode()) + deflate.flush()).decode()
    url = sso.get("Location") + "?" + urlencode({"SAMLRequest": encoded, "RelayState": "https://example.test/start"})
    acs, response_b64, relay_state = llng.login(url, user, password, server=info)
    document = base64.b64decode(response_b64)
    # Each verify() checks the signature at the root of what it is given and returns what that signature covers.
    signed_response = XMLVerifier().verify(document, x509_cert=cert).signed_xml
    assertion = signed_response.find("{%s}Assertion" % SAML)
    signed_assertion = XMLVerifier().verify(etree.tostring(assertion), x509_cert=cert).signed_xml
    name_id = signed_assertion.find("{%s}Subject/{%s}NameID" % (SAML, SAML))
    attributes = {node.get("Name"): [value.text for value in node.iterfind("{%s}AttributeValue" % SAML)]
                  for node in signed_assertion.iter("{%s}Attribute" % SAML)}
    confirmation = signed_assertion.find(".//{%s}SubjectConfirmationData" % SAML)
    print(json.dumps({
        "acs_url": acs, "relay_state": relay_state, "in_response_to": signed_response.get("InResponseTo"),
        "request_id": request_id, "status": signed_response.find("{%s}Status/{%s}StatusCode" % (SAMLP, SAMLP)).get("Value"),
        "issuer": signed_assertion.findtext("{%s}Issuer" % SAML), "idp_entity_id": metadata.get("entityID"),
        "name_id": name_id.text, "name_id_format": name_id.get("Format"),
        "audience": signed_assertion.findtext(".//{%s}Audience" % SAML), "recipient": confirmation.get("Recipient"),
        "attributes": attributes, "response_signed": True, "assertion_signed": True,
    }, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:7]))
