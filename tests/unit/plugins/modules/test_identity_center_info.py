# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""identity_center_info's SP metadata check against an instance's identity store and Regions, and its URLs."""

from __future__ import annotations

from ansible_collections.idfed.aws_sso.plugins.modules import identity_center_info as module

STORE = "d-93670c4a5b"
ISSUER = "https://eu-west-1.signin.aws.amazon.com/platform/saml/" + STORE
TENANT = "4455422d-2b3c-4d5e-8f90-a1b2c3d4e5f6"
REGIONS = [
    {"region_name": "eu-west-1", "status": "ACTIVE", "is_primary_region": True},
    {"region_name": "eu-central-1", "status": "ACTIVE", "is_primary_region": False},
    {"region_name": "us-east-1", "status": "ADDING", "is_primary_region": False},
    {"region_name": "ap-south-1", "status": "REMOVING", "is_primary_region": False},
]


def sp_metadata(issuer: str, regions: list[str]) -> bytes:
    services = "".join(
        '<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
        'Location="https://{0}.signin.aws/platform/saml/acs/{1}" index="{2}"/>'.format(region, TENANT, index)
        for index, region in enumerate(regions))
    return ('<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{0}">'
            '<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
            '<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>{1}'
            '</md:SPSSODescriptor></md:EntityDescriptor>'.format(issuer, services)).encode()


def check(document: bytes) -> dict:
    return module.check_sp_metadata(document, "content", STORE, REGIONS, ISSUER)


def codes(result: dict) -> list[str]:
    return [item["code"] for item in result["findings"]]


def test_metadata_of_this_instance_with_every_active_region_belongs():
    result = check(sp_metadata(ISSUER, ["eu-west-1", "eu-central-1"]))
    assert result["belongs"] and result["issuer_matches"] and result["valid"]
    assert result["acs_regions"] == ["eu-central-1", "eu-west-1"] and result["missing_acs_regions"] == []
    assert codes(result) == ["sp_acs_region_adding"]  # REMOVING needs nothing


def test_a_missing_active_region_is_an_error():
    result = check(sp_metadata(ISSUER, ["eu-west-1", "us-east-1"]))
    assert not result["belongs"] and result["issuer_matches"]
    assert result["missing_acs_regions"] == ["eu-central-1"]
    assert codes(result) == ["sp_acs_region_missing"]
    assert "ACTIVE Region eu-central-1" in module.mismatch_message(result)


def test_another_instance_and_another_region():
    other = check(sp_metadata("https://eu-west-1.signin.aws.amazon.com/platform/saml/d-0000000000", ["eu-west-1", "eu-central-1"]))
    assert not other["belongs"] and not other["issuer_matches"] and codes(other) == ["sp_issuer_mismatch"]
    shifted = check(sp_metadata("https://eu-central-1.signin.aws.amazon.com/platform/saml/" + STORE, ["eu-west-1", "eu-central-1", "sa-east-1"]))
    assert shifted["belongs"] and codes(shifted) == ["sp_issuer_region_mismatch", "sp_acs_region_adding", "sp_acs_region_unknown"]


def test_a_document_that_is_no_metadata_is_not_compared():
    result = check(b"<html/>")
    assert not result["belongs"] and codes(result) == ["not_metadata"]
    assert module.mismatch_message(result).startswith("The SP metadata does not belong to this Identity Center instance. "
                                                      "No Identity Center issuer can be read from it (The root element is <html>")


def test_access_portal_url_per_partition():
    assert module.access_portal_url("arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6", STORE) == "https://d-93670c4a5b.awsapps.com/start"
    assert module.access_portal_url("arn:aws-us-gov:sso:::instance/ssoins-7223a1b2c3d4e5f6", STORE) == (
        "https://start.us-gov-home.awsapps.com/directory/d-93670c4a5b")
    assert module.access_portal_url("arn:aws-cn:sso:::instance/ssoins-7223a1b2c3d4e5f6", STORE) is None
