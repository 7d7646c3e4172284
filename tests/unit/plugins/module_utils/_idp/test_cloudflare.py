# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Cloudflare Access client (_idp/cloudflare.py): the mapping between the task and the API object, the
semantic comparison that makes a second run write nothing, paging and policy resolution against the emulator,
and the emulator's own spec validation (a body Cloudflare would reject is refused)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ansible_collections.idfed.aws_sso.plugins.module_utils._http.auth import bearer
from ansible_collections.idfed.aws_sso.plugins.module_utils._http.client import RestClient
from ansible_collections.idfed.aws_sso.plugins.module_utils._http.errors import ApiError, parse_cloudflare
from ansible_collections.idfed.aws_sso.plugins.module_utils._http.retry import RetryPolicy
from ansible_collections.idfed.aws_sso.plugins.module_utils._idp import cloudflare as cf
from ansible_collections.idfed.aws_sso.plugins.module_utils._state import UNCHANGED, UPDATED, Spec, plan

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "support"))
import cloudflare_emulator  # noqa: E402  pylint: disable=wrong-import-position

ISSUER = "https://eu-west-1.signin.aws.amazon.com/platform/saml/d-93670c4a5b"
ACS = "https://eu-west-1.signin.aws/platform/saml/acs/65752d77-6573-742d-2b3c-4d5e8f90a1b2"
TAG = "https://aws.amazon.com/SAML/Attributes/AccessControl:Department"
# The module's comparison rules (plugins/modules/cloudflare_access_saas_app.py SPEC).
SPEC = Spec(sets={"allowed_idps", "saas_app.custom_attributes"}, read_only=set(cf.READ_ONLY))
POLICY_ID = "f174e90a-fafe-4643-bbbc-4a0ed4fc8416"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    server = cloudflare_emulator.CloudflareEmulator(str(tmp_path_factory.mktemp("cloudflare")))
    with server:
        yield server


@pytest.fixture
def access(emulator):
    emulator.reset()
    client = RestClient(emulator.api_url, auth=bearer(emulator.token), ca_path=emulator.ca_path,
                        error_parser=parse_cloudflare, retry=RetryPolicy(attempts=2, base=0.01))
    yield cf.AccessClient(client, emulator.account_id, per_page=2)
    client.close()


def desired(**options):
    return cf.desired_app("AWS", ISSUER, ACS, **options)


# ------------------------------------------------------------------------------------------ mapping

def test_desired_app_is_the_saml_saas_shape():
    app = desired(custom_attributes=[{"name": TAG, "source_name": "department", "name_format": None,
                                      "friendly_name": None, "required": True}],
                  default_relay_state="https://d-93670c4a5b.awsapps.com/start", policy_ids=[POLICY_ID])
    assert app["type"] == "saas"
    assert app["saas_app"] == {
        "auth_type": "saml", "sp_entity_id": ISSUER, "consumer_service_url": ACS, "name_id_format": "email",
        "default_relay_state": "https://d-93670c4a5b.awsapps.com/start",
        "custom_attributes": [{"name": TAG, "source": {"name": "department"}, "required": True}]}
    assert app["policies"] == [POLICY_ID]


def test_write_body_keeps_writable_fields_and_links_policies_by_precedence():
    view = dict(desired(policy_ids=["b", "a"]), id="x", aud="y", created_at="t", domain="d",
                logo_url="https://logo.example/l.png", allowed_idps=None)
    view["saas_app"].update(idp_entity_id="https://team.example", sso_endpoint="https://team.example/sso",
                            public_key="PEM", created_at="t")
    body = cf.write_body(view)
    assert set(body) == {"name", "type", "saas_app", "policies", "logo_url"}
    assert body["policies"] == [{"id": "b", "precedence": 1}, {"id": "a", "precedence": 2}]
    assert set(body["saas_app"]) == {"auth_type", "sp_entity_id", "consumer_service_url", "name_id_format"}


def test_app_view_orders_policies_by_precedence_and_drops_client_secret():
    app = {"id": "x", "policies": [{"id": "second", "precedence": 2}, {"id": "first", "precedence": 1}],
           "saas_app": {"auth_type": "oidc", "client_secret": "s3cret"}}
    view = cf.app_view(app)
    assert view["policies"] == ["first", "second"]
    assert "client_secret" not in view["saas_app"]


@pytest.mark.parametrize("public_key", ["MIIBfake/body+more==", "  -----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----"])
def test_certificate_pem_from_pem_or_bare_base64(public_key):
    pem = cf.certificate_pem(public_key)
    assert pem.startswith("-----BEGIN CERTIFICATE-----\n") and pem.endswith("-----END CERTIFICATE-----\n")
    assert cf.certificate_pem("") is None and cf.certificate_pem(None) is None


def test_idp_facts_metadata_url_is_under_the_sso_endpoint():
    facts = cf.idp_facts({"saas_app": {"idp_entity_id": "https://t.cloudflareaccess.com",
                                       "sso_endpoint": "https://t.cloudflareaccess.com/cdn-cgi/access/sso/saml/ab/"}})
    assert facts["metadata_url"] == "https://t.cloudflareaccess.com/cdn-cgi/access/sso/saml/ab/saml-metadata"
    assert facts["certificate_pem"] is None and facts["certificate_url"] is None
    assert cf.idp_facts(None) is None and cf.idp_facts({"saas_app": {}}) is None


# ------------------------------------------------------------------------------------------ against the emulator

def test_created_app_compares_equal_to_what_was_asked(access):
    wanted = desired(custom_attributes=[{"name": TAG, "source_name": "department"}], policy_ids=None,
                     allowed_idps=[], app_launcher_visible=True)
    created = cf.app_view(access.create_app(cf.write_body(wanted)))
    # The API adds computed fields and defaults (required: false, sso_endpoint, ...): still unchanged.
    assert plan(SPEC, created, wanted).outcome == UNCHANGED
    moved = desired(custom_attributes=[{"name": TAG, "source_name": "department"}])
    moved["saas_app"]["consumer_service_url"] = ACS.replace("signin.aws", "sso.signin.aws")
    changed = plan(SPEC, created, moved)
    assert changed.outcome == UPDATED and changed.changed_keys == ("saas_app",)


def test_find_apps_pages_and_matches_the_exact_name(access, emulator):
    for name in ("AWS", "AWS staging", "aws", "AWS", "Other"):
        access.create_app(cf.write_body(cf.desired_app(name, ISSUER, ACS)))
    emulator.clear_log()
    assert [app["name"] for app in access.find_apps("AWS")] == ["AWS", "AWS"]
    gets = emulator.requests("GET")
    assert gets[0]["query"]["name"] == ["AWS"] and gets[0]["query"]["exact"] == ["true"]
    # per_page=2 and two matches: a full page, then an empty one ends the list (no total_pages in result_info).
    assert [entry["query"]["page"] for entry in gets] == [["1"], ["2"]]


def test_find_apps_filters_itself_when_the_api_ignores_the_filter(access, emulator, monkeypatch):
    for name in ("AWS", "AWS staging", "Other"):
        access.create_app(cf.write_body(cf.desired_app(name, ISSUER, ACS)))
    monkeypatch.setattr(emulator, "list_filters", False)
    assert [app["name"] for app in access.find_apps("AWS")] == ["AWS"]


def test_resolve_policies_by_name_and_id(access, emulator):
    policies = {policy["name"]: policy["id"] for policy in emulator.state()["policies"]}
    emulator.clear_log()
    resolved = access.resolve_policies(["Employees", policies["Administrators"], "Nobody", "Contractors"])
    assert resolved.ids == [policies["Employees"], policies["Administrators"]]
    assert resolved.unknown == ["Nobody"]
    assert len(resolved.ambiguous["Contractors"]) == 2
    emulator.clear_log()
    assert access.resolve_policies([POLICY_ID]).ids == [POLICY_ID]
    assert emulator.requests() == []  # ids alone need no look-up


def test_wrong_token_is_an_auth_error(emulator):
    client = RestClient(emulator.api_url, auth=bearer("wrong-token"), ca_path=emulator.ca_path,
                        error_parser=parse_cloudflare)
    with pytest.raises(ApiError) as caught:
        cf.AccessClient(client, emulator.account_id).find_apps("AWS")
    assert caught.value.status == 403 and caught.value.code == 10000
    assert cf.is_auth_error(caught.value)
    assert "wrong-token" not in str(caught.value)


def test_delete_of_a_missing_app_is_not_an_error(access):
    access.delete_app("0b7a4f2e-0000-4000-8000-000000000000")


# ------------------------------------------------------------------------------------------ the emulator's spec check

def _post(access, body):
    return access.client.request("POST", access.apps_path, json=body)


@pytest.fixture
def validated(emulator):
    if not emulator.validator.enabled:
        pytest.skip(emulator.validator.reason)


@pytest.mark.parametrize("change, field", [
    (lambda body: body.update(session_duration="24h"), "session_duration"),
    (lambda body: body["saas_app"].update(name_id_format="emailAddress"), "name_id_format"),
    (lambda body: body["saas_app"].update(custom_attributes={"name": TAG, "source": {"name": "d"}}),
     "custom_attributes"),
    (lambda body: body["saas_app"].update(nameid="email"), "nameid"),
    (lambda body: body.update(aud="0" * 64), "aud"),
])
def test_emulator_refuses_a_body_cloudflare_would_reject(access, emulator, validated, change, field):
    body = cf.write_body(desired())
    change(body)
    with pytest.raises(ApiError) as caught:
        _post(access, body)
    assert caught.value.status == 400 and caught.value.code == 12130
    assert field in str(caught.value)
    assert emulator.state()["spec_violations"][-1]["kind"] == "request"


def test_emulator_accepts_what_the_module_sends(access, emulator, validated):
    body = cf.write_body(desired(custom_attributes=[{"name": TAG, "source_name": "department",
                                                     "name_format": cf.NAME_FORMATS[2], "friendly_name": "Dept",
                                                     "required": False}],
                                 default_relay_state="https://d-93670c4a5b.awsapps.com/start",
                                 policy_ids=[emulator.state()["policies"][0]["id"]], allowed_idps=["idp-1"],
                                 app_launcher_visible=False))
    created = _post(access, body).data["result"]
    access.update_app(created["id"], cf.write_body(cf.app_view(created)))
    assert emulator.state()["spec_violations"] == []


def test_emulator_checks_its_own_answers(emulator, validated):
    bad = {"success": True, "errors": [], "messages": [], "result": [{"name": "x", "surprise": 1}]}
    problems = emulator.validator.check_response(cloudflare_emulator.SPEC_PATHS[0], "GET", 200, bad)
    assert problems and "surprise" in problems[0]


def test_emulator_without_spec_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(cloudflare_emulator, "locate_spec", lambda explicit=None: None)
    validator = cloudflare_emulator.SpecValidator()
    assert not validator.enabled and "NOT validated" in validator.reason


def test_metadata_keeps_its_signing_certificate_across_restarts(tmp_path):
    first = cloudflare_emulator.CloudflareEmulator(str(tmp_path))
    second = cloudflare_emulator.CloudflareEmulator(str(tmp_path))
    try:
        assert first.signing_cert == second.signing_cert
    finally:
        first.stop()
        second.stop()
