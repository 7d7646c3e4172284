# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The LemonLDAP::NG client's mapping: SP metadata built and read by meaning, API objects as the compared view,
the request an update needs (PATCH, or PUT to remove an exported attribute), the API's error envelope, and the
look-ups that answer None for the API's own 404."""

from __future__ import annotations

import pytest

from ansible_collections.idfed.aws_sso.plugins.module_utils._http.errors import ApiError
from ansible_collections.idfed.aws_sso.plugins.module_utils._idp import lemonldap as llng
from ansible_collections.idfed.aws_sso.plugins.module_utils._state import Spec, plan

ISSUER = "https://eu-west-1.signin.aws.amazon.com/platform/saml/d-93670c4a5b"
ACS1 = "https://eu-west-1.signin.aws/platform/saml/acs/65752d77-6573-742d-2b3c-4d5e8f90a1b2"
ACS2 = "https://eu-central-1.signin.aws/platform/saml/acs/65752d77-6573-742d-2b3c-4d5e8f90a1b2"
EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
SPEC = Spec(sets={"acs_urls", "name_id_formats", "exported_attributes"})  # the module's


def api_object(acs=(ACS1,), attributes=None, **options):
    """An SP as GET /api/v1/providers/saml/sp/{confKey} returns it: options with defaults filled in."""
    stored = {"nameIDFormat": "email", "nameIDSessionKey": "mail", "signSSOMessage": 1, "checkSSOMessageSignature": 0,
              "signSLOMessage": -1, "forceUTF8": 1, "notOnOrAfterTimeout": 72000, "encryptionMode": "none",
              "signatureMethod": "", "oneTimeUse": 0}
    stored.update(options)
    return {"confKey": "aws-iam-identity-center", "metadata": llng.build_sp_metadata(ISSUER, list(acs)),
            "exportedAttributes": attributes if attributes is not None else {
                "mail": {"name": "email", "mandatory": "true", "format": llng.BASIC}},
            "macros": {}, "options": stored}


def desired(acs=(ACS1,), exported=None, options=None, macros=None):
    return llng.desired_view("aws-iam-identity-center", ISSUER, list(acs), EMAIL, name_id_attribute="mail",
                             exported_attributes=exported if exported is not None else {"mail": "email"},
                             options=options or {}, macros=macros)


def test_metadata_round_trip_keeps_every_acs_url_in_order():
    document = llng.build_sp_metadata(ISSUER, [ACS1, ACS2])
    assert llng.read_sp_metadata(document) == {"entity_id": ISSUER, "acs_urls": [ACS1, ACS2], "name_id_formats": [EMAIL]}
    assert 'isDefault="true"' in document and 'AuthnRequestsSigned="false"' in document
    assert document.startswith("<md:EntityDescriptor")  # LemonLDAP::NG reads the first entityID="..." it finds


def test_metadata_escapes_urls():
    document = llng.build_sp_metadata('urn:x"<y>', ["https://a.example/acs?a=1&b=2"])
    assert llng.read_sp_metadata(document)["acs_urls"] == ["https://a.example/acs?a=1&b=2"]
    assert llng.read_sp_metadata(document)["entity_id"] == 'urn:x"<y>'


def test_metadata_by_meaning_not_text():
    """An SP registered by hand (other prefixes, spacing, a Redirect ACS, a key) means the same."""
    by_hand = ('<?xml version="1.0"?>\n<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" '
               'entityID="{0}">\n  <SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
               '<NameIDFormat> {1} </NameIDFormat><AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:'
               'bindings:HTTP-POST" Location="{2}" index="1"/></SPSSODescriptor></EntityDescriptor>').format(
                   ISSUER, EMAIL, ACS1)
    found = dict(api_object(), metadata=by_hand)
    assert not plan(SPEC, llng.sp_view(found), desired()).changed


def test_unreadable_stored_metadata_is_replaced():
    view = llng.read_sp_metadata('<broken entityID="{0}"'.format(ISSUER))
    assert view == {"entity_id": ISSUER, "acs_urls": [], "name_id_formats": []}


def test_view_of_an_api_object():
    view = llng.sp_view(api_object(attributes={"mail": {"name": "email", "mandatory": "false", "friendlyName": "Mail"}},
                                   notOnOrAfterTimeout="300"))
    assert view["exported_attributes"] == [{"attribute": "mail", "name": "email", "format": llng.UNSPECIFIED,
                                           "mandatory": False, "friendly_name": "Mail"}]
    assert view["options"]["notOnOrAfterTimeout"] == 300  # a number stored as a string compares as the number
    assert view["entity_id"] == ISSUER and view["acs_urls"] == [ACS1]


def test_desired_sets_the_identity_center_options_and_lets_the_task_override():
    view = desired(options={"signSSOMessage": True, "notOnOrAfterTimeout": "300", "rule": "inGroup('aws')"})
    assert view["options"] == {"nameIDFormat": "email", "nameIDSessionKey": "mail", "signSSOMessage": 1,
                               "checkSSOMessageSignature": 0, "notOnOrAfterTimeout": 300, "rule": "inGroup('aws')"}
    assert view["name_id_formats"] == [EMAIL]


def test_attribute_formats_default_by_name():
    attributes = llng.normalize_attributes({"mail": "email", "awsRole": llng.IAM_ROLE_ATTRIBUTE,
                                            "uid": {"name": "uid", "format": "unspecified", "mandatory": False}})
    formats = {item["attribute"]: (item["format"], item["mandatory"]) for item in attributes}
    assert formats == {"mail": (llng.BASIC, True), "awsRole": (llng.URI, True), "uid": (llng.UNSPECIFIED, False)}
    assert llng.api_attributes(attributes)["uid"] == {"name": "uid", "format": llng.UNSPECIFIED, "mandatory": "false"}


@pytest.mark.parametrize("exported, problem", [
    ({"mail": {"format": "basic"}}, "exported_attributes.mail has no SAML attribute name"),
    ({"bad key": "x"}, "is not a session attribute name"),
    ({"mail": {"name": "email", "format": "binary"}}, "format must be basic, uri, unspecified"),
    ({"mail": {"name": "email", "nameFormat": "basic"}}, "unknown keys nameFormat"),
])
def test_attribute_problems(exported, problem):
    assert any(problem in text for text in llng.attribute_problems(exported))


def test_no_op_when_the_api_fills_in_defaults():
    assert not plan(SPEC, llng.sp_view(api_object()), desired()).changed


def test_create_body():
    body = llng.create_body(desired(macros={"awsRole": '"arn"'}))
    assert body["confKey"] == "aws-iam-identity-center"
    assert body["exportedAttributes"] == {"mail": {"name": "email", "format": llng.BASIC, "mandatory": "true"}}
    assert body["options"]["checkSSOMessageSignature"] == 0 and body["macros"] == {"awsRole": '"arn"'}
    assert llng.read_sp_metadata(body["metadata"])["acs_urls"] == [ACS1]


def test_new_acs_url_is_one_patch_of_the_metadata():
    found = api_object()
    planned = plan(SPEC, llng.sp_view(found), desired(acs=(ACS1, ACS2)))
    assert planned.changed_keys == ("acs_urls",)
    method, body = llng.update_request(found, planned.after, planned.changed_keys)
    assert method == "PATCH" and list(body) == ["metadata"]
    assert llng.read_sp_metadata(body["metadata"])["acs_urls"] == [ACS1, ACS2]


def test_changed_option_patches_that_option_only():
    found = api_object(checkSSOMessageSignature=1)
    planned = plan(SPEC, llng.sp_view(found), desired())
    assert llng.update_request(found, planned.after, planned.changed_keys) == (
        "PATCH", {"options": {"checkSSOMessageSignature": 0}})


def test_added_attribute_is_a_patch_removed_attribute_a_put_keeping_options():
    found = api_object(notOnOrAfterTimeout=300)
    added = plan(SPEC, llng.sp_view(found), desired(exported={"mail": "email", "uid": "uid"}))
    method, body = llng.update_request(found, added.after, added.changed_keys)
    assert method == "PATCH" and set(body["exportedAttributes"]) == {"mail", "uid"}
    removed = plan(SPEC, llng.sp_view(found), desired(exported={"uid": "uid"}))
    method, body = llng.update_request(found, removed.after, removed.changed_keys)
    assert method == "PUT"
    assert set(body["exportedAttributes"]) == {"uid"}
    assert body["metadata"] == found["metadata"]  # unchanged: sent back as stored
    assert body["options"]["notOnOrAfterTimeout"] == 300 and body["options"]["checkSSOMessageSignature"] == 0


def test_idp_metadata_facts():
    document = ('<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/'
                'xmldsig#" entityID="https://auth.example.test/saml/metadata"><IDPSSODescriptor protocolSupport'
                'Enumeration="urn:oasis:names:tc:SAML:2.0:protocol"><KeyDescriptor use="encryption"><ds:KeyInfo>'
                '<ds:X509Data><ds:X509Certificate>RU5D</ds:X509Certificate></ds:X509Data></ds:KeyInfo></KeyDescriptor>'
                '<KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>\n  U0lH\n'
                '</ds:X509Certificate></ds:X509Data></ds:KeyInfo></KeyDescriptor><SingleSignOnService Binding="urn:'
                'oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://auth.example.test/saml/singleSignOn'
                'Post"/><SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location='
                '"https://auth.example.test/saml/singleSignOn"/></IDPSSODescriptor></EntityDescriptor>').encode()
    facts = llng.read_idp_metadata(document)
    assert facts["entity_id"] == "https://auth.example.test/saml/metadata"
    assert facts["sso_url"] == "https://auth.example.test/saml/singleSignOn"
    assert facts["certificate_pem"] == "-----BEGIN CERTIFICATE-----\nU0lH\n-----END CERTIFICATE-----\n"


def test_error_envelope():
    info = llng.parse_error({"error": "SAML service Provider 'x' not found"})
    assert info.message == "SAML service Provider 'x' not found" and info.code is None
    assert llng.parse_error({"message": "x"}) is None and llng.parse_error(None) is None


class FakeRest:
    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def get(self, path, params=None):
        self.calls.append(("GET", path, params))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def not_found(vendor_message="SAML service Provider 'x' not found"):
    return ApiError("HTTP 404", method="GET", url="u", status=404, vendor_message=vendor_message)


def test_lookups_answer_none_for_the_api_404_only():
    rest = FakeRest([not_found(), not_found(), {"confKey": "by-hand"}])
    client = llng.SamlSpClient(rest)
    assert client.get("aws/x") is None
    assert client.find_by_entity_id(ISSUER) is None
    assert client.find_by_entity_id(ISSUER) == {"confKey": "by-hand"}
    assert rest.calls[0][1] == "api/v1/providers/saml/sp/aws%2Fx"
    assert rest.calls[1] == ("GET", "api/v1/providers/saml/sp/findByEntityId", {"entityId": ISSUER})
    # A 404 without the API's envelope is a wrong base URL (an nginx page): not "absent".
    with pytest.raises(ApiError):
        llng.SamlSpClient(FakeRest([not_found(None)])).get("aws-iam-identity-center")
