# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWS sign-in stand-in (tests/support/aws_standin.py) beside moto: Identity Center's SP metadata,
console step, ACS and portal, and classic IAM's signin.aws.amazon.com/saml, each acceptance and each
refusal reason, with real signed SAML responses from saml_factory."""

from __future__ import annotations

import atexit
import base64
import datetime
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from lxml import etree

SUPPORT = Path(__file__).resolve().parents[2] / "support"
sys.path.insert(0, str(SUPPORT))
import aws_standin  # noqa: E402  pylint: disable=wrong-import-position
import saml_factory as factory  # noqa: E402  pylint: disable=wrong-import-position
import test_server  # noqa: E402  pylint: disable=wrong-import-position
from moto_ext.launcher import MotoServer  # noqa: E402  pylint: disable=wrong-import-position


def _load_sp_urls() -> Any:
    """The collection's own parser of Identity Center SP URLs (a standalone file), by path: the SP metadata
    the stand-in serves must be what the modules recognise."""
    path = Path(__file__).resolve().parents[3] / "plugins" / "module_utils" / "_saml" / "aws_sp_urls.py"
    spec = importlib.util.spec_from_file_location("aws_sp_urls_for_standin_tests", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SP_URLS = _load_sp_urls()
IDP = "https://idp.example.test/saml/metadata"
IDP_SSO = "https://idp.example.test/saml/sso"
SIGNER = factory.make_certificate(factory.make_key(index=21), subject_cn="standin idp signer")
ROLLOVER = factory.make_certificate(factory.make_key(index=22), subject_cn="standin idp next signer")
STRANGER = factory.make_certificate(factory.make_key(index=23), subject_cn="not in the metadata")
EXPIRED = factory.make_certificate(factory.make_key(index=24), subject_cn="expired signer",
                                   not_before=factory.utc(-400), not_after=factory.utc(-30))
METADATA = factory.idp_metadata(IDP, signing=[SIGNER, ROLLOVER], sso_location=IDP_SSO)
ALICE, BOB, CAROL = "alice@example.com", "bob@example.com", "carol@example.com"
ACCOUNT_A, ACCOUNT_B = "111111111111", "222222222222"
IAM_ACS = "https://signin.aws.amazon.com/saml"
ROLE_ATTR = "https://aws.amazon.com/SAML/Attributes/Role"
SESSION_ATTR = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"


# ------------------------------------------------------------------------------------------ fixtures
#
# ansible-test runs every test in its own fork (its ansible_forked plugin), where a module-scoped fixture
# would start moto, build the world and start the stand-in again for each test (3.5 s a test). So both
# start once per test process, at import (before the forks), the stand-in as a subprocess that the tests
# drive over HTTP and /_control/ only (no in-process state a fork would copy), and stop when it exits.

def build_world(aws: MotoServer) -> dict[str, Any]:
    """moto's state, made once: alice (direct ReadOnly on A, and in devs), bob (in devs), devs -> Admin on
    B; carol is not provisioned. An IAM SAML provider for the IdP and roles trusting it or not."""
    aws.set_config(async_delay=0)
    sso, ids, iam = aws.client("sso-admin"), aws.client("identitystore"), aws.client("iam")
    instance = sso.list_instances()["Instances"][0]
    arn, store = instance["InstanceArn"], instance["IdentityStoreId"]
    users = {}
    for name in (ALICE, BOB):
        users[name] = ids.create_user(IdentityStoreId=store, UserName=name, DisplayName=name,
                                      Name={"GivenName": name[:3], "FamilyName": "Example"})["UserId"]
    devs = ids.create_group(IdentityStoreId=store, DisplayName="devs")["GroupId"]
    for name in (ALICE, BOB):
        ids.create_group_membership(IdentityStoreId=store, GroupId=devs, MemberId={"UserId": users[name]})
    sets = {name: sso.create_permission_set(InstanceArn=arn, Name=name)["PermissionSet"]["PermissionSetArn"]
            for name in ("ReadOnly", "Admin")}
    for account, permission_set, kind, principal in ((ACCOUNT_A, "ReadOnly", "USER", users[ALICE]),
                                                     (ACCOUNT_B, "Admin", "GROUP", devs)):
        sso.create_account_assignment(InstanceArn=arn, TargetId=account, TargetType="AWS_ACCOUNT",
                                      PermissionSetArn=sets[permission_set], PrincipalType=kind, PrincipalId=principal)
    provider = iam.create_saml_provider(Name="corp-idp", SAMLMetadataDocument=METADATA.decode())["SAMLProviderArn"]
    other = iam.create_saml_provider(Name="other-idp", SAMLMetadataDocument=factory.idp_metadata(
        "https://other.example.test/saml", signing=[STRANGER]).decode())["SAMLProviderArn"]
    roles = {}
    for name, federated, audience in (("federated", provider, IAM_ACS), ("second", provider, IAM_ACS),
                                      ("trusts-other", other, IAM_ACS), ("wrong-aud", provider, "https://x.test/saml")):
        policy = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": federated}, "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"],
            "Condition": {"StringEquals": {"SAML:aud": audience}}}]}
        roles[name] = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(policy))["Role"]["Arn"]
    roles["missing"] = roles["federated"].replace("role/federated", "role/nobody")
    return {"instance": instance, "users": users, "devs": devs, "sets": sets, "provider": provider,
            "other_provider": other, "roles": roles}


class RemoteStandin:
    """The stand-in subprocess as the tests see it: its URL and CA, and its /_control/ calls."""

    def __init__(self, info: dict[str, Any]):
        self.info = info
        self.url, self.ca_path, self.state_dir = info["https_url"], info["ca"], info["dir"]
        self.control = test_server.ControlClient(info)

    def reset(self) -> None:
        self.control.reset()

    def state(self) -> dict[str, Any]:
        return self.control.state()

    def requests(self, method: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        return [entry for entry in self.control.requests() if (method is None or entry["method"] == method)
                and (path is None or path == entry["path"] or test_server._compile(path).fullmatch(entry["path"]))]

    def sp(self) -> SimpleNamespace:
        return SimpleNamespace(**self.state()["sp"])


class Stack:
    """moto, its world and the stand-in, for this test process."""

    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="idfed-standin-tests-")
        self.aws = MotoServer()
        self.aws.start()
        self.standin: RemoteStandin | None = None
        atexit.register(self.stop)
        self.world = build_world(self.aws)
        self.standin = RemoteStandin(start_standin(os.path.join(self.folder, "standin"), self.aws.endpoint_url))

    def stop(self) -> None:
        if self.standin is not None:
            subprocess.run([sys.executable, SCRIPT, "--stop", self.standin.state_dir], capture_output=True,
                           timeout=30, check=False)
        self.aws.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def start_standin(state: str, moto_url: str, *extra: str) -> dict[str, Any]:
    started = subprocess.run([sys.executable, SCRIPT, "--dir", state, "--moto-url", moto_url, "--background",
                              "--max-lifetime", "900", *extra], capture_output=True, text=True, timeout=60, check=False)
    assert started.returncode == 0, started.stderr
    return json.loads(started.stdout)


SCRIPT = str(SUPPORT / "aws_standin.py")
STACK = Stack()


@pytest.fixture
def aws() -> MotoServer:
    return STACK.aws


@pytest.fixture
def world() -> dict[str, Any]:
    return STACK.world


@pytest.fixture
def standin() -> RemoteStandin:
    return STACK.standin


@pytest.fixture
def web(standin: Any) -> Any:
    """A fresh stand-in state (no identity source, no requests or sessions) and an HTTPS client for it."""
    standin.reset()
    with requests.Session() as session:
        session.verify = standin.ca_path
        session.trust_env = False  # REQUESTS_CA_BUNDLE would replace the stand-in's CA
        yield session


@pytest.fixture
def sp(standin: Any) -> Any:
    return standin.sp()


@pytest.fixture
def uploaded(web: Any, standin: Any) -> Any:
    answer = web.post(standin.url + "/console/identity-source", data=METADATA,
                      headers={"Content-Type": "application/samlmetadata+xml"})
    assert answer.status_code == 200, answer.text
    return web


# ------------------------------------------------------------------------------------------- helpers

def login(web: Any, standin: Any, **params: str) -> dict[str, Any]:
    """GET /login: the AuthnRequest the IdP receives (HTTP-Redirect binding), decoded."""
    answer = web.get(standin.url + "/login", params=params, allow_redirects=False)
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    query = parse_qs(urlsplit(location).query)
    xml = zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15)
    request = etree.fromstring(xml)
    return {"location": location, "query": query, "request": request, "id": request.get("ID"),
            "acs": request.get("AssertionConsumerServiceURL"), "body": answer.json()}


def response(sp: Any, request_id: str | None, *, sign: str | None = "assertion", key: Any = SIGNER,
             **overrides: Any) -> bytes:
    acs = sp.acs_urls[0]
    fields = dict(issuer=IDP, destination=acs, audience=sp.entity_id, name_id=ALICE, in_response_to=request_id)
    fields.update(overrides)
    document = factory.saml_response(**fields)
    return document if sign is None else factory.sign_saml_response(document, key, what=sign)


def post_acs(web: Any, standin: Any, document: bytes, acs: str | None = None, **extra: str) -> Any:
    """What the browser does with the IdP's form, with the real ACS host rewritten to the stand-in."""
    path = urlsplit(acs or standin.sp().acs_urls[0]).path
    return web.post(standin.url + path, data=dict(factory.saml_post_form(document), **extra))


def refused(answer: Any, reason: str) -> None:
    assert answer.status_code == 403, answer.text
    assert answer.json()["reason"] == reason, answer.json()


# ---------------------------------------------------------------------------------- the SP metadata

def test_sp_metadata_is_moto_instance_s_and_what_the_collection_recognises(web: Any, standin: Any, world: Any,
                                                                           aws: MotoServer) -> None:
    answer = web.get(standin.url + "/sp-metadata.xml")
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/samlmetadata+xml"
    root = etree.fromstring(answer.content)
    store = world["instance"]["IdentityStoreId"]
    assert root.get("entityID") == "https://us-east-1.signin.aws.amazon.com/platform/saml/" + store
    assert SP_URLS.parse_issuer(root.get("entityID")) == {"region": "us-east-1", "identity_store_id": store}
    role = root.find("{%s}SPSSODescriptor" % factory.MD)
    assert (role.get("AuthnRequestsSigned"), role.get("WantAssertionsSigned")) == ("false", "true")
    assert [node.text for node in role.findall("{%s}NameIDFormat" % factory.MD)] == [factory.EMAIL]
    acs = role.findall("{%s}AssertionConsumerService" % factory.MD)
    assert len(acs) == 1 and acs[0].get("isDefault") == "true" and acs[0].get("Binding") == factory.BINDINGS["HTTP-POST"]
    found = SP_URLS.classify_acs(acs[0].get("Location"))
    assert found["region"] == "us-east-1" and found["form"] == "ipv4"
    assert found["tenant"].startswith(b"us-east-".hex() + "-")  # AWS's tenants start with the Region in hex
    # A multi-Region instance: one ACS URL per ACTIVE Region, same tenant; a Region being added has none yet.
    aws.set_regions(world["instance"]["InstanceArn"], [{"RegionName": "eu-west-1", "Status": "ACTIVE"},
                                                       {"RegionName": "ap-south-1", "Status": "ADDING"}])
    try:
        again = etree.fromstring(web.get(standin.url + "/sp-metadata.xml").content)
    finally:
        aws.set_regions(world["instance"]["InstanceArn"], [])
    locations = [node.get("Location") for node in again.iter("{%s}AssertionConsumerService" % factory.MD)]
    assert [SP_URLS.classify_acs(item)["region"] for item in locations] == ["us-east-1", "eu-west-1"]
    assert {SP_URLS.classify_acs(item)["tenant"] for item in locations} == {found["tenant"]}
    assert again.get("entityID") == root.get("entityID")


def test_every_acs_form_when_asked(aws: MotoServer, world: Any) -> None:
    del world
    with aws_standin.AwsStandin(moto_url=aws.endpoint_url, acs_forms=("ipv4", "dual_stack", "legacy")) as server:
        forms = [SP_URLS.classify_acs(url)["form"] for url in server.sp().acs_urls]
    assert forms == ["ipv4", "dual_stack", "legacy"]


# ---------------------------------------------------------------------------------- the console step

def test_identity_source_upload_is_kept_and_idempotent(web: Any, standin: Any, world: Any) -> None:
    url = standin.url + "/console/identity-source"
    assert web.get(url).json() == {"configured": False, "type": "IDENTITY_CENTER_DIRECTORY"}
    first = web.post(url, data=METADATA, headers={"Content-Type": "application/xml"}).json()
    assert first["configured"] and first["changed"] and first["entity_id"] == IDP
    assert first["identity_store_id"] == world["instance"]["IdentityStoreId"]
    fingerprints = [item["fingerprint_sha256"] for item in first["certificates"]]
    assert fingerprints == [SIGNER.fingerprint_sha256, ROLLOVER.fingerprint_sha256]
    assert Path(standin.state_dir, "identity-source.xml").read_bytes() == METADATA
    second = web.post(url, json={"metadata": METADATA.decode()}).json()
    assert second["changed"] is False and second["uploaded_at"] == first["uploaded_at"]
    assert standin.state()["identity_source"]["entity_id"] == IDP
    assert web.delete(url).json() == {"configured": False, "type": "IDENTITY_CENTER_DIRECTORY", "changed": True}


@pytest.mark.parametrize("document, reason", [
    (b"<not xml", "metadata_invalid"),
    (factory.entities_aggregate([METADATA]), "metadata_invalid"),
    (factory.idp_metadata(IDP, signing=[SIGNER], encryption=[ROLLOVER]), "encryption_not_supported"),
    (factory.idp_metadata(IDP, signing=[]), "no_signing_certificate"),
    (factory.idp_metadata(IDP, signing=[SIGNER], sso_bindings=()), "no_sso_service"),
    (factory.idp_metadata(IDP, signing=[SIGNER], padding_chars=80000), "metadata_too_large"),
])
def test_identity_source_refuses_what_the_console_refuses(web: Any, standin: Any, document: bytes, reason: str) -> None:
    answer = web.post(standin.url + "/console/identity-source", data=document)
    assert answer.status_code == 400 and answer.json()["reason"] == reason, answer.text
    assert standin.state()["identity_source"]["configured"] is False


# ------------------------------------------------------------------------------- login and the ACS

def test_login_makes_a_real_authn_request_to_the_idp(uploaded: Any, standin: Any, sp: Any) -> None:
    made = login(uploaded, standin, relay_state="back-to-portal")
    assert made["location"].startswith(IDP_SSO + "?SAMLRequest=")
    assert made["query"]["RelayState"] == ["back-to-portal"]
    request = made["request"]
    assert request.tag == "{%s}AuthnRequest" % factory.PROTOCOL
    assert request.get("Destination") == IDP_SSO and made["acs"] == sp.acs_urls[0]
    assert request.get("ProtocolBinding") == factory.BINDINGS["HTTP-POST"]
    assert request.findtext("{%s}Issuer" % factory.SAML) == sp.entity_id
    assert request.find("{%s}NameIDPolicy" % factory.PROTOCOL).get("Format") == factory.EMAIL
    assert standin.state()["pending_requests"] == [made["id"]] == [made["body"]["request_id"]]


@pytest.mark.parametrize("sign", ["assertion", "response", "both"])
def test_a_provisioned_user_signs_in_and_the_portal_lists_the_assignments(uploaded: Any, standin: Any, sp: Any,
                                                                          world: Any, sign: str) -> None:
    made = login(uploaded, standin)
    answer = post_acs(uploaded, standin, response(sp, made["id"], sign=sign), RelayState="r1")
    assert answer.status_code == 200, answer.text
    session = answer.json()
    assert (session["user"], session["user_id"], session["signed"]) == (ALICE, world["users"][ALICE], sign)
    assert session["relay_state"] == "r1"
    portal = uploaded.get(standin.url + "/portal/accounts", params={"session": session["session"]}).json()
    assert portal["user"] == ALICE and portal["groups"] == ["devs"]
    assert portal["assignments"] == [
        {"account_id": ACCOUNT_A, "permission_set": "ReadOnly", "via": ["user"]},
        {"account_id": ACCOUNT_B, "permission_set": "Admin", "via": ["group:devs"]}]
    assert [item["account_id"] for item in portal["accounts"]] == [ACCOUNT_A, ACCOUNT_B]
    assert portal["accounts"][1]["permission_sets"][0]["arn"] == world["sets"]["Admin"]
    # The real portal takes the token as a header.
    header = uploaded.get(standin.url + "/portal/accounts", headers={"x-amz-sso_bearer_token": session["session"]})
    assert header.json() == portal
    assert standin.state()["logins"][-1] == {**standin.state()["logins"][-1], "outcome": "accepted", "user": ALICE}


def test_group_only_user_and_another_region_s_acs(uploaded: Any, standin: Any, aws: MotoServer, world: Any) -> None:
    aws.set_regions(world["instance"]["InstanceArn"], [{"RegionName": "eu-west-1", "Status": "ACTIVE"}])
    try:
        sp = standin.sp()
        made = login(uploaded, standin, region="eu-west-1")
        assert made["acs"] == sp.acs_urls[1] and "eu-west-1" in made["acs"]
        document = response(sp, made["id"], name_id=BOB, destination=made["acs"])
        answer = post_acs(uploaded, standin, document, acs=made["acs"])
        assert answer.status_code == 200, answer.text
        portal = uploaded.get(standin.url + "/portal/accounts", params={"session": answer.json()["session"]}).json()
    finally:
        aws.set_regions(world["instance"]["InstanceArn"], [])
    assert portal["assignments"] == [{"account_id": ACCOUNT_B, "permission_set": "Admin", "via": ["group:devs"]}]


def test_the_factory_s_signed_responses_are_what_xmlsec1_verifies(sp: Any) -> None:
    """The test data is standard: the C reference implementation verifies the assertion's signature."""
    ok, detail = _xmlsec1(response(sp, "_x"), SIGNER)
    assert ok, detail


def _xmlsec1(document: bytes, issued: Any) -> tuple[bool, str]:
    import shutil  # pylint: disable=import-outside-toplevel
    import tempfile  # pylint: disable=import-outside-toplevel

    if shutil.which("xmlsec1") is None:
        pytest.skip("xmlsec1 is not installed")
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "doc.xml").write_bytes(document)
        Path(folder, "cert.pem").write_text(issued.pem, encoding="ascii")
        done = subprocess.run(["xmlsec1", "--verify", "--pubkey-cert-pem", str(Path(folder, "cert.pem")),
                               "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
                               str(Path(folder, "doc.xml"))], capture_output=True, check=False)
    return done.returncode == 0, done.stderr.decode("utf-8", "replace")


def test_the_rollover_certificate_of_the_metadata_verifies_too(uploaded: Any, standin: Any, sp: Any) -> None:
    made = login(uploaded, standin)
    assert post_acs(uploaded, standin, response(sp, made["id"], key=ROLLOVER)).status_code == 200


def _tampered(sp: Any, request_id: str) -> bytes:
    """Signed for alice, then the NameID changed to bob: the digest no longer matches."""
    return response(sp, request_id).replace(ALICE.encode(), BOB.encode())


def _wrapped(sp: Any, request_id: str) -> bytes:
    """XSW: an unsigned assertion for bob first, alice's signed one hidden in the Status element."""
    signed = etree.fromstring(response(sp, request_id))
    original = signed.find("{%s}Assertion" % factory.SAML)
    evil = etree.fromstring(factory.saml_response(issuer=IDP, destination=sp.acs_urls[0], audience=sp.entity_id,
                                                  name_id=BOB, in_response_to=request_id)).find("{%s}Assertion" % factory.SAML)
    signed.remove(original)
    signed.find("{%s}Status" % factory.PROTOCOL).append(original)
    signed.append(evil)
    return etree.tostring(signed)


def _wrapped_error_response(sp: Any, request_id: str) -> bytes:
    """XSW with a signed Response that has no assertion (an IdP signs its error answers too): the signature
    moves to a new root carrying an unsigned assertion for bob, and still verifies, over the hidden original."""
    error = etree.fromstring(factory.saml_response(issuer=IDP, destination=sp.acs_urls[0], audience=sp.entity_id,
                                                   name_id=ALICE, in_response_to=request_id, response_id="_original"))
    error.remove(error.find("{%s}Assertion" % factory.SAML))
    signed = etree.fromstring(factory.sign_saml_response(etree.tostring(error), SIGNER, what="response"))
    signature = signed.find("{%s}Signature" % factory.DS)
    signed.remove(signature)
    evil = etree.fromstring(factory.saml_response(issuer=IDP, destination=sp.acs_urls[0], audience=sp.entity_id,
                                                  name_id=BOB, in_response_to=request_id, response_id="_evil"))
    evil.find("{%s}Issuer" % factory.SAML).addnext(signature)
    etree.SubElement(evil.find("{%s}Status" % factory.PROTOCOL), "{%s}StatusDetail" % factory.PROTOCOL).append(signed)
    return etree.tostring(evil)


def _later(minutes: float) -> datetime.datetime:
    return factory.utc(minutes / 1440)


# (reason, how to make the response from (sp, request id)); each gets a fresh AuthnRequest.
REFUSALS = {
    "signature_missing": lambda sp, rid: response(sp, rid, sign=None),
    "signature_invalid (a key not in the metadata)": lambda sp, rid: response(sp, rid, key=STRANGER),
    "signature_invalid (tampered after signing)": _tampered,
    "assertion_invalid (signature wrapping)": _wrapped,
    "signature_invalid (response wrapping)": _wrapped_error_response,
    "signature_algorithm_refused": lambda sp, rid: factory.sign_saml_response(
        factory.saml_response(issuer=IDP, destination=sp.acs_urls[0], audience=sp.entity_id, name_id=ALICE,
                              in_response_to=rid), SIGNER, algorithm="rsa-sha1"),
    "unknown_issuer": lambda sp, rid: response(sp, rid, issuer="https://evil.example.test/saml"),
    "audience_mismatch": lambda sp, rid: response(sp, rid, audience="urn:amazon:webservices"),
    "destination_mismatch": lambda sp, rid: response(sp, rid, destination="https://evil.example.test/acs",
                                                     recipient=sp.acs_urls[0]),
    "recipient_mismatch": lambda sp, rid: response(sp, rid, recipient="https://us-east-1.signin.aws/platform/saml/acs/x"),
    "expired": lambda sp, rid: response(sp, rid, not_before=_later(-20), not_on_or_after=_later(-10)),
    "expired (confirmation data)": lambda sp, rid: response(sp, rid, confirmation_not_on_or_after=_later(-5)),
    "not_yet_valid": lambda sp, rid: response(sp, rid, not_before=_later(10), not_on_or_after=_later(20)),
    "name_id_format_invalid": lambda sp, rid: response(sp, rid, name_id_format=factory.PERSISTENT),
    "user_not_provisioned": lambda sp, rid: response(sp, rid, name_id=CAROL),
    "unsolicited": lambda sp, rid: response(sp, None),
    "unknown_request": lambda sp, rid: response(sp, "_never-issued"),
    "status_not_success": lambda sp, rid: response(sp, rid, status="urn:oasis:names:tc:SAML:2.0:status:Requester"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_identity_center_refusals(uploaded: Any, standin: Any, sp: Any, case: str) -> None:
    made = login(uploaded, standin)
    answer = post_acs(uploaded, standin, REFUSALS[case](sp, made["id"]))
    refused(answer, case.split(" ")[0])
    assert standin.state()["logins"][-1]["reason"] == case.split(" ")[0]
    assert standin.state()["sessions"] == []


def test_a_signature_by_an_expired_certificate_of_the_metadata(web: Any, standin: Any, sp: Any) -> None:
    """signxml refuses a certificate outside its validity; the stand-in names that reason (AWS's own behaviour
    with an expired IdP certificate is not documented)."""
    metadata = factory.idp_metadata(IDP, signing=[EXPIRED], sso_location=IDP_SSO)
    assert web.post(standin.url + "/console/identity-source", data=metadata).status_code == 200
    made = login(web, standin)
    refused(post_acs(web, standin, response(sp, made["id"], key=EXPIRED)), "certificate_expired")


def test_a_refused_response_does_not_burn_the_request_but_an_accepted_one_is_single_use(
        uploaded: Any, standin: Any, sp: Any) -> None:
    made = login(uploaded, standin)
    refused(post_acs(uploaded, standin, response(sp, made["id"], key=STRANGER)), "signature_invalid")
    good = response(sp, made["id"])
    assert post_acs(uploaded, standin, good).status_code == 200
    refused(post_acs(uploaded, standin, good), "replayed")
    refused(post_acs(uploaded, standin, response(sp, made["id"])), "replayed")  # a new assertion, same request


def test_no_identity_source_unknown_tenant_and_bad_sessions(web: Any, standin: Any, sp: Any) -> None:
    refused(post_acs(web, standin, response(sp, "_x")), "identity_source_not_configured")
    refused(web.get(standin.url + "/login"), "identity_source_not_configured")
    answer = web.post(standin.url + "/platform/saml/acs/not-ours", data=factory.saml_post_form(response(sp, "_x")))
    assert answer.status_code == 404 and answer.json()["reason"] == "unknown_tenant"
    refused(web.post(standin.url + urlsplit(sp.acs_urls[0]).path, data={"SAMLResponse": "%%%"}), "malformed")
    refused(web.get(standin.url + "/portal/accounts", params={"session": "nope"}), "session_invalid")


def test_a_session_ends_at_the_idp_s_session_not_on_or_after(uploaded: Any, standin: Any, sp: Any) -> None:
    made = login(uploaded, standin)
    ends = _later(30).replace(microsecond=0)
    answer = post_acs(uploaded, standin, response(sp, made["id"], session_not_on_or_after=ends)).json()
    assert answer["expires"] == ends.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_log_keeps_no_bearer_material_and_check_mode_can_be_asserted(uploaded: Any, standin: Any,
                                                                         sp: Any) -> None:
    made = login(uploaded, standin)
    session = post_acs(uploaded, standin, response(sp, made["id"])).json()["session"]
    uploaded.get(standin.url + "/portal/accounts", params={"session": session})
    text = json.dumps(standin.requests())
    assert session not in text and "PHNhbWxw" not in text  # base64 of "<samlp"
    assert [entry["body"]["SAMLResponse"] for entry in standin.requests("POST", "/platform/saml/acs/{t}")] == ["***"]
    # What a check-mode run must not do: the console step is the only write, and it is in the log.
    assert [entry["method"] for entry in standin.requests(path="/console/identity-source")] == ["POST"]


# ------------------------------------------------------------------------------------ classic IAM

def iam_response(world: Any, *, pairs: list[str] | None = None, key: Any = SIGNER, session_name: str | None = "alice",
                 sign: str | None = "response", **overrides: Any) -> bytes:
    attributes = {ROLE_ATTR: pairs if pairs is not None else [world["roles"]["federated"] + "," + world["provider"]]}
    if session_name is not None:
        attributes[SESSION_ATTR] = session_name
    fields = dict(issuer=IDP, destination=IAM_ACS, audience="urn:amazon:webservices", name_id=ALICE,
                  attributes=attributes)
    fields.update(overrides)
    document = factory.saml_response(**fields)
    return document if sign is None else factory.sign_saml_response(document, key, what=sign)


def test_iam_exchanges_a_valid_response_for_credentials_of_the_role(web: Any, standin: Any, world: Any,
                                                                    aws: MotoServer) -> None:
    answer = web.post(standin.url + "/saml", data=factory.saml_post_form(iam_response(world)))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["role_arn"], body["provider_arn"], body["Subject"], body["Issuer"]) == (
        world["roles"]["federated"], world["provider"], ALICE, IDP)
    assert body["Audience"] == IAM_ACS and body["SubjectType"] == "emailAddress"
    credentials = body["Credentials"]
    caller = boto3.client("sts", region_name="us-east-1", endpoint_url=aws.endpoint_url,
                          aws_access_key_id=credentials["AccessKeyId"], aws_secret_access_key=credentials["SecretAccessKey"],
                          aws_session_token=credentials["SessionToken"]).get_caller_identity()
    assert caller["Arn"].endswith(":assumed-role/federated/alice")
    # Provider ARN first is accepted too, as AWS does; a fresh assertion (the first one is spent).
    reordered = iam_response(world, pairs=[world["provider"] + "," + world["roles"]["federated"]], sign="assertion")
    assert web.post(standin.url + "/saml", data=factory.saml_post_form(reordered)).status_code == 200


def test_iam_asks_for_a_role_when_several_are_offered(web: Any, standin: Any, world: Any) -> None:
    pairs = [world["roles"][name] + "," + world["provider"] for name in ("federated", "second")]
    form = factory.saml_post_form(iam_response(world, pairs=pairs))
    choose = web.post(standin.url + "/saml", data=form)
    assert choose.status_code == 300 and choose.json()["reason"] == "role_choice_required"
    assert [item["role_arn"] for item in choose.json()["roles"]] == [world["roles"]["federated"], world["roles"]["second"]]
    chosen = web.post(standin.url + "/saml", data=dict(form, roleIndex=world["roles"]["second"]))
    assert chosen.status_code == 200 and chosen.json()["AssumedRoleUser"]["Arn"].endswith(":assumed-role/second/alice")


IAM_REFUSALS = {
    "role_not_trusted (another provider)": lambda w: iam_response(w, pairs=[w["roles"]["trusts-other"] + "," + w["provider"]]),
    "role_not_trusted (SAML:aud condition)": lambda w: iam_response(w, pairs=[w["roles"]["wrong-aud"] + "," + w["provider"]]),
    "role_not_found": lambda w: iam_response(w, pairs=[w["roles"]["missing"] + "," + w["provider"]]),
    "provider_not_found": lambda w: iam_response(w, pairs=[w["roles"]["federated"] + "," + w["provider"] + "-gone"]),
    "role_attribute_missing": lambda w: iam_response(w, pairs=["not-a-pair"]),
    "role_session_name_invalid": lambda w: iam_response(w, session_name=None),
    "signature_invalid": lambda w: iam_response(w, key=STRANGER),
    "signature_missing": lambda w: iam_response(w, sign=None),
    "unknown_issuer (the provider's metadata names another IdP)": lambda w: iam_response(
        w, pairs=[w["roles"]["trusts-other"] + "," + w["other_provider"]]),
    "audience_mismatch": lambda w: iam_response(w, audience="https://us-east-1.signin.aws.amazon.com/platform/saml/d-1"),
    "recipient_mismatch": lambda w: iam_response(w, destination=None, recipient="https://evil.example.test/saml"),
    "destination_mismatch": lambda w: iam_response(w, destination="https://evil.example.test/saml", recipient=IAM_ACS),
    "expired": lambda w: iam_response(w, not_before=_later(-20), not_on_or_after=_later(-10)),
}


@pytest.mark.parametrize("case", sorted(IAM_REFUSALS))
def test_iam_refusals(web: Any, standin: Any, world: Any, case: str) -> None:
    answer = web.post(standin.url + "/saml", data=factory.saml_post_form(IAM_REFUSALS[case](world)))
    refused(answer, case.split(" ")[0])


def test_iam_refuses_a_replayed_assertion(web: Any, standin: Any, world: Any) -> None:
    form = factory.saml_post_form(iam_response(world))
    assert web.post(standin.url + "/saml", data=form).status_code == 200
    refused(web.post(standin.url + "/saml", data=form), "replayed")


# ------------------------------------------------------------------------------------ as a process

def test_runs_as_a_background_process_and_keeps_its_settings(tmp_path: Path, aws: MotoServer, world: Any) -> None:
    state = str(tmp_path / "standin")
    info = start_standin(state, aws.endpoint_url, "--acs-forms", "ipv4,legacy")
    try:
        assert info["moto_url"] == aws.endpoint_url
        assert json.loads(Path(state, "aws_standin.json").read_text())["acs_forms"] == ["ipv4", "legacy"]
        control = test_server.ControlClient(state)
        assert control.state()["sp"]["identity_store_id"] == world["instance"]["IdentityStoreId"]
        with requests.Session() as session:
            session.trust_env = False
            metadata = session.get(info["sp_metadata_url"], verify=info["ca"], timeout=10)
        assert metadata.status_code == 200 and metadata.content.count(b"<md:AssertionConsumerService") == 2
        assert [entry["path"] for entry in control.requests()] == ["/sp-metadata.xml"]
        # Started again with --dir alone (as a second `make demo` does): the saved settings hold.
        stop = subprocess.run([sys.executable, SCRIPT, "--stop", state], capture_output=True, text=True, timeout=30,
                              check=False)
        assert stop.returncode == 0 and "stopped" in stop.stdout
        again = subprocess.run([sys.executable, SCRIPT, "--dir", state, "--background"], capture_output=True, text=True,
                               timeout=60, check=False)
        assert again.returncode == 0, again.stderr
        assert len(test_server.ControlClient(state).state()["sp"]["acs_urls"]) == 2
    finally:
        stopped = subprocess.run([sys.executable, SCRIPT, "--stop", state], capture_output=True, text=True, timeout=30,
                                 check=False)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    missing = subprocess.run([sys.executable, SCRIPT, "--dir", str(tmp_path / "bare")], capture_output=True, text=True,
                             timeout=30, check=False, env={"PATH": "/usr/bin"})
    assert missing.returncode == 2 and "--moto-url" in missing.stderr
