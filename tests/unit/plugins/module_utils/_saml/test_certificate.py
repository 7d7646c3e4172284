# -*- coding: utf-8 -*-
"""Certificate loading and rules on generated certificates."""

from __future__ import annotations

import base64

import pytest
import saml_factory as factory  # tests/support, see conftest.py

from ansible_collections.idfed.aws_sso.plugins.module_utils._saml.certificate import (
    analyze_certificate,
    load_certificate,
    normalize_fingerprint,
)
from ansible_collections.idfed.aws_sso.plugins.module_utils._saml.findings import SamlError
from ansible_collections.idfed.aws_sso.plugins.module_utils._saml.references import reference_fingerprints


def codes(report) -> set[str]:
    return {item.code for item in report.findings}


def test_current_certificate_is_valid_and_described():
    issued = factory.make_certificate(days_valid=400)
    report = analyze_certificate(issued.pem)
    facts = report.to_facts()
    assert facts["valid"] and facts["findings"] == []
    cert = facts["certificate"]
    assert cert["fingerprint_sha256"] == issued.fingerprint_sha256
    assert cert["key_type"] == "RSA" and cert["key_size"] == 2048
    assert cert["signature_algorithm"] == "sha256WithRSAEncryption"
    assert cert["subject"] == "CN=idp.example.test" and 397 <= cert["days_left"] <= 399
    assert cert["pem"] == issued.pem


@pytest.mark.parametrize("form", ["pem", "der", "b64", "b64_wrapped"])
def test_every_encoding_loads_the_same_certificate(form):
    issued = factory.make_certificate()
    data = {"pem": issued.pem, "der": issued.der, "b64": issued.b64,
            "b64_wrapped": "\n".join(issued.b64[i:i + 64] for i in range(0, len(issued.b64), 64))}[form]
    assert analyze_certificate(data).certificate["fingerprint_sha256"] == issued.fingerprint_sha256


RULE_CASES = {
    "expired": (lambda: dict(not_before=factory.utc(-400), days_valid=365), "certificate_expired", False),
    "not_yet_valid": (lambda: dict(not_before=factory.utc(10), days_valid=365), "certificate_not_yet_valid", False),
    "expiring": (lambda: dict(not_before=factory.utc(-360), days_valid=370), "certificate_expiring", True),
    "rsa_1024": (lambda: dict(key=factory.make_key("rsa", 1024)), "weak_key", False),
    "sha1_self_signed": (lambda: dict(hash_alg="sha1"), "weak_certificate_signature", True),
}


@pytest.mark.parametrize("case", sorted(RULE_CASES))
def test_rules(case):
    make_kwargs, code, valid = RULE_CASES[case]
    report = analyze_certificate(factory.make_certificate(**make_kwargs()).pem)
    assert code in codes(report)
    assert report.valid is valid
    message = next(item.message for item in report.findings if item.code == code)
    assert "CN=idp.example.test" in message


def test_expiry_warning_window_is_configurable():
    issued = factory.make_certificate(not_before=factory.utc(-300), days_valid=360)
    assert "certificate_expiring" not in codes(analyze_certificate(issued.pem, expiry_warning_days=30))
    assert "certificate_expiring" in codes(analyze_certificate(issued.pem, expiry_warning_days=90))


def test_ec_p256_is_strong_enough():
    report = analyze_certificate(factory.make_certificate(factory.make_key("ec", 256)).pem)
    assert report.valid and report.certificate["key_type"] == "EC" and report.certificate["key_size"] == 256


@pytest.mark.parametrize("data,fragment", [
    ("", "empty"),
    ("not base64 at all!", "not valid base64"),
    (base64.b64encode(b"hello world").decode(), "not an X.509"),
    ("-----BEGIN CERTIFICATE-----\nMIIB\n", "no END line"),
    ("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "not a CERTIFICATE"),
])
def test_malformed_inputs_are_named(data, fragment):
    report = analyze_certificate(data)
    assert codes(report) == {"certificate_malformed"}
    assert fragment in report.findings[0].message
    assert report.certificate == {}


def test_double_base64_pem_is_explained():
    issued = factory.make_certificate()
    with pytest.raises(SamlError) as caught:
        load_certificate(base64.b64encode(issued.pem.encode()).decode())
    assert "base64-encoded a second time" in caught.value.finding.message


@pytest.mark.parametrize("text", [
    "AB:" * 31 + "EF",
    ("abcd" * 16),
    "sha256:" + "AB" * 32,
    "SHA256 Fingerprint=" + ":".join(["0f"] * 32),
], ids=["colons", "bare", "prefixed", "openssl"])
def test_fingerprint_forms(text):
    normalized = normalize_fingerprint(text)
    assert normalized is not None and len(normalized) == 95 and normalized == normalized.upper()


def test_fingerprint_rejects_other_digests():
    assert normalize_fingerprint("AB:CD:EF") is None
    assert normalize_fingerprint("da39a3ee5e6b4b0d3255bfef95601890afd80709") is None  # SHA-1


def test_compare_to_metadata_pem_and_fingerprint():
    issued, other = factory.make_certificate(), factory.make_certificate(factory.make_key("rsa", 2048, 1))
    metadata = factory.idp_metadata(signing=[issued]).decode()

    def matches(compare_to):
        return analyze_certificate(issued.pem, compare_to=reference_fingerprints(compare_to, "compare_to")).matches_metadata

    assert matches(metadata) is True
    assert matches([other.pem, issued.fingerprint_sha256.lower()]) is True
    assert matches([issued.b64]) is True
    assert matches([other.pem]) is False
    assert matches(factory.idp_metadata(signing=[other]).decode()) is False


def test_compare_to_garbage_raises_a_named_error():
    with pytest.raises(SamlError, match="compare_to item 2 is not"):
        reference_fingerprints([factory.make_certificate().pem, "nonsense!"], "compare_to")


def test_a_metadata_document_without_certificates_is_no_reference():
    """An empty trust list would silently turn signature trust off: refuse it by name."""
    empty = factory.sp_metadata_identity_center().decode()
    with pytest.raises(SamlError, match="trusted_certificates item 1 .* no readable certificate"):
        reference_fingerprints([empty], "trusted_certificates")


def test_trusted_certificates_and_compare_to_read_references_alike():
    """One rule for both options: a metadata document names its certificates in either."""
    from ansible_collections.idfed.aws_sso.plugins.module_utils._saml.signature import trust_anchors
    issued = factory.make_certificate()
    metadata = factory.idp_metadata(signing=[issued]).decode()
    anchors = trust_anchors([metadata])
    assert anchors.trusts(issued.fingerprint_sha256)
    assert reference_fingerprints([metadata], "compare_to") == {issued.fingerprint_sha256}
