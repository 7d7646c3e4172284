# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""iam_saml_provider: metadata compared by meaning, the provider name check, and the tag and private-key plan."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from lxml import etree

from ansible_collections.idfed.aws_sso.plugins.module_utils._aws import iam_saml
from ansible_collections.idfed.aws_sso.plugins.modules import iam_saml_provider as module_under_test

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "support"))
import saml_factory as factory  # noqa: E402  pylint: disable=wrong-import-position

SIGNER = factory.make_certificate(factory.make_key(index=41), subject_cn="unit signer")
OTHER = factory.make_certificate(factory.make_key(index=42), subject_cn="unit other signer")
ENCRYPTION = factory.make_certificate(factory.make_key(index=43), subject_cn="unit encryption")
BASE = dict(entity_id="https://idp.example.test/saml", sso_location="https://idp.example.test/sso",
            valid_until="2050-01-01T00:00:00Z")


def canonical(document: bytes) -> dict:
    return iam_saml.canonical_metadata(iam_saml.analyze(document))


def reformat(document: bytes) -> bytes:
    """Another export of the same metadata: default namespace, indentation, attributes reordered, wrapped base64."""
    text = etree.tostring(etree.fromstring(document), pretty_print=True, encoding="unicode")
    text = text.replace("md:", "").replace("xmlns:md=", "xmlns=")
    text = re.sub(r'Binding="([^"]+)" Location="([^"]+)"', r'Location="\2"  Binding="\1"', text)
    text = re.sub(r"<ds:X509Certificate>([^<]+)</ds:X509Certificate>",
                  lambda match: "<ds:X509Certificate>\n" + "\n".join(
                      match.group(1)[index:index + 64] for index in range(0, len(match.group(1)), 64))
                  + "\n</ds:X509Certificate>", text)
    return ("<?xml version='1.0'?>\n<!-- exported again -->\n" + text).encode()


ORIGINAL = factory.idp_metadata(signing=[SIGNER], **BASE)


@pytest.mark.parametrize("same", [
    reformat(ORIGINAL),
    factory.idp_metadata(signing=[SIGNER], encryption=[ENCRYPTION], **BASE),  # IAM never uses the IdP's encryption key
    factory.sign(ORIGINAL, SIGNER.key, SIGNER.cert),  # a signature on the document
    factory.idp_metadata(signing=[SIGNER], sso_bindings=("HTTP-Redirect", "HTTP-POST"), **BASE),  # other order
    factory.idp_metadata(signing=[SIGNER], name_id_formats=(), **BASE),  # IAM does not read NameID formats
], ids=["reformatted", "encryption key", "signed", "endpoint order", "name id formats"])
def test_the_same_meaning_compares_equal(same: bytes) -> None:
    assert canonical(same) == canonical(ORIGINAL)


@pytest.mark.parametrize("other", [
    factory.idp_metadata(signing=[SIGNER, OTHER], **BASE),
    factory.idp_metadata(signing=[OTHER], **BASE),
    factory.idp_metadata(signing=[SIGNER], **dict(BASE, entity_id="https://idp.example.test/other")),
    factory.idp_metadata(signing=[SIGNER], **dict(BASE, sso_location="https://idp2.example.test/sso")),
    factory.idp_metadata(signing=[SIGNER], **dict(BASE, valid_until="2051-01-01T00:00:00Z")),
    factory.idp_metadata(signing=[SIGNER], **dict(BASE, valid_until=None)),  # a fact that disappears is a change
], ids=["certificate added", "certificate replaced", "entity id", "sso location", "valid until", "no valid until"])
def test_a_change_of_meaning_differs(other: bytes) -> None:
    assert canonical(other) != canonical(ORIGINAL)


def test_the_canonical_facts() -> None:
    facts = canonical(factory.idp_metadata(signing=[SIGNER], unspecified=[OTHER], encryption=[ENCRYPTION], **BASE))
    assert facts["entity_id"] == BASE["entity_id"]
    assert facts["valid_until"] == BASE["valid_until"]
    assert [item["fingerprint_sha256"] for item in facts["signing_certificates"]] == sorted(
        [SIGNER.fingerprint_sha256, OTHER.fingerprint_sha256])  # use="" signs too; encryption does not
    assert {item["binding"].rsplit(":", 1)[-1] for item in facts["sso_services"]} == {"HTTP-POST", "HTTP-Redirect"}


@pytest.mark.parametrize("name, ok", [
    ("corp-idp", True), ("Corp_IdP.2026", True), ("x" * 128, True),
    ("", False), ("x" * 129, False), ("corp idp", False), ("corp/idp", False), ("corp+idp", False), ("ünï", False),
])
def test_provider_names_follow_the_model(name: str, ok: bool) -> None:
    assert (iam_saml.check_provider_name(name) is None) is ok


class Failed(Exception):
    pass


class FakeModule:
    check_mode = False
    _diff = False
    no_log_values: set = set()

    def __init__(self, **params) -> None:
        defaults = dict(name="corp-idp", assertion_encryption_mode=None, private_key=None, update_private_key="on_create",
                        remove_private_keys=[], tags=None, purge_tags=True)
        self.params = dict(defaults, **params)

    def fail_json(self, **kwargs):
        raise Failed(kwargs["msg"])


def provider(**overrides) -> dict:
    before = {"name": "corp-idp", "arn": "arn:aws:iam::123456789012:saml-provider/corp-idp", "metadata": canonical(ORIGINAL),
              "assertion_encryption_mode": None, "tags": {"owner": "a"}, "private_keys": [], "valid_until": None,
              "create_date": None, "saml_provider_uuid": "u"}
    return dict(before, **overrides)


def test_an_identical_provider_is_unchanged() -> None:
    planned, _changes = module_under_test.plan_present(FakeModule(tags={"owner": "a"}), provider(), canonical(ORIGINAL))
    assert planned.outcome == "unchanged" and planned.changed_keys == ()


def test_metadata_mode_and_tags_are_changes_and_tags_merge_without_purge() -> None:
    module = FakeModule(tags={"team": "b"}, purge_tags=False, assertion_encryption_mode="Required")
    other = canonical(factory.idp_metadata(signing=[OTHER], **BASE))
    planned, changes = module_under_test.plan_present(module, provider(), other)
    assert planned.outcome == "updated"
    assert planned.changed_keys == ("assertion_encryption_mode", "metadata", "tags")
    assert planned.after["tags"] == {"owner": "a", "team": "b"} and changes.unset_tags == []


def test_a_private_key_is_added_only_where_none_is_held_unless_always() -> None:
    held = provider(private_keys=[{"key_id": "K1", "timestamp": None}])
    _planned, changes = module_under_test.plan_present(FakeModule(private_key="PEM"), held, canonical(ORIGINAL))
    assert changes.add_key is None
    _planned, changes = module_under_test.plan_present(FakeModule(private_key="PEM"), provider(), canonical(ORIGINAL))
    assert changes.add_key == "PEM"
    planned, changes = module_under_test.plan_present(FakeModule(private_key="PEM", update_private_key="always"), held,
                                                      canonical(ORIGINAL))
    assert changes.add_key == "PEM" and planned.changed_keys == ("private_keys",) and not changes.remove_first


def test_a_third_key_needs_a_removal_which_then_goes_first() -> None:
    full = provider(private_keys=[{"key_id": "K1", "timestamp": None}, {"key_id": "K2", "timestamp": None}])
    with pytest.raises(Failed, match="remove_private_keys"):
        module_under_test.plan_present(FakeModule(private_key="PEM", update_private_key="always"), full, canonical(ORIGINAL))
    _planned, changes = module_under_test.plan_present(
        FakeModule(private_key="PEM", update_private_key="always", remove_private_keys=["K1", "K9"]), full, canonical(ORIGINAL))
    assert changes.remove_keys == ["K1"] and changes.remove_first


def test_removing_a_key_that_is_not_held_is_no_change() -> None:
    planned, _changes = module_under_test.plan_present(FakeModule(remove_private_keys=["K9"]), provider(), canonical(ORIGINAL))
    assert planned.outcome == "unchanged"
