# -*- coding: utf-8 -*-
"""Metadata signatures: integrity, trust, placement (wrapping) and algorithms, cross-checked with xmlsec1."""

from __future__ import annotations

import shutil

import pytest
import saml_factory as factory  # tests/support, see conftest.py

from ansible_collections.idfed.aws_sso.plugins.module_utils._saml.metadata import analyze_metadata
from saml_corpus import corpus_params  # tests/support, see conftest.py

SIGNER = factory.make_certificate(factory.make_key("rsa", 2048, 5), subject_cn="metadata signer")
OTHER = factory.make_certificate(factory.make_key("rsa", 2048, 6), subject_cn="someone else")
UNSIGNED = factory.idp_metadata()
SIGNED = factory.sign(UNSIGNED, SIGNER)
needs_xmlsec1 = pytest.mark.skipif(shutil.which("xmlsec1") is None, reason="xmlsec1 is not installed")


def codes(report) -> set[str]:
    return {item.code for item in report.findings}


def test_signed_and_valid():
    report = analyze_metadata(SIGNED)
    assert report.valid and report.findings == []
    assert report.signature.present and report.signature.valid and not report.signature.trusted
    assert report.signature.algorithm == "rsa-sha256" and report.signature.digest_algorithm == "sha256"
    assert report.signature.signer_fingerprint_sha256 == SIGNER.fingerprint_sha256


@pytest.mark.parametrize("form", ["pem", "fingerprint", "bare_lowercase_fingerprint"])
def test_trusted_signer(form):
    anchor = {"pem": SIGNER.pem, "fingerprint": SIGNER.fingerprint_sha256,
              "bare_lowercase_fingerprint": SIGNER.fingerprint_sha256.replace(":", "").lower()}[form]
    report = analyze_metadata(SIGNED, require_signature=True, trusted_certificates=[OTHER.pem, anchor])
    assert report.valid and report.signature.trusted


def test_untrusted_signer_is_invalid():
    report = analyze_metadata(SIGNED, trusted_certificates=[OTHER.pem])
    assert "signature_invalid" in codes(report) and not report.valid
    assert SIGNER.fingerprint_sha256 in next(item.message for item in report.findings if item.code == "signature_invalid")


def _invalid_messages(report) -> list[str]:
    return [item.message for item in report.findings if item.code == "signature_invalid"]


@pytest.mark.parametrize("case,reason", [
    ("embedded_certificate_of_another_key", "the signature value does not match the signed content"),
    ("untrusted_signer", "the signature value does not match the signed content"),
    ("changed_after_signing", "the signed content does not match its digest"),
])
def test_a_failed_signature_says_why(case, reason):
    """cryptography's InvalidSignature has no text: signxml's 'Signature verification failed: ' must not
    reach the user as an empty reason."""
    document, anchors = {
        "embedded_certificate_of_another_key": (factory.sign(UNSIGNED, SIGNER.key, OTHER.cert), ()),
        "untrusted_signer": (SIGNED, [OTHER.pem]),
        "changed_after_signing": (factory.tamper(SIGNED), ()),
    }[case]
    [message] = _invalid_messages(analyze_metadata(document, trusted_certificates=anchors))
    assert reason in message, message
    assert "()" not in message and ": )" not in message and ": ." not in message


@needs_xmlsec1
def test_tampered_signature_fails_here_and_in_xmlsec1():
    tampered = factory.tamper(SIGNED)
    assert not factory.xmlsec1_verify(tampered, SIGNER)
    report = analyze_metadata(tampered)
    assert "signature_invalid" in codes(report) and not report.signature.valid


@needs_xmlsec1
@pytest.mark.parametrize("attack", ["moved_into_role", "wrapped_new_id", "wrapped_duplicate_id"])
def test_relocated_and_wrapped_signatures_are_refused(attack):
    document = {
        "moved_into_role": lambda: factory.move_signature_into_role(SIGNED),
        "wrapped_new_id": lambda: factory.wrap_signature(SIGNED),
        "wrapped_duplicate_id": lambda: factory.wrap_signature(SIGNED, keep_id=True),
    }[attack]()
    report = analyze_metadata(document, trusted_certificates=[SIGNER.pem])
    assert "signature_invalid" in codes(report), [item.message for item in report.findings]
    assert not report.signature.valid and not report.valid


def test_required_signature_missing():
    report = analyze_metadata(UNSIGNED, require_signature=True)
    assert codes(report) == {"signature_missing"}
    assert analyze_metadata(UNSIGNED).valid


@needs_xmlsec1
def test_sha1_signature_is_a_warning_unless_relied_on():
    sha1 = factory.sign(UNSIGNED, SIGNER, algorithm="rsa-sha1", digest="sha1")
    assert factory.xmlsec1_verify(sha1, SIGNER)
    loose = analyze_metadata(sha1)
    assert loose.valid and loose.signature.valid and loose.signature.algorithm == "rsa-sha1"
    assert {(item.code, item.severity) for item in loose.findings} == {("weak_signature_algorithm", "warning")}
    relied = analyze_metadata(sha1, trusted_certificates=[SIGNER.fingerprint_sha256])
    assert ("weak_signature_algorithm", "error") in {(item.code, item.severity) for item in relied.findings}


def test_signature_without_certificate_is_unverifiable():
    from lxml import etree

    root = etree.fromstring(SIGNED)
    key_info = root.find(".//{http://www.w3.org/2000/09/xmldsig#}Signature/{http://www.w3.org/2000/09/xmldsig#}KeyInfo")
    key_info.getparent().remove(key_info)
    bare = etree.tostring(root)
    assert {(item.code, item.severity) for item in analyze_metadata(bare).findings} == {("signature_unverifiable", "warning")}
    trusted = analyze_metadata(bare, trusted_certificates=[SIGNER.pem])
    assert trusted.valid and trusted.signature.trusted


@needs_xmlsec1
def test_signed_aggregate_covers_the_selected_entity():
    aggregate = factory.sign(factory.entities_aggregate([
        factory.idp_metadata("https://a.example.test/idp", entity_ref="_a"),
        factory.idp_metadata("https://b.example.test/idp", entity_ref="_b"),
    ]), SIGNER)
    assert factory.xmlsec1_verify(aggregate, SIGNER, "EntitiesDescriptor")
    report = analyze_metadata(aggregate, entity_id="https://b.example.test/idp", trusted_certificates=[SIGNER.pem])
    assert report.valid and report.signature.signed_element == "EntitiesDescriptor"
    assert report.entities == ["https://a.example.test/idp", "https://b.example.test/idp"]
    assert "ambiguous_entity" in codes(analyze_metadata(aggregate))


def test_signed_entity_inside_an_unsigned_aggregate():
    entity = factory.sign(factory.idp_metadata("https://a.example.test/idp", entity_ref="_a"), SIGNER)
    aggregate = factory.entities_aggregate([entity, factory.idp_metadata("https://b.example.test/idp", entity_ref="_b")])
    report = analyze_metadata(aggregate, entity_id="https://a.example.test/idp", trusted_certificates=[SIGNER.pem])
    assert report.valid and report.signature.signed_element == "EntityDescriptor"
    unsigned = analyze_metadata(aggregate, entity_id="https://b.example.test/idp", require_signature=True)
    assert "signature_missing" in codes(unsigned)


def _both_verifiers(document: bytes, cert) -> tuple[bool | None, bool]:
    """(fast path, signxml) verdicts on the root signature of `document` with `cert`."""
    from lxml import etree

    from ansible_collections.idfed.aws_sso.plugins.module_utils._saml.signature import DS_SIGNATURE, _verify, verify_fast
    from ansible_collections.idfed.aws_sso.plugins.module_utils._saml.xmlparse import parse_xml

    root = parse_xml(document, max_size=len(document))
    before = etree.tostring(root)
    fast = verify_fast(root.find(DS_SIGNATURE), cert)
    assert etree.tostring(root) == before, "the fast path must not change the tree"
    try:
        _verify(document, cert)
        slow = True
    except Exception:  # pylint: disable=broad-except  # any signxml refusal
        slow = False
    return fast, slow


def _pretty_signed() -> bytes:
    """A pretty-printed document whose signature has tail text: the enveloped transform must keep it."""
    from lxml import etree

    pretty = etree.tostring(etree.fromstring(UNSIGNED), pretty_print=True)
    root = etree.fromstring(factory.sign(pretty, SIGNER))
    signature = root[0]
    root.text, signature.tail = None, root.text
    return etree.tostring(root)


GENERATED = {
    "rsa_sha256": lambda: (SIGNED, SIGNER, True),
    "rsa_sha1": lambda: (factory.sign(UNSIGNED, SIGNER, algorithm="rsa-sha1", digest="sha1"), SIGNER, True),
    "rsa_sha512": lambda: (factory.sign(UNSIGNED, SIGNER, algorithm="rsa-sha512", digest="sha512"), SIGNER, True),
    "ecdsa_p256": lambda: (factory.sign(UNSIGNED, EC_SIGNER), EC_SIGNER, True),
    "pretty_with_tail": lambda: (_pretty_signed(), SIGNER, True),
    "tampered": lambda: (factory.tamper(SIGNED), SIGNER, False),
    "wrong_key": lambda: (SIGNED, OTHER, False),
    "aggregate": lambda: (factory.sign(factory.entities_aggregate([
        factory.idp_metadata("https://a.example.test/idp", entity_ref="_a"),
        factory.sp_metadata_identity_center()]), SIGNER), SIGNER, True),
}
EC_SIGNER = factory.make_certificate(factory.make_key("ec", 256), subject_cn="ec signer")


@needs_xmlsec1
@pytest.mark.parametrize("case", sorted(GENERATED))
def test_fast_path_agrees_with_signxml_and_xmlsec1(case):
    document, issued, expected = GENERATED[case]()
    fast, slow = _both_verifiers(document, issued.cert)
    assert fast is not None, "this signature is inside the fast path's profile"
    assert fast == slow == expected
    root_tag = "EntitiesDescriptor" if case == "aggregate" else "EntityDescriptor"
    assert factory.xmlsec1_verify(document, issued, root_tag) is expected


def _signed_metadata(params):
    """Corpus files with a root metadata signature that embeds its certificate."""
    def signed(param) -> bool:
        path = param.values[0]
        if path is None:
            return True  # the 'corpus absent' placeholder, which skips
        data = path.read_bytes()
        return (b"SignatureValue" in data and b"X509Certificate" in data and b"<!DOCTYPE" not in data
                and b":Response" not in data and b"corrupted" not in path.name.encode())
    return [param for param in params if signed(param)]


@pytest.mark.parametrize("path", _signed_metadata(corpus_params("idp") + corpus_params("bad")))
def test_fast_path_agrees_with_signxml_on_real_signatures(path):
    from lxml import etree

    from ansible_collections.idfed.aws_sso.plugins.module_utils._saml.certificate import load_certificate

    data = path.read_bytes()
    signature = etree.fromstring(data).find("{http://www.w3.org/2000/09/xmldsig#}Signature")
    cert = load_certificate(signature.findtext(".//{http://www.w3.org/2000/09/xmldsig#}X509Certificate"))
    fast, slow = _both_verifiers(data, cert)
    assert fast in (None, slow)


def _signature_value_copied_into_key_name() -> bytes:
    """The SignatureValue text a second time, in KeyInfo (outside what the digest covers): still valid."""
    from lxml import etree

    root = etree.fromstring(SIGNED)
    ds = "{http://www.w3.org/2000/09/xmldsig#}"
    signature = root.find(ds + "Signature")
    key_name = etree.Element(ds + "KeyName")
    key_name.text = signature.findtext(ds + "SignatureValue").strip()
    signature.find(ds + "KeyInfo").insert(0, key_name)
    return etree.tostring(root)


def _signed_with_inclusive_prefixes() -> bytes:
    """An InclusiveNamespaces PrefixList="md" on the exclusive-c14n transform: the signature renders
    xmlns:md on its own but not inside the root. signxml only puts a PrefixList on SignedInfo's
    canonicalisation, so the digest and signature are redone here (xmlsec1 checks the result)."""
    import base64
    import copy
    import hashlib

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from lxml import etree

    ds, ec = "{http://www.w3.org/2000/09/xmldsig#}", "{http://www.w3.org/2001/10/xml-exc-c14n#}"
    root = etree.fromstring(SIGNED)
    signature = root.find(ds + "Signature")
    transform = signature.findall(".//" + ds + "Transform")[1]
    etree.SubElement(transform, ec + "InclusiveNamespaces", PrefixList="md")
    unsigned = copy.deepcopy(root)
    unsigned.remove(unsigned.find(ds + "Signature"))
    payload = etree.tostring(unsigned, method="c14n", exclusive=True, inclusive_ns_prefixes=["md"])
    signature.find(".//" + ds + "DigestValue").text = base64.b64encode(hashlib.sha256(payload).digest()).decode()
    signed_info = etree.tostring(signature.find(ds + "SignedInfo"), method="c14n", exclusive=True)
    signature.find(ds + "SignatureValue").text = base64.b64encode(
        SIGNER.key.sign(signed_info, padding.PKCS1v15(), hashes.SHA256())).decode()
    return etree.tostring(root)


# The fast path steps aside (None) where cutting the signature out of the canonical form would not be
# exact; signxml then gives the verdict, and it must be the right one.
OUTSIDE_THE_FAST_PATH = {
    "signature_value_twice": _signature_value_copied_into_key_name,
    "inclusive_prefix_list": _signed_with_inclusive_prefixes,
}


@needs_xmlsec1
@pytest.mark.parametrize("case", sorted(OUTSIDE_THE_FAST_PATH))
def test_fast_path_steps_aside_when_the_cut_would_not_be_exact(case):
    document = OUTSIDE_THE_FAST_PATH[case]()
    fast, slow = _both_verifiers(document, SIGNER.cert)
    assert fast is None and slow is True
    assert factory.xmlsec1_verify(document, SIGNER, "EntityDescriptor") is True
    report = analyze_metadata(document, trusted_certificates=[SIGNER.pem])
    assert report.valid and report.signature.valid, report.findings
