# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ZITADEL client (_idp/zitadel.py): the SP metadata it sends and reads back, the semantic comparison that
makes a second run write nothing, both API versions and both auth methods against the emulator, and the emulator's
own checks (SDK models for v2, proto allow-lists for v1, uniqueness rules, error envelopes)."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import pytest

from ansible_collections.idfed.aws_sso.plugins.module_utils._http.auth import JwtProfile
from ansible_collections.idfed.aws_sso.plugins.module_utils._http.client import RestClient
from ansible_collections.idfed.aws_sso.plugins.module_utils._http.errors import ApiError, parse_zitadel
from ansible_collections.idfed.aws_sso.plugins.module_utils._http.retry import RetryPolicy
from ansible_collections.idfed.aws_sso.plugins.module_utils._idp import zitadel as z
from ansible_collections.idfed.aws_sso.plugins.module_utils._saml.constants import EMAIL_NAME_ID
from ansible_collections.idfed.aws_sso.plugins.module_utils._state import CREATED, UNCHANGED, UPDATED, Spec, plan

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "support"))
import zitadel_emulator  # noqa: E402  pylint: disable=wrong-import-position

ISSUER = "https://eu-west-1.signin.aws.amazon.com/platform/saml/d-93670c4a5b"
ACS = "https://eu-west-1.signin.aws/platform/saml/acs/65752d77-6573-742d-2b3c-4d5e8f90a1b2"
ACS2 = "https://eu-central-1.signin.aws/platform/saml/acs/65752d77-6573-742d-2b3c-4d5e8f90a1b2"
# The module's comparison rules (plugins/modules/zitadel_saml_app.py SPEC).
SPEC = Spec(sets={"acs_urls", "name_id_formats"}, read_only={"app_id", "project_id", "state"})
NAME = "AWS IAM Identity Center"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    with zitadel_emulator.ZitadelEmulator(str(tmp_path_factory.mktemp("zitadel"))) as server:
        yield server


@pytest.fixture
def server(emulator):
    emulator.reset()
    return emulator


def client(server, version="v2", auth=None, **options) -> RestClient:
    info = server.info()
    settings = dict(auth=auth or z.make_auth(server.url, token=info["pat"]), ca_path=server.ca_path,
                    error_parser=parse_zitadel, headers=z.session_headers(version, info["org_id"]),
                    retry=RetryPolicy(attempts=3, base=0.01, cap=0.02), sleep=lambda _seconds: None)
    settings.update(options)
    return RestClient(server.url, **settings)


def api(server, version="v2", **options) -> z.ZitadelApi:
    return z.zitadel_api(client(server, version, **options), version, server.info()["org_id"])


def desired(acs=(ACS,)) -> dict:
    return {"name": NAME, "entity_id": ISSUER, "acs_urls": list(acs), "name_id_formats": [EMAIL_NAME_ID],
            "metadata_url": ""}


# ----------------------------------------------------------------------------------------- metadata

def test_sp_metadata_round_trip_and_determinism():
    data = z.build_sp_metadata(ISSUER, [ACS, ACS2])
    assert data == z.build_sp_metadata(ISSUER, [ACS, ACS2])
    facts = z.read_sp_metadata(data)
    assert facts == {"entity_id": ISSUER, "acs_urls": [ACS, ACS2], "name_id_formats": [EMAIL_NAME_ID]}
    assert b'index="0" isDefault="true"' in data and b'index="1"/>' in data


def test_sp_metadata_escapes_and_unreadable_documents():
    data = z.build_sp_metadata('https://x.example/a?b=1&c="2"', [ACS])
    assert z.read_sp_metadata(data)["entity_id"] == 'https://x.example/a?b=1&c="2"'
    assert z.read_sp_metadata(b"not xml") == {"entity_id": None, "acs_urls": [], "name_id_formats": []}
    assert z.read_sp_metadata(b'<!DOCTYPE x [<!ENTITY a "b">]><x/>')["entity_id"] is None


def test_idp_facts():
    facts = z.idp_facts("https://acme.zitadel.cloud/")
    assert facts["entity_id"] == facts["metadata_url"] == "https://acme.zitadel.cloud/saml/v2/metadata"
    assert facts["certificate_url"] == "https://acme.zitadel.cloud/saml/v2/certificate"
    assert facts["legacy_urls"]["metadata_url"] == "https://acme.zitadel.cloud/saml/metadata"
    assert facts["legacy_urls"]["certificate_url"] == "https://acme.zitadel.cloud/saml/certificate"


def test_session_headers():
    assert z.session_headers("v2", "42") == {"Connect-Protocol-Version": "1"}
    assert z.session_headers("v1", "42") == {"x-zitadel-orgid": "42"}
    assert z.session_headers("v1", None) == {}


# ---------------------------------------------------------------------------------------- comparison

def test_comparison_is_semantic():
    app = z._saml_app("1", "2", NAME, "APPLICATION_STATE_ACTIVE",
                      {"metadataXml": base64.b64encode(z.build_sp_metadata(ISSUER, [ACS2, ACS])).decode()}, "saml")
    assert plan(SPEC, app.view(), desired([ACS, ACS2])).outcome == UNCHANGED
    assert plan(SPEC, app.view(), desired([ACS])).outcome == UPDATED
    assert plan(SPEC, None, desired()).outcome == CREATED


def test_metadata_fetched_from_a_url_is_replaced():
    app = z._saml_app("1", "2", NAME, "", {"metadataXml": base64.b64encode(z.build_sp_metadata(ISSUER, [ACS]))
                                           .decode(), "metadataUrl": "https://sp.example/md"}, "saml")
    assert plan(SPEC, app.view(), desired()).changed_keys == ("metadata_url",)


# ------------------------------------------------------------------------------------ both versions

@pytest.mark.parametrize("version", ["v2", "v1"])
def test_life_cycle(server, version):
    zitadel = api(server, version)
    assert zitadel.find_project("AWS") is None
    project_id = zitadel.create_project("AWS")
    assert zitadel.find_project("AWS")["id"] == project_id
    assert zitadel.find_project(project_id)["name"] == "AWS"
    app_id = zitadel.create_saml_app(project_id, NAME, z.build_sp_metadata(ISSUER, [ACS]))
    found = zitadel.find_app(project_id, NAME)
    assert found.app_id == app_id and found.kind == "saml"
    assert found.view()["acs_urls"] == [ACS] and found.entity_id == ISSUER
    zitadel.update_saml_app(project_id, app_id, z.build_sp_metadata(ISSUER, [ACS, ACS2]))
    assert zitadel.find_app(project_id, NAME).acs_urls == [ACS, ACS2]
    assert zitadel.login_name_includes_domain() is False
    zitadel.delete_app(project_id, app_id)
    assert zitadel.find_app(project_id, NAME) is None
    assert server.state()["apps"] == []


@pytest.mark.parametrize("version", ["v2", "v1"])
def test_uniqueness_rules(server, version):
    zitadel = api(server, version)
    project_id = zitadel.create_project("AWS")
    zitadel.create_saml_app(project_id, NAME, z.build_sp_metadata(ISSUER, [ACS]))
    with pytest.raises(ApiError) as name_taken:
        zitadel.create_saml_app(project_id, NAME, z.build_sp_metadata(ISSUER + "x", [ACS]))
    with pytest.raises(ApiError) as entity_taken:
        zitadel.create_saml_app(project_id, "another", z.build_sp_metadata(ISSUER, [ACS]))
    with pytest.raises(ApiError) as project_taken:
        zitadel.create_project("AWS")
    for error in (name_taken.value, entity_taken.value, project_taken.value):
        assert error.status == 409 and error.code == ("already_exists" if version == "v2" else 6)
    assert "SAML EntityID already exists" in str(entity_taken.value)


def test_unchanged_update_is_refused_as_zitadel_does(server):
    zitadel = api(server)
    project_id = zitadel.create_project("AWS")
    xml = z.build_sp_metadata(ISSUER, [ACS])
    app_id = zitadel.create_saml_app(project_id, NAME, xml)
    with pytest.raises(ApiError) as unchanged:
        zitadel.update_saml_app(project_id, app_id, xml)
    assert unchanged.value.status == 400 and unchanged.value.code == "failed_precondition"


def test_project_lookup_by_digits_falls_back_to_the_name(server):
    zitadel = api(server)
    project_id = zitadel.create_project("2024")
    assert zitadel.find_project("2024")["id"] == project_id
    assert zitadel.find_project(project_id)["name"] == "2024"


def test_v2_project_creation_needs_the_organization(server):
    zitadel = z.zitadel_api(client(server), "v2", None)
    with pytest.raises(z.ZitadelError, match="organization_id"):
        zitadel.create_project("AWS")


def test_other_app_types_are_not_taken_over(server):
    zitadel = api(server)
    project_id = zitadel.create_project("AWS")
    server.apps["9"] = {"id": "9", "project_id": project_id, "name": NAME, "state": "active", "kind": "oidc",
                        "created": "1", "changed": "1", "sequence": 1, "metadata_xml": b"", "metadata_url": "",
                        "entity_id": None, "acs_urls": [], "name_id_formats": []}
    with pytest.raises(z.ZitadelError, match="OIDC application, not SAML"):
        zitadel.find_app(project_id, NAME)


def test_pagination_reads_every_page(server, monkeypatch):
    monkeypatch.setattr(z, "PAGE", 2)
    zitadel = api(server)
    project_id = zitadel.create_project("AWS")
    for index in range(5):
        zitadel.create_saml_app(project_id, "app{0}".format(index), z.build_sp_metadata(ISSUER + str(index), [ACS]))
    server.clear_log()
    assert len(zitadel.find_apps(project_id, "app")) == 0  # an exact name filter
    assert zitadel.find_app(project_id, "app4").name == "app4"
    assert len(server.requests(path="/zitadel.application.v2.ApplicationService/ListApplications")) == 2
    filters = [{"projectIdFilter": {"projectId": project_id}}]
    answer = client(server).post("/zitadel.application.v2.ApplicationService/ListApplications",
                                 json={"filters": filters, "pagination": {"offset": "4", "limit": 2, "asc": True}})
    assert answer["pagination"] == {"totalResult": "5", "appliedLimit": "2"} and len(answer["applications"]) == 1


# ---------------------------------------------------------------------------------------------- auth

def test_jwt_profile_with_the_emulators_key(server):
    auth = z.make_auth(server.url, key=server.info()["key_file"])
    assert isinstance(auth, JwtProfile) and auth.scope == z.API_SCOPE
    zitadel = api(server, auth=auth)
    assert zitadel.find_project("AWS") is None
    assert server.state()["tokens_issued"] == 1
    token_requests = server.requests(path="/oauth/v2/token")
    assert token_requests[0]["body"]["assertion"] == "***"


def test_jwt_profile_without_the_api_audience_is_refused(server):
    key = z.load_service_key(server.info()["key_file"])
    auth = JwtProfile(server.url + z.TOKEN_PATH, key, server.url, scope="openid")
    with pytest.raises(ApiError) as refused:
        api(server, auth=auth).find_project("AWS")
    assert refused.value.status == 401


def test_jwt_signed_by_another_key_is_refused(server):
    from cryptography.hazmat.primitives import serialization  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives.asymmetric import rsa  # pylint: disable=import-outside-toplevel

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    data = dict(json.loads(Path(server.info()["key_file"]).read_text(encoding="utf-8")), key=other)
    with pytest.raises(ApiError) as refused:
        api(server, auth=z.make_auth(server.url, key=data)).find_project("AWS")
    assert refused.value.status == 400 and refused.value.code == "invalid_grant"


@pytest.mark.parametrize("version, code", [("v2", "unauthenticated"), ("v1", 16)])
def test_wrong_pat(server, version, code):
    with pytest.raises(ApiError) as refused:
        api(server, version, auth=z.make_auth(server.url, token="wrong")).find_project("AWS")
    assert refused.value.status == 401 and refused.value.code == code
    assert "Token is invalid" in str(refused.value)


# ------------------------------------------------------------------------------- emulator validation

@pytest.mark.parametrize("body, problem", [
    ({"projectId": "1", "unknown": True}, "unknown field 'unknown'"),
    ({"projectId": 1}, "projectId: expected a string"),
    ({"projectId": "1", "samlConfiguration": {"metadataXml": 5}}, "expected base64 bytes"),
    ({"projectId": "1", "samlConfiguration": {"metadataXML": "eA=="}}, "unknown field 'samlConfiguration.metadataXML'"),
])
def test_v2_bodies_are_checked_against_the_sdk_models(server, body, problem):
    with pytest.raises(ApiError) as refused:
        client(server).post("/zitadel.application.v2.ApplicationService/CreateApplication", json=body)
    assert refused.value.status == 400 and refused.value.code == "invalid_argument"
    assert problem in str(refused.value)


def test_v1_bodies_are_checked_against_the_proto_fields(server):
    zitadel = api(server, "v1")
    project_id = zitadel.create_project("AWS")
    with pytest.raises(ApiError) as refused:
        client(server, "v1").post("/management/v1/projects/{0}/apps/saml".format(project_id),
                                  json={"name": NAME, "metadataXml": "eA==", "nameIdFormat": "email"})
    assert refused.value.status == 400 and refused.value.code == 3
    assert "unknown field 'nameIdFormat'" in str(refused.value)


def test_served_metadata_is_signed_and_accepted_by_identity_center(server):
    from ansible_collections.idfed.aws_sso.plugins.module_utils._saml.metadata import analyze_metadata  # pylint: disable=import-outside-toplevel

    body = client(server).request("GET", "/saml/v2/metadata").body
    report = analyze_metadata(body, role="idp", target="identity_center")
    assert [item.code for item in report.errors] == []
    assert report.entity_id == server.url + "/saml/v2/metadata"
    assert report.signature.valid is True
    assert "name_id_email_missing" in [item.code for item in report.findings]
