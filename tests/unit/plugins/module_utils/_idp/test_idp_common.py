# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The IdP modules' shared ground: reading the Identity Center SP, the REST client from the task's options,
and failing on an API error without a secret."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ansible_collections.idfed.aws_sso.plugins.module_utils._http.errors import ApiError
from ansible_collections.idfed.aws_sso.plugins.module_utils._idp import common

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "support"))
import saml_factory  # noqa: E402  pylint: disable=wrong-import-position

ISSUER = "https://eu-west-1.signin.aws.amazon.com/platform/saml/d-93670c4a5b"


class Failed(Exception):
    pass


class FakeModule:
    def __init__(self, **params):
        self.params = {**{name: None for name in common.SP_ARGUMENT_SPEC}, **common_defaults(), **params}
        self.no_log_values: set[str] = set()
        self._verbosity = 0
        self.failure: dict = {}

    def fail_json(self, **kwargs):
        self.failure = kwargs
        raise Failed(kwargs["msg"])

    def log(self, text: str) -> None:
        pass

    debug = log


def common_defaults() -> dict:
    return {name: spec.get("default") for name, spec in common.API_ARGUMENT_SPEC.items()}


def test_metadata_gives_the_issuer_and_every_acs_url_primary_region_first(tmp_path):
    document = saml_factory.sp_metadata_identity_center("eu-west-1", "d-93670c4a5b", extra_regions=("eu-central-1",))
    path = tmp_path / "sp.xml"
    path.write_bytes(document)
    sp = common.read_service_provider(FakeModule(sp_metadata_path=str(path)))
    assert sp.entity_id == ISSUER
    assert len(sp.acs_urls) == 6 and sp.acs_urls[0].startswith("https://eu-west-1.signin.aws/platform/saml/acs/")
    assert sp.regions == ["eu-west-1"] * 3 + ["eu-central-1"] * 3
    assert sp.primary_acs_url == sp.acs_urls[0]


def test_metadata_with_an_error_finding_is_refused_with_its_code():
    document = saml_factory.sp_metadata_identity_center(name_id_format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent")
    module = FakeModule(sp_metadata_content=document.decode())
    with pytest.raises(Failed, match=r"\[name_id_email_missing\]"):
        common.read_service_provider(module)
    assert any(item["code"] == "name_id_email_missing" for item in module.failure["findings"])


def test_hostile_xml_is_refused_not_parsed():
    bomb = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
            '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&b;"/>')
    with pytest.raises(Failed, match="cannot configure the IdP application"):
        common.read_service_provider(FakeModule(sp_metadata_content=bomb))


def test_explicit_urls_are_kept_in_order_without_duplicates():
    urls = ["https://eu-west-1.signin.aws/platform/saml/acs/t-1", "https://eu-central-1.signin.aws/platform/saml/acs/t-1",
            "https://eu-west-1.signin.aws/platform/saml/acs/t-1"]
    sp = common.read_service_provider(FakeModule(sp_entity_id=ISSUER, sp_acs_urls=urls))
    assert sp.acs_urls == urls[:2] and sp.regions == ["eu-west-1", "eu-central-1"] and not sp.warnings


def test_explicit_urls_must_be_https_and_an_unknown_issuer_is_a_warning():
    with pytest.raises(Failed, match="must be https"):
        common.read_service_provider(FakeModule(sp_entity_id=ISSUER, sp_acs_urls=["http://acs.example.test/"]))
    sp = common.read_service_provider(FakeModule(sp_entity_id="urn:example:sp", sp_acs_urls=["https://acs.example.test/"]))
    assert "not an IAM Identity Center issuer" in sp.warnings[0]


def test_no_sp_option_names_every_way_to_give_one():
    with pytest.raises(Failed, match="sp_metadata_path, sp_metadata_content, sp_metadata_url"):
        common.read_service_provider(FakeModule())


def test_unreadable_file_names_the_path(tmp_path):
    with pytest.raises(Failed, match="Cannot read sp_metadata_path .*missing.xml"):
        common.read_service_provider(FakeModule(sp_metadata_path=str(tmp_path / "missing.xml")))


def test_client_secrets_become_no_log_values_and_bad_timeouts_are_refused():
    from ansible_collections.idfed.aws_sso.plugins.module_utils._http.auth import bearer

    module = FakeModule()
    client = common.rest_client(module, "https://api.example.test/v1", auth=bearer("s3cr3t-token"))
    assert "s3cr3t-token" in module.no_log_values and client.base_url == "https://api.example.test/v1"
    with pytest.raises(Failed, match="timeout must be a positive number"):
        common.rest_client(FakeModule(timeout=0), "https://api.example.test")
    with pytest.raises(Failed, match="https"):
        common.rest_client(FakeModule(), "http://api.example.test")


def test_api_failure_says_what_was_done_and_masks_the_secret():
    from ansible_collections.idfed.aws_sso.plugins.module_utils._http.auth import bearer

    module = FakeModule()
    client = common.rest_client(module, "https://api.example.test", auth=bearer("s3cr3t-token"))
    error = ApiError("HTTP 403 Forbidden: token s3cr3t-token lacks Access: Apps Edit", method="POST",
                     url="https://api.example.test/apps", status=403)
    with pytest.raises(Failed) as raised:
        common.call_or_fail(module, "Creating the application", _raise, error, client=client)
    assert str(raised.value).startswith("Creating the application: HTTP 403")
    assert "s3cr3t-token" not in str(raised.value) and module.failure["error"]["status"] == 403


def _raise(error: Exception) -> None:
    raise error
