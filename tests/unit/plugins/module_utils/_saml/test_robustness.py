# -*- coding: utf-8 -*-
"""Damaged input never raises: seeded mutations of real and generated metadata and certificates.

The contract of analyze_metadata()/analyze_certificate() is that every problem is a finding. These
tests damage documents the way broken publishers and truncated downloads do (odd attribute values,
garbled text, missing elements, cut-off bytes, flipped certificate bytes) and require a report whose
findings all carry known codes. The seeds are fixed, so a failure names a reproducible case.
"""

from __future__ import annotations

import base64
import random

import pytest
import saml_factory as factory  # tests/support, see conftest.py
from lxml import etree
from saml_corpus import corpus_files

from ansible_collections.idfed.aws_sso.plugins.module_utils._saml.certificate import analyze_certificate
from ansible_collections.idfed.aws_sso.plugins.module_utils._saml.findings import CODES
from ansible_collections.idfed.aws_sso.plugins.module_utils._saml.metadata import analyze_metadata

ODD_VALUES = [
    "", " ", "-1", "99999999999999999999", "2020-13-45T99:99:99Z", "9999-12-31T23:59:59-01:00",
    "0001-01-01T00:00:00+01:00", "2024-02-30T00:00:00Z", "2024-01-01T00:00:00+25:00", "\u00e9\u202e", "true",
    "#_missing", "http://[::1", "x" * 5000, "MIIC" + "A" * 40, "%%%",
]
ATTRIBUTES = ["validUntil", "index", "isDefault", "use", "Binding", "Location", "ID", "entityID",
              "protocolSupportEnumeration", "WantAuthnRequestsSigned"]
MUTATIONS_PER_DOCUMENT = 25


def _documents():
    signer = factory.make_certificate(subject_cn="robustness signer")
    generated = {
        "generated/idp": factory.idp_metadata(signing=[signer], encryption=[factory.make_certificate()]),
        "generated/idp-signed": factory.sign(factory.idp_metadata(signing=[signer]), signer.key, signer),
        "generated/sp": factory.sp_metadata_identity_center(extra_regions=("eu-west-1",)),
    }
    params = [pytest.param(data, id=name) for name, data in generated.items()]
    for kind in ("idp", "sp"):
        params.extend(pytest.param(path.read_bytes(), id=kind + "/" + path.name.split("__")[0])
                      for path in corpus_files(kind))
    return params


def _mutate(data: bytes, rng: random.Random) -> bytes:
    root = etree.fromstring(data)
    elements = [element for element in root.iter() if isinstance(element.tag, str)]
    for _change in range(rng.randint(1, 3)):
        element = rng.choice(elements)
        roll = rng.random()
        if roll < 0.5:
            element.set(rng.choice(list(element.attrib) or ATTRIBUTES), rng.choice(ODD_VALUES))
        elif roll < 0.75:
            element.text = rng.choice(ODD_VALUES)
        elif element.getparent() is not None:
            element.getparent().remove(element)
    return etree.tostring(root)


def _assert_sound(report) -> None:
    facts = report.to_facts()
    assert all(item["code"] in CODES for item in facts["findings"]), facts["findings"]
    assert facts["valid"] == (not any(item["severity"] == "error" for item in facts["findings"]))
    report.upload_document()


@pytest.mark.parametrize("data", _documents())
def test_mutated_metadata_yields_findings_not_exceptions(data):
    rng = random.Random(len(data))
    for _mutation in range(MUTATIONS_PER_DOCUMENT):
        mutated = _mutate(data, rng)
        for role in ("idp", "sp"):
            _assert_sound(analyze_metadata(mutated, role=role, target=rng.choice(("identity_center", "iam", "generic")),
                                           require_signature=rng.random() < 0.3))


@pytest.mark.parametrize("data", _documents())
def test_truncated_metadata_is_malformed(data):
    for cut in range(1, len(data), max(1, len(data) // 20)):
        report = analyze_metadata(data[:cut])
        _assert_sound(report)
        assert not report.valid


@pytest.mark.parametrize("value", ["2020-13-45T00:00:00Z", "2024-02-30T00:00:00Z", "2024-01-01T25:00:00Z",
                                   "2024-01-01T00:00:00+25:00", "9999-12-31T23:59:59-01:00", "soon"])
def test_impossible_valid_until_is_named(value):
    report = analyze_metadata(factory.idp_metadata(valid_until=value))
    malformed = [item for item in report.findings if item.code == "xml_malformed"]
    assert malformed and value in malformed[0].message, report.findings
    assert report.valid_until is None


def test_valid_until_at_24_00_is_midnight_of_the_next_day():
    report = analyze_metadata(factory.idp_metadata(valid_until="2099-12-31T24:00:00Z"))
    assert report.valid, report.findings
    assert report.valid_until == "2100-01-01T00:00:00Z"


def test_certificate_with_flipped_bytes_is_malformed_or_read():
    issued = factory.make_certificate(subject_cn="flip target")
    rng = random.Random(7)
    outcomes = set()
    for _attempt in range(300):
        der = bytearray(issued.der)
        for _flip in range(rng.randint(1, 3)):
            der[rng.randrange(len(der))] = rng.randrange(256)
        for form in (bytes(der), base64.b64encode(der), b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der)
                     + b"-----END CERTIFICATE-----\n"):
            report = analyze_certificate(form, compare_to={issued.fingerprint_sha256})
            facts = report.to_facts()
            assert all(item["code"] in CODES for item in facts["findings"])
            if facts["certificate"]:
                assert facts["certificate"]["fingerprint_sha256"] and facts["certificate"]["subject"] is not None
            outcomes.add("read" if facts["certificate"] else "malformed")
    assert outcomes == {"read", "malformed"}  # the corruption both breaks and spares certificates


def _lazily_broken_certificate(issued) -> bytes:
    """A DER copy of `issued` that cryptography loads but whose issuer or subject DN it cannot parse
    (it reads names only when asked): the first such single-byte change, searched for, not assumed."""
    from cryptography import x509  # pylint: disable=import-outside-toplevel

    der = issued.der
    for position in range(len(der)):
        for value in (0x5A, 0x1A, 0x3A, 0x7F):
            damaged = der[:position] + bytes([value]) + der[position + 1:]
            try:
                cert = x509.load_der_x509_certificate(damaged)
            except (ValueError, x509.InvalidVersion):
                continue
            try:
                cert.issuer, cert.subject  # noqa: B018 pylint: disable=pointless-statement
            except ValueError:
                return damaged
    raise AssertionError("no single-byte change breaks only the names")


def test_metadata_with_an_unreadable_certificate_name_reports_it():
    """A certificate broken inside its DN loads in cryptography: the analysis must still name it
    certificate_malformed instead of failing later while describing it."""
    issued = factory.make_certificate(subject_cn="damaged name")
    body = base64.b64encode(_lazily_broken_certificate(issued))
    report = analyze_metadata(factory.idp_metadata(signing=[issued]).replace(issued.b64.encode(), body))
    assert {"certificate_malformed", "no_signing_certificate"} <= {item.code for item in report.findings}
    _assert_sound(report)
    certificate = analyze_certificate(body)
    assert [item.code for item in certificate.findings] == ["certificate_malformed"]
    assert certificate.to_facts()["certificate"] == {}


def test_names_are_read_when_a_signature_certificate_is_also_a_signing_key():
    """The KeyInfo certificate is loaded for its key alone; when the same certificate is also a
    KeyDescriptor, the full read must still happen and report the damaged name."""
    issued = factory.make_certificate(subject_cn="damaged name")
    signed = factory.sign(factory.idp_metadata(signing=[issued]), issued.key, issued)
    root = etree.fromstring(signed)
    bodies = root.findall(".//{%s}X509Certificate" % factory.DS)
    assert len(bodies) == 2  # the KeyDescriptor's and the signature's KeyInfo
    for body in bodies:
        body.text = base64.b64encode(_lazily_broken_certificate(issued)).decode("ascii")
    report = analyze_metadata(etree.tostring(root))
    assert "certificate_malformed" in {item.code for item in report.findings}, report.findings
    _assert_sound(report)
