# -*- coding: utf-8 -*-
"""Every real-world file of ../shared/corpus/saml: bad files get their code, good files match real SAML libraries."""

from __future__ import annotations

import base64

import pytest

from ansible_collections.idfed.aws_sso.plugins.module_utils._saml.certificate import analyze_certificate, fingerprint, load_certificate
from ansible_collections.idfed.aws_sso.plugins.module_utils._saml.metadata import analyze_metadata

from saml_corpus import corpus_file, corpus_params  # tests/support, see conftest.py

# file-name prefix -> (kind, codes that must be among the findings), from corpus/saml/EXPECTED.md
EXPECTED_BAD = {
    "adfs-digest-mismatch": ("metadata", {"signature_invalid"}),
    "billion-laughs": ("metadata", {"xml_forbidden_construct"}),
    "quadratic-blowup": ("metadata", {"xml_forbidden_construct"}),
    "xxe-external-file": ("metadata", {"xml_forbidden_construct"}),
    "xxe-external-url": ("metadata", {"xml_forbidden_construct"}),
    "double-b64-pem-cert": ("metadata", {"certificate_malformed"}),
    "double-b64-pem-cert-entities": ("metadata", {"ambiguous_entity"}),
    "empty-file": ("metadata", {"xml_malformed"}),
    "malformed-xml": ("metadata", {"xml_malformed"}),
    "multiple-roots": ("metadata", {"xml_malformed"}),
    "expired-validuntil": ("metadata", {"metadata_expired"}),
    "no-idpssodescriptor": ("metadata", {"no_idp_role"}),
    "not-metadata": ("metadata", {"not_metadata"}),
    "wrong-root-element": ("metadata", {"not_metadata"}),
    "invalid-pem": ("certificate", {"certificate_malformed"}),
    "malformed-pem": ("certificate", {"certificate_malformed"}),
    "okta-wrong-cert": ("metadata", set()),
    "schema-error": ("metadata", set()),
    "xsw-signedinfo-wrapped": ("metadata", {"not_metadata"}),
    "xsw": ("metadata", {"not_metadata"}),
}
MD = "urn:oasis:names:tc:SAML:2.0:metadata"


def _prefix(path) -> str:
    return path.name.split("__")[0]


@pytest.mark.parametrize("path", corpus_params("bad"))
def test_bad_file_gets_its_code(path):
    kind, expected = EXPECTED_BAD[_prefix(path)]
    data = path.read_bytes()
    report = analyze_certificate(data) if kind == "certificate" else analyze_metadata(data, role="idp")
    codes = {item.code for item in report.findings}
    assert expected <= codes, (codes, [item.message for item in report.findings])
    if expected:
        assert not report.valid
    for item in report.findings:
        assert item.message and "Traceback" not in item.message


def test_bad_entities_file_with_an_entity_picked():
    """Two IdPs, each with a double-base64 certificate: picking either one reports the certificate."""
    data = corpus_file("bad", "double-b64-pem-cert-entities").read_bytes()
    for entity_id in analyze_metadata(data).entities:
        codes = {item.code for item in analyze_metadata(data, entity_id=entity_id).findings}
        assert "certificate_malformed" in codes


def test_schema_error_aggregate_still_yields_the_idp():
    data = corpus_file("bad", "schema-error").read_bytes()
    by_role = analyze_metadata(data, role="idp", target="generic")
    by_id = analyze_metadata(data, entity_id="https://sharav.abes.fr/idp/shibboleth", target="generic")
    assert by_role.entity_id == by_id.entity_id == "https://sharav.abes.fr/idp/shibboleth"
    assert by_role.sso_services and by_role.certificates


def test_okta_wrong_cert_has_no_error_of_its_own():
    report = analyze_metadata(corpus_file("bad", "okta-wrong-cert").read_bytes())
    assert report.errors == [] or {item.code for item in report.errors} <= {"certificate_expired"}


def _pick_entity(report_entities, data) -> str | None:
    """For aggregates, the first entity with an IdP role (the peers need an explicit entity too)."""
    if len(report_entities) <= 1:
        return None
    for entity_id in report_entities:
        if analyze_metadata(data, entity_id=entity_id, target="generic").sso_services:
            return entity_id
    return None


def _b64_fingerprint(body: str) -> str:
    return fingerprint(load_certificate(base64.b64decode("".join(body.split()))))


@pytest.mark.parametrize("path", corpus_params("idp"))
def test_idp_file_matches_python3_saml(path):
    parser = pytest.importorskip("onelogin.saml2.idp_metadata_parser").OneLogin_Saml2_IdPMetadataParser
    data = path.read_bytes()
    entity_id = _pick_entity(analyze_metadata(data, target="generic").entities, data)
    ours = analyze_metadata(data, target="generic", entity_id=entity_id)
    assert ours.entity_id, [item.message for item in ours.findings]
    theirs = parser.parse(data.decode("utf-8"), entity_id=entity_id)["idp"]
    assert theirs["entityId"] == ours.entity_id
    our_sso = {(item["binding"], item["location"]) for item in ours.sso_services}
    if theirs.get("singleSignOnService"):
        assert (theirs["singleSignOnService"]["binding"], theirs["singleSignOnService"]["url"]) in our_sso
    their_bodies = theirs.get("x509certMulti", {}).get("signing") or ([theirs["x509cert"]] if theirs.get("x509cert") else [])
    our_signing = {item["fingerprint_sha256"] for item in ours.certificates if item["use"] != "encryption"}
    assert {_b64_fingerprint(body) for body in their_bodies} <= our_signing


def _pysaml2_store(data: bytes):
    """pysaml2's MetadataStore over one document, without its validUntil check (the corpus is old)."""
    mdstore = pytest.importorskip("saml2.mdstore")
    config = pytest.importorskip("saml2.config")
    converters = pytest.importorskip("saml2.attribute_converter")
    store = mdstore.MetadataStore(converters.ac_factory(), config.Config(), disable_ssl_certificate_validation=True)
    # MetadataStore.load("inline", ...) drops check_validity, so load the in-memory source directly.
    source = mdstore.InMemoryMetaData(converters.ac_factory(), data.decode("utf-8"), check_validity=False)
    source.load()
    store.metadata["inline"] = source
    return store


@pytest.mark.parametrize("path", corpus_params("idp"))
def test_idp_file_matches_pysaml2(path):
    data = path.read_bytes()
    ours_all = analyze_metadata(data, target="generic")
    store = _pysaml2_store(data)
    assert set(store.keys()) == set(ours_all.entities)
    for entity_id in store.keys():
        ours = analyze_metadata(data, entity_id=entity_id, target="generic")
        for binding in ("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect", "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"):
            try:
                theirs = {service["location"] for service in store.single_sign_on_service(entity_id, binding)}
            except Exception:  # pylint: disable=broad-except  # pysaml2 raises for an entity without that role
                theirs = set()
            ours_locations = {item["location"] for item in ours.sso_services if item["binding"] == binding}
            assert theirs == ours_locations, (entity_id, binding)
        try:
            their_certs = store.certs(entity_id, "idpsso", use="signing")
        except Exception:  # pylint: disable=broad-except
            their_certs = []
        ours_fps = {item["fingerprint_sha256"] for item in ours.certificates if item["use"] != "encryption"}
        readable = set()
        for _name, body in their_certs:
            try:
                readable.add(_b64_fingerprint(body))
            except Exception:  # pylint: disable=broad-except  # pysaml2 passes unreadable bodies through
                continue
        assert readable <= ours_fps, entity_id


@pytest.mark.parametrize("path", corpus_params("sp"))
def test_sp_file_facts(path):
    data = path.read_bytes()
    is_identity_center = _prefix(path) == "aws-iam-identity-center"
    ours = analyze_metadata(data, role="sp", target="identity_center" if is_identity_center else "iam")
    store = _pysaml2_store(data)
    assert list(store.keys()) == [ours.entity_id]
    theirs = {service["location"] for service in store.assertion_consumer_service(
        ours.entity_id, "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST")}
    assert theirs == {item["location"] for item in ours.acs_services if item["binding"].endswith("HTTP-POST")}
    if is_identity_center:
        assert ours.valid, [item.message for item in ours.findings]
        facts = ours.to_facts()
        assert facts["region"] and facts["identity_store_id"].startswith("d-")
        assert facts["entity_id"].endswith("/" + facts["identity_store_id"])
        assert len(facts["acs_urls"]) == len(ours.acs_services)
        assert {url["tenant"] for url in facts["acs_urls"]} and all(url["location"].startswith("https://") for url in facts["acs_urls"])
