# -*- coding: utf-8 -*-
"""Metadata rules per role and target, and the upload document, on generated metadata."""

from __future__ import annotations

from datetime import timedelta

import pytest
import saml_factory as factory  # tests/support, see conftest.py
from lxml import etree

from ansible_collections.idfed.aws_sso.plugins.module_utils._saml.metadata import _parse_datetime, analyze_metadata
from saml_corpus import corpus_file  # tests/support, see conftest.py

MD = {"md": factory.MD, "ds": factory.DS}
CURRENT = factory.make_certificate(subject_cn="current signer")
OLD = factory.make_certificate(factory.make_key("rsa", 2048, 2), subject_cn="old signer",
                               not_before=factory.utc(-800), days_valid=400)
NEXT = factory.make_certificate(factory.make_key("rsa", 2048, 3), subject_cn="next signer", days_valid=700)
ENCRYPTION = factory.make_certificate(factory.make_key("rsa", 2048, 4), subject_cn="encryption")


def codes(report) -> set[str]:
    return {item.code for item in report.findings}


def upload(report):
    return etree.fromstring(report.upload_document())


def test_clean_idp_and_its_upload_document():
    report = analyze_metadata(factory.idp_metadata(signing=[CURRENT]))
    assert report.valid and report.findings == []
    facts = report.to_facts()
    assert facts["entity_id"] == "https://idp.example.test/saml"
    assert [item["binding"].rsplit(":", 1)[1] for item in facts["sso_services"]] == ["HTTP-POST", "HTTP-Redirect"]
    assert facts["name_id_formats"] == [factory.EMAIL]
    document = upload(report)
    assert document.tag == "{%s}EntityDescriptor" % factory.MD
    assert [etree.QName(child).localname for child in document] == ["IDPSSODescriptor"]
    assert document.xpath("//ds:X509Certificate/text()", namespaces=MD) == [CURRENT.b64]
    assert facts["upload_size"] == len(report.upload_document().decode())


def test_upload_document_is_deterministic_and_read_by_pysaml2():
    mdstore = pytest.importorskip("saml2.mdstore")
    converters = pytest.importorskip("saml2.attribute_converter")
    data = factory.idp_metadata(signing=[CURRENT, NEXT], encryption=[ENCRYPTION], ws_fed_role=True, padding_chars=500)
    first, second = analyze_metadata(data).upload_document(), analyze_metadata(data).upload_document()
    assert first == second
    source = mdstore.InMemoryMetaData(converters.ac_factory(), first.decode())
    source.load()
    assert list(source.keys()) == ["https://idp.example.test/saml"]


def test_multiple_signing_certificates_are_all_kept():
    report = analyze_metadata(factory.idp_metadata(signing=[CURRENT, NEXT]))
    assert report.valid
    assert [c["fingerprint_sha256"] for c in report.certificates] == [CURRENT.fingerprint_sha256, NEXT.fingerprint_sha256]
    assert len(upload(report).findall(".//md:KeyDescriptor", MD)) == 2


def test_expired_certificate_mid_rotation_is_dropped_with_a_warning():
    report = analyze_metadata(factory.idp_metadata(signing=[OLD, CURRENT]))
    assert report.valid
    assert {(item.code, item.severity) for item in report.findings} == {("certificate_expired_dropped", "warning")}
    assert upload(report).xpath("//ds:X509Certificate/text()", namespaces=MD) == [CURRENT.b64]


def test_only_expired_certificates_is_an_error():
    report = analyze_metadata(factory.idp_metadata(signing=[OLD]))
    assert "certificate_expired" in codes(report) and not report.valid


def test_encryption_keys_and_ws_fed_roles_stay_out_of_the_upload():
    report = analyze_metadata(factory.idp_metadata(signing=[CURRENT], encryption=[ENCRYPTION], ws_fed_role=True))
    assert report.valid
    assert {(item.code, item.severity) for item in report.findings} == {("encryption_key_present", "warning")}
    assert {c["use"] for c in report.certificates} == {"signing", "encryption"}
    document = upload(report)
    assert document.findall(".//md:KeyDescriptor[@use='encryption']", MD) == []
    assert document.findall("md:RoleDescriptor", MD) == []
    assert document.findall(".//ds:Signature", MD) == []


def test_unspecified_use_counts_as_signing():
    report = analyze_metadata(factory.idp_metadata(signing=[], unspecified=[CURRENT]))
    assert report.valid and report.certificates[0]["use"] == "unspecified"
    assert len(upload(report).findall(".//md:KeyDescriptor[@use='signing']", MD)) == 1


def test_80000_characters_of_droppable_content_is_fine_for_identity_center():
    data = factory.idp_metadata(signing=[CURRENT], padding_chars=80000)
    assert len(data) > 80000
    report = analyze_metadata(data)
    assert report.valid and len(report.upload_document()) < 75000


def test_80000_characters_the_idp_really_needs_exceed_the_limit():
    data = factory.idp_metadata(signing=[CURRENT], extra_name_id_formats=1500)
    assert len(data) > 80000
    report = analyze_metadata(data)
    assert "exceeds_identity_center_limit" in codes(report)
    assert analyze_metadata(data, target="generic").valid


def test_no_signing_certificate():
    report = analyze_metadata(factory.idp_metadata(signing=[], encryption=[ENCRYPTION]))
    assert "no_signing_certificate" in codes(report)


def test_no_usable_sso_service():
    report = analyze_metadata(factory.idp_metadata(sso_bindings=("SOAP",)))
    assert "no_sso_service" in codes(report)
    assert "SOAP" in next(item.message for item in report.findings if item.code == "no_sso_service")


def test_plain_http_sso_location():
    data = factory.idp_metadata(sso_location="http://idp.example.test/sso")
    assert "sso_not_https" in codes(analyze_metadata(data))
    generic = analyze_metadata(data, target="generic")
    assert generic.valid and "sso_not_https" in codes(generic)


def test_idp_without_email_name_id_is_a_warning():
    report = analyze_metadata(factory.idp_metadata(name_id_formats=(factory.PERSISTENT,)))
    assert {(item.code, item.severity) for item in report.findings} == {("name_id_email_missing", "warning")}


def test_expired_and_current_valid_until():
    assert "metadata_expired" in codes(analyze_metadata(factory.idp_metadata(valid_until=factory.xs_datetime(-1))))
    fresh = analyze_metadata(factory.idp_metadata(valid_until=factory.xs_datetime(10)))
    assert fresh.valid and fresh.valid_until.endswith("Z")
    assert "xml_malformed" in codes(analyze_metadata(factory.idp_metadata(valid_until="next tuesday")))


def messages(report, code: str) -> list[str]:
    return [item.message for item in report.findings if item.code == code]


def test_valid_until_on_the_idp_role_as_zitadel_publishes_it():
    expired = analyze_metadata(factory.idp_metadata(role_valid_until=factory.utc(-1), role_cache_duration="PT5M",
                                                    attribute_authority=True))
    [message] = messages(expired, "metadata_expired")
    assert "IDPSSODescriptor" in message and not expired.valid
    fresh = analyze_metadata(factory.idp_metadata(role_valid_until=factory.utc(10), attribute_authority=True))
    assert fresh.valid and fresh.findings == [] and fresh.valid_until.endswith("Z")


def test_valid_until_on_the_sp_role():
    expired = analyze_metadata(factory.sp_metadata_identity_center(role_valid_until=factory.utc(-1)), role="sp")
    assert "SPSSODescriptor" in messages(expired, "metadata_expired")[0]
    assert analyze_metadata(factory.sp_metadata_identity_center(role_valid_until=factory.utc(10)), role="sp").valid


def test_valid_until_off_the_path_to_the_role_does_not_count():
    """An expired AttributeAuthorityDescriptor says nothing about the IDPSSODescriptor next to it."""
    root = etree.fromstring(factory.idp_metadata(role_valid_until=factory.utc(10), attribute_authority=True))
    root.find("md:AttributeAuthorityDescriptor", MD).set("validUntil", factory.xs_datetime(-1))
    report = analyze_metadata(etree.tostring(root))
    assert report.valid and "metadata_expired" not in codes(report)


def test_earliest_valid_until_on_the_path_wins_and_is_named():
    later, earlier = factory.utc(20), factory.utc(5)
    report = analyze_metadata(factory.idp_metadata(valid_until=later, role_valid_until=earlier))
    assert report.valid_until == earlier.strftime("%Y-%m-%dT%H:%M:%SZ")
    expired = analyze_metadata(factory.idp_metadata(valid_until=factory.utc(-2), role_valid_until=factory.utc(-1)))
    [message] = messages(expired, "metadata_expired")
    assert "EntityDescriptor 'https://idp.example.test/saml'" in message and "IDPSSODescriptor" not in message


def test_malformed_valid_until_on_the_role_is_named():
    report = analyze_metadata(factory.idp_metadata(role_valid_until="next tuesday"))
    [message] = messages(report, "xml_malformed")
    assert "next tuesday" in message and "IDPSSODescriptor" in message


def test_valid_until_of_a_nested_aggregate():
    """The earliest validUntil of any EntitiesDescriptor around the entity bounds it, however deep."""
    inner = factory.entities_aggregate([factory.idp_metadata(entity_ref="_a")], name="urn:example:inner",
                                       aggregate_id="_inner", valid_until=factory.utc(-1))
    outer = factory.entities_aggregate([inner, factory.sp_metadata_identity_center()], name="urn:example:outer",
                                       valid_until=factory.utc(30))
    report = analyze_metadata(outer)
    [message] = messages(report, "metadata_expired")
    assert "EntitiesDescriptor 'urn:example:inner'" in message
    assert analyze_metadata(outer, role="sp").valid, "the SP is outside the expired inner aggregate"


def test_zitadel_metadata_from_the_corpus():
    """A real ZITADEL document: validUntil on the IDPSSODescriptor only; skipped when the corpus lacks one."""
    data = corpus_file("idp", "zitadel").read_bytes()
    role = etree.fromstring(data).find(".//md:IDPSSODescriptor", MD)
    if role.get("validUntil") is None:
        pytest.skip("this ZITADEL copy has no validUntil on its IDPSSODescriptor")
    deadline = _parse_datetime(role.get("validUntil"))
    before = analyze_metadata(data, target="generic", now=deadline - timedelta(seconds=1))
    after = analyze_metadata(data, target="generic", now=deadline + timedelta(seconds=1))
    assert "metadata_expired" not in codes(before)
    assert "IDPSSODescriptor" in messages(after, "metadata_expired")[0]


def test_one_url_under_two_bindings_gives_two_distinct_findings():
    idp = analyze_metadata(factory.idp_metadata(sso_location="http://idp.example.test/sso"))
    sso = messages(idp, "sso_not_https")
    assert len(sso) == 2 and "HTTP-POST" in sso[0] and "HTTP-Redirect" in sso[1]
    root = etree.fromstring(factory.sp_metadata_identity_center(acs_forms=("ipv4",)))
    acs = root.find(".//md:AssertionConsumerService", MD)
    acs.set("Location", acs.get("Location").replace("https://", "http://"))
    twin = etree.SubElement(acs.getparent(), acs.tag, acs.attrib)
    twin.set("Binding", factory.BINDINGS["HTTP-Redirect"])
    twin.set("index", "1")
    both = messages(analyze_metadata(etree.tostring(root), role="sp"), "acs_not_https")
    assert len(both) == 2 and "HTTP-POST" in both[0] and "HTTP-Redirect" in both[1]


def test_entity_selection_in_an_aggregate():
    aggregate = factory.entities_aggregate([
        factory.idp_metadata("https://a.example.test/idp", entity_ref="_a"),
        factory.sp_metadata_identity_center(),
        factory.idp_metadata("https://b.example.test/idp", entity_ref="_b"),
    ])
    ambiguous = analyze_metadata(aggregate)
    assert codes(ambiguous) == {"ambiguous_entity"}
    assert "https://a.example.test/idp" in ambiguous.findings[0].message
    assert analyze_metadata(aggregate, entity_id="https://b.example.test/idp").entity_id == "https://b.example.test/idp"
    sp = analyze_metadata(aggregate, role="sp")
    assert sp.valid and sp.to_facts()["identity_store_id"] == "d-1234567890"
    missing = analyze_metadata(aggregate, entity_id="https://nope.example.test")
    assert codes(missing) == {"entity_not_found"} and "https://a.example.test/idp" in missing.findings[0].message


def test_wrong_role_says_which_role_to_use():
    report = analyze_metadata(factory.sp_metadata_identity_center(), role="idp")
    assert codes(report) == {"no_idp_role"} and "role: sp" in report.findings[0].message


@pytest.mark.parametrize("forms", [("ipv4",), ("dual_stack",), ("legacy",), ("ipv4", "dual_stack", "legacy")],
                         ids=["ipv4", "dual_stack", "legacy", "all"])
def test_identity_center_sp_forms(forms):
    document = factory.sp_metadata_identity_center("eu-west-1", "d-93670c4a5b", acs_forms=forms,
                                                   extra_regions=("eu-central-1",))
    report = analyze_metadata(document, role="sp")
    facts = report.to_facts()
    assert report.valid and facts["region"] == "eu-west-1" and facts["identity_store_id"] == "d-93670c4a5b"
    assert [(url["region"], url["form"]) for url in facts["acs_urls"]] == \
        [(region, form) for region in ("eu-west-1", "eu-central-1") for form in forms]
    assert {url["tenant"] for url in facts["acs_urls"]} == {"ssoins-72235d1f8b6bc3a7"}


def test_identity_center_sp_problems():
    no_email = analyze_metadata(factory.sp_metadata_identity_center(name_id_format=factory.PERSISTENT), role="sp")
    assert ("name_id_email_missing", "error") in {(item.code, item.severity) for item in no_email.findings}
    foreign = factory.sp_metadata_identity_center().replace(b"https://us-east-1.signin.aws.amazon.com/platform/saml/",
                                                            b"https://sp.example.test/")
    assert "identity_center_issuer_unrecognized" in codes(analyze_metadata(foreign, role="sp"))
    assert analyze_metadata(foreign, role="sp", target="generic").valid
    clear = factory.sp_metadata_identity_center().replace(b'Location="https://us-east-1.signin.aws/',
                                                          b'Location="http://us-east-1.signin.aws/')
    assert "acs_not_https" in codes(analyze_metadata(clear, role="sp"))


def test_iam_size_limits():
    small = analyze_metadata(b'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x">'
                             b'<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/>'
                             b'</md:EntityDescriptor>', target="iam")
    assert "exceeds_iam_limit" in codes(small)
    assert "exceeds_iam_limit" not in codes(analyze_metadata(factory.idp_metadata(), target="iam"))


def test_every_finding_code_is_documented_in_the_module():
    from pathlib import Path

    from ansible_collections.idfed.aws_sso.plugins.module_utils._saml.findings import CODES

    module_doc = (Path(__file__).resolve().parents[5] / "plugins" / "modules" / "saml_metadata_info.py").read_text()
    assert [code for code in CODES if "C({0})".format(code) not in module_doc] == []
