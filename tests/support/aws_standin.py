# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWS's sign-in side for local tests, beside moto: the IAM Identity Center SAML SP and the classic IAM
``signin.aws.amazon.com/saml`` endpoint, validating real SAML responses against moto's state.

Built on test_server.py (next to it: copy both); needs lxml, signxml and boto3 (the collection's venv)::

    python aws_standin.py --dir STATE --moto-url http://127.0.0.1:PORT [--region us-east-1]
                          [--acs-forms ipv4[,dual_stack,legacy]] [--port 0] [--background]
    python aws_standin.py --stop STATE

--moto-url/--region/--acs-forms/--skew are kept in STATE/aws_standin.json, so a restart (and the
``--background`` child) finds them; IDFED_MOTO_URL is the fallback for the moto URL.

Identity Center (the instance is moto's: sso-admin ListInstances/ListRegions in --region, read on each call):
  GET  /sp-metadata.xml               the SP metadata the console hands out: entityID
                                      https://<primary>.signin.aws.amazon.com/platform/saml/<identity store id>,
                                      an HTTP-POST ACS per ACTIVE Region (and form), NameIDFormat emailAddress
  POST /console/identity-source       the console's "Change identity source" step: the body is the IdP
                                      metadata (XML, or JSON {"metadata": "..."}); checked as the console
                                      does, kept in STATE; GET shows it, DELETE goes back to the directory
  GET  /login[?region=R&relay_state=S] an AuthnRequest (HTTP-Redirect binding) to the uploaded IdP's SSO
                                      URL: 302 with Location, and its id in the JSON body; one use each
  POST /platform/saml/acs/{tenant}    the ACS (a test rewrites https://<region>.signin.aws to this server):
                                      SAMLResponse validated as Identity Center does; 200 {"user", "session",
                                      ...} or 403 {"reason", "message"}
  GET  /portal/accounts?session=S     (or header x-amz-sso_bearer_token) the accounts and permission sets the
                                      user may use, from moto's assignments to the user and its groups
Classic IAM:
  POST /saml                          SAMLResponse (+ roleIndex=<role ARN> when several roles are offered):
                                      validated against moto's IAM SAML provider named in the Role attribute,
                                      the role's trust policy checked, then STS AssumeRoleWithSAML on moto;
                                      200 {"Credentials", "AssumedRoleUser", "Subject", ...}
/_control/ (test_server.ControlClient): log (SAMLResponse and session tokens masked), faults, reset, state
({"identity_source", "sp", "logins", "sessions", "pending_requests", ...}).

Every refusal is HTTP 403 {"reason": <code>, "message": ...}; the codes are in REASONS.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime
import fnmatch
import hashlib
import json
import os
import re
import secrets
import sys
import threading
import zlib
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from lxml import etree

import test_server
from test_server import Reply, Request, TestServer, write_atomic

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
XENC = "http://www.w3.org/2001/04/xmlenc#"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role"
SESSION_NAME_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
DURATION_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
IAM_AUDIENCES = ("urn:amazon:webservices", "https://signin.aws.amazon.com/saml")
IAM_ACS = "https://signin.aws.amazon.com/saml"
ACS_HOSTS = {"ipv4": "signin.aws", "dual_stack": "sso.signin.aws", "legacy": "signin.aws.amazon.com"}
METADATA_LIMIT = 75000  # characters the console accepts (notes/aws-identity-center.md)
RESPONSE_LIMIT = 1024 * 1024
PORTAL_SESSION = datetime.timedelta(hours=8)  # the default portal session
REQUEST_LIFETIME = datetime.timedelta(hours=1)  # how long an issued AuthnRequest id may be answered
XML_TYPE = "application/samlmetadata+xml"
CONFIG_FILE = "aws_standin.json"
SOURCE_XML, SOURCE_JSON = "identity-source.xml", "identity-source.json"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                          remove_comments=True)

# Refusal codes (HTTP 403 unless said): what each means.
REASONS = {
    "malformed": "no SAMLResponse, not base64, not XML or not a samlp:Response (also duplicate IDs)",
    "identity_source_not_configured": "no IdP metadata uploaded for this instance",
    "status_not_success": "the Response's StatusCode is not Success",
    "encrypted_assertion_not_supported": "an EncryptedAssertion (Identity Center and this stand-in take none)",
    "assertion_invalid": "not exactly one Assertion (a child of the Response), or no bearer confirmation",
    "unknown_issuer": "the Issuer is not the uploaded IdP's entityID (IAM: not the provider's)",
    "signature_missing": "neither the Response nor the Assertion is signed",
    "signature_invalid": "no certificate of the metadata verifies the signature, or it covers other content",
    "signature_algorithm_refused": "SHA-1 (or another refused algorithm) signature or digest",
    "certificate_expired": "the signature verifies only with a certificate outside its validity",
    "destination_mismatch": "the Response's Destination is not one of the ACS URLs",
    "recipient_mismatch": "the SubjectConfirmationData Recipient is not one of the ACS URLs",
    "audience_mismatch": "no Audience is the SP's entityID",
    "not_yet_valid": "NotBefore / IssueInstant later than now plus the skew",
    "expired": "NotOnOrAfter (Conditions or SubjectConfirmationData) has passed",
    "unsolicited": "no InResponseTo: Identity Center answers only requests it issued (GET /login)",
    "unknown_request": "InResponseTo names no request this stand-in issued (or an expired one)",
    "replayed": "the request id or the assertion id was used already",
    "name_id_format_invalid": "NameID Format is not emailAddress, or its value is not an email",
    "user_not_provisioned": "no identity store user has the NameID as user name",
    "session_invalid": "portal: unknown or expired session",
    "role_attribute_missing": "IAM: no Role attribute with a role_arn,provider_arn pair",
    "role_choice_required": "IAM: several roles offered and no roleIndex chosen (HTTP 300)",
    "provider_not_found": "IAM: the provider ARN of the pair is not an IAM SAML provider",
    "role_session_name_invalid": "IAM: RoleSessionName missing or not [\\w+=,.@-]{2,64}",
    "role_not_found": "IAM: the role of the pair does not exist",
    "role_not_trusted": "IAM: the role's trust policy does not let the provider sts:AssumeRoleWithSAML",
    "backend_error": "moto answered an error (HTTP 502)",
}


class Refusal(Exception):
    def __init__(self, reason: str, message: str, status: int = 403, **extra: Any):
        super().__init__(message)
        self.reason, self.message, self.status, self.extra = reason, message, status, extra

    def reply(self) -> Reply:
        return Reply.json(dict({"reason": self.reason, "message": self.message}, **self.extra), self.status)


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def xs_time(value: datetime.datetime) -> str:
    return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str | None, what: str) -> datetime.datetime | None:
    if text is None:
        return None
    # xs:dateTime: fractions may exceed the microseconds fromisoformat reads; "Z" or an offset.
    match = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?$", text.strip())
    if not match:
        raise Refusal("malformed", "{0} is not an xs:dateTime: {1!r}".format(what, text))
    fraction = (match.group(2) or "")[:7]
    zone = match.group(3) or "Z"
    value = datetime.datetime.fromisoformat(match.group(1) + fraction + ("+00:00" if zone == "Z" else zone))
    return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)


def fingerprint(cert: x509.Certificate) -> str:
    return ":".join("{0:02X}".format(b) for b in cert.fingerprint(hashes.SHA256()))


# ------------------------------------------------------------------------------------- IdP metadata

@dataclass
class IdpMetadata:
    entity_id: str
    certificates: list[x509.Certificate]
    sso: list[tuple[str, str]]  # (binding, location)
    document: bytes

    def summary(self) -> dict[str, Any]:
        return {"entity_id": self.entity_id,
                "certificates": [{"fingerprint_sha256": fingerprint(cert), "subject": cert.subject.rfc4514_string(),
                                  "not_after": xs_time(cert.not_valid_after_utc)} for cert in self.certificates],
                "sso_services": [{"binding": binding, "location": location} for binding, location in self.sso]}

    def sso_url(self) -> tuple[str, str]:
        for wanted in (REDIRECT, POST):
            for binding, location in self.sso:
                if binding == wanted:
                    return binding, location
        raise Refusal("identity_source_not_configured", "the IdP metadata has no HTTP-Redirect or HTTP-POST SSO")


def parse_idp_metadata(document: bytes, *, console: bool) -> IdpMetadata:
    """IdP metadata as the console (console=True: Identity Center's limits) or IAM reads it; a ValueError
    names what is wrong."""
    if console and len(document.decode("utf-8", "replace")) > METADATA_LIMIT:
        raise ValueError("metadata_too_large: more than {0} characters".format(METADATA_LIMIT))
    try:
        root = etree.fromstring(document, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise ValueError("metadata_invalid: not XML ({0})".format(exc)) from None
    if root.tag != "{%s}EntityDescriptor" % MD or not root.get("entityID"):
        raise ValueError("metadata_invalid: the root is not one md:EntityDescriptor with an entityID")
    role = root.find("{%s}IDPSSODescriptor" % MD)
    if role is None:
        raise ValueError("metadata_invalid: no md:IDPSSODescriptor")
    certificates = []
    for descriptor in role.findall("{%s}KeyDescriptor" % MD):
        use = descriptor.get("use")
        if use == "encryption":
            if console:  # Identity Center takes no encryption key (the upload-ready artifact strips them)
                raise ValueError("encryption_not_supported: a KeyDescriptor use=\"encryption\"")
            continue
        for node in descriptor.iterfind(".//{%s}X509Certificate" % DS):
            try:
                certificates.append(x509.load_der_x509_certificate(base64.b64decode("".join((node.text or "").split()))))
            except (ValueError, binascii.Error) as exc:
                raise ValueError("metadata_invalid: an unreadable X509Certificate ({0})".format(exc)) from None
    if not certificates:
        raise ValueError("no_signing_certificate: no signing X509Certificate")
    sso = [(node.get("Binding", ""), node.get("Location", "")) for node in role.findall("{%s}SingleSignOnService" % MD)]
    if not sso:
        raise ValueError("no_sso_service: no md:SingleSignOnService")
    return IdpMetadata(root.get("entityID"), certificates, sso, document)


# ----------------------------------------------------------------------------------- SAML responses

@dataclass
class Verified:
    """What was signed, and only that: the assertion (and the Response when it is the signed element)."""

    root: Any  # the Response as posted (Destination, InResponseTo are read from the signed copy when signed)
    assertion: Any
    signed: str  # "response", "assertion" or "both"

    def response_attribute(self, name: str) -> str | None:
        return self.root.get(name)


def decode_response(value: str | None) -> Any:
    if not value:
        raise Refusal("malformed", "no SAMLResponse in the form")
    try:
        data = base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise Refusal("malformed", "the SAMLResponse is not base64") from None
    if len(data) > RESPONSE_LIMIT:
        raise Refusal("malformed", "the SAMLResponse is larger than {0} bytes".format(RESPONSE_LIMIT))
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise Refusal("malformed", "the SAMLResponse is not XML: {0}".format(exc)) from None
    if root.tag != "{%s}Response" % SAMLP:
        raise Refusal("malformed", "the root is {0}, not samlp:Response".format(root.tag))
    ids = [node.get("ID") for node in root.iter() if isinstance(node.tag, str) and node.get("ID")]
    if len(ids) != len(set(ids)):
        raise Refusal("malformed", "two elements carry the same ID (a signature wrapping attempt)")
    return root


def check_status(root: Any) -> None:
    code = root.find("{%s}Status/{%s}StatusCode" % (SAMLP, SAMLP))
    if code is None or code.get("Value") != SUCCESS:
        raise Refusal("status_not_success", "the Response status is {0}".format(None if code is None else code.get("Value")))


def the_assertion(root: Any) -> Any:
    if root.find(".//{%s}EncryptedAssertion" % SAML) is not None:
        raise Refusal("encrypted_assertion_not_supported", "the Response carries an EncryptedAssertion")
    everywhere = root.findall(".//{%s}Assertion" % SAML)
    children = root.findall("{%s}Assertion" % SAML)
    if len(everywhere) != 1 or len(children) != 1:
        raise Refusal("assertion_invalid", "{0} Assertion elements ({1} children of the Response), one wanted".format(
            len(everywhere), len(children)))
    return children[0]


def issuers(root: Any, assertion: Any) -> list[str]:
    found = [(node.text or "").strip() for node in (root.find("{%s}Issuer" % SAML), assertion.find("{%s}Issuer" % SAML))
             if node is not None]
    if assertion.find("{%s}Issuer" % SAML) is None:
        raise Refusal("assertion_invalid", "the Assertion has no Issuer")
    return found


def check_issuer(root: Any, assertion: Any, entity_id: str) -> None:
    for issuer in issuers(root, assertion):
        if issuer != entity_id:
            raise Refusal("unknown_issuer", "Issuer {0!r} is not the identity provider {1!r}".format(issuer, entity_id))


def _verify_with(element: Any, location: str, cert: x509.Certificate, when: datetime.datetime | None):
    from signxml import SignatureConfiguration, XMLVerifier  # imported late: --stop needs neither

    config = SignatureConfiguration(location=location, expect_references=1,
                                    **({"verification_time": when} if when else {}))
    return XMLVerifier().verify(element, x509_cert=cert, expect_config=config)


def _verify_element(root: Any, location: str, certificates: list[x509.Certificate], expected_id: str) -> Any:
    """The signed element (a copy signxml returns), verified with one of the certificates."""
    from signxml.exceptions import InvalidCertificate, InvalidInput, InvalidSignature

    errors, expired = [], []
    for cert in certificates:
        try:
            result = _verify_with(root, location, cert, None)
        except InvalidCertificate as exc:
            expired.append(cert)
            errors.append(str(exc))
            continue
        except InvalidInput as exc:
            if "forbidden by configuration" in str(exc):
                raise Refusal("signature_algorithm_refused", str(exc)) from None
            errors.append(str(exc))
            continue
        except (InvalidSignature, etree.DocumentInvalid, ValueError) as exc:
            errors.append(str(exc))
            continue
        signed = result.signed_xml
        if signed is None or signed.get("ID") != expected_id:
            raise Refusal("signature_invalid", "the signature covers {0!r}, not the element it sits in ({1!r})".format(
                None if signed is None else signed.get("ID"), expected_id))
        return signed
    for cert in expired:  # would it verify inside the certificate's validity? then the expiry is the reason
        try:
            _verify_with(root, location, cert, cert.not_valid_before_utc + datetime.timedelta(seconds=1))
        except Exception:  # pylint: disable=broad-except  # any failure: not the expiry's fault
            continue
        raise Refusal("certificate_expired", "the signing certificate {0} is valid {1} to {2}".format(
            fingerprint(cert), xs_time(cert.not_valid_before_utc), xs_time(cert.not_valid_after_utc)))
    raise Refusal("signature_invalid", "no certificate of the metadata verifies the signature: {0}".format(
        "; ".join(errors)[:500]))


def verify_signatures(root: Any, assertion: Any, certificates: list[x509.Certificate]) -> Verified:
    """A signed Response and/or a signed Assertion (location checked: a signature must be a child of what
    it signs, and refer to it); from here on only the signed copies are read (no wrapping attack)."""
    response_signed = root.find("{%s}Signature" % DS) is not None
    assertion_signed = assertion.find("{%s}Signature" % DS) is not None
    if not response_signed and not assertion_signed:
        raise Refusal("signature_missing", "neither the Response nor the Assertion is signed")
    signed_root = root
    if response_signed:
        signed_root = _verify_element(root, "./", certificates, root.get("ID"))
        assertion = the_assertion(signed_root)
    if assertion_signed:
        holder = signed_root if response_signed else root
        assertion = _verify_element(holder, "./{%s}Assertion/" % SAML, certificates, assertion.get("ID"))
    signed = "both" if response_signed and assertion_signed else ("response" if response_signed else "assertion")
    return Verified(signed_root, assertion, signed)


@dataclass
class Claims:
    name_id: str
    name_id_format: str | None
    recipient: str | None
    in_response_to: str | None
    audiences: list[str]
    session_not_on_or_after: datetime.datetime | None
    attributes: dict[str, list[str]]
    assertion_id: str


def read_claims(verified: Verified, skew: datetime.timedelta, now: datetime.datetime) -> Claims:
    """Subject, bearer confirmation, conditions and attributes of the verified assertion; time checked."""
    assertion = verified.assertion
    name_id = assertion.find("{%s}Subject/{%s}NameID" % (SAML, SAML))
    if name_id is None:
        raise Refusal("assertion_invalid", "the Assertion has no Subject/NameID")
    bearer = [node for node in assertion.findall("{%s}Subject/{%s}SubjectConfirmation" % (SAML, SAML))
              if node.get("Method") == BEARER]
    if not bearer:
        raise Refusal("assertion_invalid", "no bearer SubjectConfirmation")
    data = bearer[0].find("{%s}SubjectConfirmationData" % SAML)
    data = data if data is not None else etree.Element("none")
    conditions = assertion.find("{%s}Conditions" % SAML)
    conditions = conditions if conditions is not None else etree.Element("none")
    for what, text in (("IssueInstant", assertion.get("IssueInstant")), ("Conditions NotBefore", conditions.get("NotBefore"))):
        moment = parse_time(text, what)
        if moment is not None and moment - skew > now:
            raise Refusal("not_yet_valid", "{0} {1} is in the future (now {2})".format(what, text, xs_time(now)))
    for what, text in (("Conditions NotOnOrAfter", conditions.get("NotOnOrAfter")),
                       ("SubjectConfirmationData NotOnOrAfter", data.get("NotOnOrAfter"))):
        moment = parse_time(text, what)
        if moment is not None and moment + skew <= now:
            raise Refusal("expired", "{0} {1} has passed (now {2})".format(what, text, xs_time(now)))
    if data.get("NotOnOrAfter") is None:
        raise Refusal("assertion_invalid", "the bearer SubjectConfirmationData has no NotOnOrAfter")
    statement = assertion.find("{%s}AuthnStatement" % SAML)
    attributes: dict[str, list[str]] = {}
    for attribute in assertion.iterfind("{%s}AttributeStatement/{%s}Attribute" % (SAML, SAML)):
        attributes.setdefault(attribute.get("Name", ""), []).extend(
            (value.text or "").strip() for value in attribute.findall("{%s}AttributeValue" % SAML))
    return Claims(
        name_id=(name_id.text or "").strip(), name_id_format=name_id.get("Format"),
        recipient=data.get("Recipient"), in_response_to=data.get("InResponseTo"),
        audiences=[(node.text or "").strip() for node in
                   conditions.iterfind("{%s}AudienceRestriction/{%s}Audience" % (SAML, SAML))],
        session_not_on_or_after=parse_time(None if statement is None else statement.get("SessionNotOnOrAfter"),
                                           "SessionNotOnOrAfter"),
        attributes=attributes, assertion_id=assertion.get("ID", ""))


def check_audience(claims: Claims, wanted: tuple[str, ...] | list[str]) -> None:
    if not claims.audiences or not set(claims.audiences) & set(wanted):
        raise Refusal("audience_mismatch", "Audience {0} is not {1}".format(claims.audiences, " or ".join(wanted)))


def check_recipients(verified: Verified, claims: Claims, acs_urls: list[str]) -> None:
    destination = verified.response_attribute("Destination")
    if destination is not None and destination not in acs_urls:
        raise Refusal("destination_mismatch", "Destination {0!r} is not one of {1}".format(destination, acs_urls))
    if claims.recipient not in acs_urls:
        raise Refusal("recipient_mismatch", "Recipient {0!r} is not one of {1}".format(claims.recipient, acs_urls))


# ------------------------------------------------------------------------------------- moto (boto3)

class Backend:
    """The calls the stand-in makes to moto; every one a read except STS AssumeRoleWithSAML."""

    def __init__(self, endpoint_url: str, region: str):
        import boto3  # pylint: disable=import-outside-toplevel  # the command line's --stop needs no boto3
        from botocore.config import Config  # pylint: disable=import-outside-toplevel

        self.endpoint_url, self.region = endpoint_url, region
        self._session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
        self._config = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=30)
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def client(self, name: str) -> Any:
        """Made on first use (a boto3 client takes a while to build; a client is thread-safe, a session not)."""
        with self._lock:
            if name not in self._clients:
                self._clients[name] = self._session.client(name, region_name=self.region,
                                                           endpoint_url=self.endpoint_url, config=self._config)
            return self._clients[name]

    def instance(self) -> dict[str, Any]:
        instances = self.client("sso-admin").list_instances()["Instances"]
        if not instances:
            raise Refusal("backend_error", "moto has no Identity Center instance in {0}".format(self.region), 502)
        return instances[0]

    def regions(self, instance: dict[str, Any]) -> list[str]:
        """The instance's ACTIVE Regions, primary first (ListRegions of a multi-Region instance)."""
        found = self._pages("sso-admin", "list_regions", "Regions", InstanceArn=instance["InstanceArn"])
        primary = [item["RegionName"] for item in found if item.get("IsPrimaryRegion")] or [self.region]
        return primary + sorted(item["RegionName"] for item in found
                                if item.get("Status") == "ACTIVE" and not item.get("IsPrimaryRegion"))

    def _pages(self, service: str, operation: str, key: str, **params: Any) -> list[Any]:
        items, token = [], None
        while True:
            page = getattr(self.client(service), operation)(**params, **({"NextToken": token} if token else {}))
            items.extend(page.get(key, []))
            token = page.get("NextToken")
            if not token:
                return items

    def user_id(self, store: str, user_name: str) -> str | None:
        from botocore.exceptions import ClientError  # pylint: disable=import-outside-toplevel

        try:
            return self.client("identitystore").get_user_id(IdentityStoreId=store, AlternateIdentifier={
                "UniqueAttribute": {"AttributePath": "userName", "AttributeValue": user_name}})["UserId"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                return None
            raise

    def groups(self, store: str, user_id: str) -> list[dict[str, str]]:
        memberships = self._pages("identitystore", "list_group_memberships_for_member", "GroupMemberships",
                                  IdentityStoreId=store, MemberId={"UserId": user_id})
        groups = []
        for group_id in sorted({item["GroupId"] for item in memberships}):
            name = self.client("identitystore").describe_group(IdentityStoreId=store, GroupId=group_id)["DisplayName"]
            groups.append({"id": group_id, "name": name})
        return groups

    def assignments(self, instance_arn: str, principal_type: str, principal_id: str) -> list[dict[str, str]]:
        return self._pages("sso-admin", "list_account_assignments_for_principal", "AccountAssignments",
                           InstanceArn=instance_arn, PrincipalType=principal_type, PrincipalId=principal_id)

    def permission_set(self, instance_arn: str, arn: str) -> dict[str, Any]:
        return self.client("sso-admin").describe_permission_set(InstanceArn=instance_arn,
                                                                PermissionSetArn=arn)["PermissionSet"]

    def account_name(self, account_id: str) -> str | None:
        """The Organizations name when moto has an organization with the account (the portal shows it)."""
        from botocore.exceptions import ClientError  # pylint: disable=import-outside-toplevel

        try:
            return self.client("organizations").describe_account(AccountId=account_id)["Account"].get("Name")
        except ClientError:
            return None

    def saml_provider(self, arn: str) -> bytes | None:
        from botocore.exceptions import ClientError  # pylint: disable=import-outside-toplevel

        try:
            return self.client("iam").get_saml_provider(SAMLProviderArn=arn)["SAMLMetadataDocument"].encode("utf-8")
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchEntity", "InvalidInput", "ValidationError"):
                return None
            raise

    def role(self, arn: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError  # pylint: disable=import-outside-toplevel

        try:
            role = self.client("iam").get_role(RoleName=arn.rsplit("/", 1)[-1])["Role"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "NoSuchEntity":
                return None
            raise
        return role if role["Arn"] == arn else None

    def assume_role_with_saml(self, role_arn: str, provider_arn: str, assertion: str,
                              duration: int | None) -> dict[str, Any]:
        params = {"RoleArn": role_arn, "PrincipalArn": provider_arn, "SAMLAssertion": assertion}
        if duration:
            params["DurationSeconds"] = duration
        answer = self.client("sts").assume_role_with_saml(**params)
        answer.pop("ResponseMetadata", None)
        return answer


# ------------------------------------------------------------------------------------ trust policies

def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _condition_holds(conditions: dict[str, Any], context: dict[str, str]) -> bool:
    """The condition operators a SAML trust policy uses on SAML:* keys; an unknown key or operator fails
    (a stand-in that cannot tell must not let a role be assumed)."""
    for operator, tests in (conditions or {}).items():
        base = operator.replace("ForAnyValue:", "").replace("ForAllValues:", "")
        for key, wanted in tests.items():
            actual = context.get(key.lower())
            if actual is None:
                return False
            wanted = [str(item) for item in _as_list(wanted)]
            if base == "StringEquals":
                ok = actual in wanted
            elif base == "StringEqualsIgnoreCase":
                ok = actual.lower() in [item.lower() for item in wanted]
            elif base == "StringLike":
                ok = any(fnmatch.fnmatchcase(actual, item) for item in wanted)
            elif base == "StringNotEquals":
                ok = actual not in wanted
            else:
                return False
            if not ok:
                return False
    return True


def trusts(policy: Any, provider_arn: str, context: dict[str, str]) -> tuple[bool, str]:
    """Does this trust policy let the provider call sts:AssumeRoleWithSAML (an explicit Deny wins)?"""
    if isinstance(policy, str):
        policy = json.loads(policy)
    allowed, why = False, "no statement allows {0} sts:AssumeRoleWithSAML".format(provider_arn)
    for statement in _as_list(policy.get("Statement", [])):
        actions = [str(item).lower() for item in _as_list(statement.get("Action", []))]
        if not any(fnmatch.fnmatchcase("sts:assumerolewithsaml", action) for action in actions):
            continue
        principal = statement.get("Principal", {})
        federated = _as_list(principal.get("Federated", [])) if isinstance(principal, dict) else _as_list(principal)
        if provider_arn not in federated and "*" not in federated:
            continue
        if not _condition_holds(statement.get("Condition", {}), context):
            why = "a statement for {0} has conditions the assertion does not meet: {1}".format(
                provider_arn, json.dumps(statement.get("Condition")))
            continue
        if statement.get("Effect") == "Deny":
            return False, "an explicit Deny for {0}".format(provider_arn)
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed, "" if allowed else why


def role_pairs(values: list[str]) -> list[tuple[str, str]]:
    """Role attribute values "role_arn,provider_arn" (either order, as AWS accepts) -> (role, provider)."""
    pairs = []
    for value in values:
        parts = [part.strip() for part in value.split(",")]
        roles = [part for part in parts if re.match(r"^arn:aws[\w-]*:iam::\d{12}:role/", part)]
        providers = [part for part in parts if re.match(r"^arn:aws[\w-]*:iam::\d{12}:saml-provider/", part)]
        if len(parts) == 2 and len(roles) == 1 and len(providers) == 1:
            pairs.append((roles[0], providers[0]))
    return pairs


def moto_assertion(role_arn: str, provider_arn: str, session_name: str, duration: int | None) -> str:
    """The assertion handed to moto's STS, after this stand-in validated the real one. moto reads only the
    first Role value (role ARN first), needs at least two attributes, and checks no signature anyway."""
    root = etree.Element("{%s}Response" % SAMLP, nsmap={"samlp": SAMLP, "saml": SAML})
    statement = etree.SubElement(etree.SubElement(root, "{%s}Assertion" % SAML), "{%s}AttributeStatement" % SAML)
    values = [(ROLE_ATTRIBUTE, role_arn + "," + provider_arn), (SESSION_NAME_ATTRIBUTE, session_name)]
    if duration:
        values.append((DURATION_ATTRIBUTE, str(duration)))
    for name, value in values:
        attribute = etree.SubElement(statement, "{%s}Attribute" % SAML, Name=name)
        etree.SubElement(attribute, "{%s}AttributeValue" % SAML).text = value
    return base64.b64encode(etree.tostring(root)).decode("ascii")


# --------------------------------------------------------------------------------------- the server

@dataclass
class Session:
    token: str
    user: str
    user_id: str
    identity_store_id: str
    instance_arn: str
    expires: datetime.datetime


@dataclass
class SpView:
    """Identity Center's SP side as moto's instance defines it."""

    instance: dict[str, Any]
    regions: list[str]
    tenant: str
    entity_id: str
    acs_urls: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"instance_arn": self.instance["InstanceArn"], "identity_store_id": self.instance["IdentityStoreId"],
                "regions": self.regions, "tenant": self.tenant, "entity_id": self.entity_id, "acs_urls": self.acs_urls}


def tenant_of(instance_arn: str, region: str) -> str:
    """The ACS tenant: no API gives it; AWS's look like <hex of the Region's first 8 characters>-xxxx-...
    (shared/corpus/saml/sp). Derived from the instance ARN, so it is stable while moto keeps the instance."""
    digest = hashlib.sha256(instance_arn.encode("utf-8")).hexdigest()
    return "{0}-{1}-{2}-{3}-{4}".format(region[:8].encode("ascii").hex(), digest[0:4], digest[4:8], digest[8:12],
                                        digest[12:24])


@dataclass
class Settings:
    moto_url: str
    region: str = "us-east-1"
    acs_forms: tuple[str, ...] = ("ipv4",)
    skew: float = 60.0  # seconds of clock skew allowed on every time condition


class AwsStandin(TestServer):
    name = "AWS sign-in stand-in"

    def __init__(self, state_dir: str | None = None, *, moto_url: str, region: str = "us-east-1",
                 acs_forms: tuple[str, ...] | list[str] = ("ipv4",), skew: float = 60.0, host: str = "127.0.0.1",
                 port: int = 0, http_port: int | None = None, access_log: str | None = None):
        unknown = [form for form in acs_forms if form not in ACS_HOSTS]
        if unknown or not acs_forms:
            raise ValueError("acs_forms are some of {0}, got {1}".format(sorted(ACS_HOSTS), list(acs_forms)))
        self.settings = Settings(moto_url, region, tuple(acs_forms), float(skew))
        self.backend = Backend(moto_url, region)
        self._state_lock = threading.RLock()
        self._pending: dict[str, dict[str, Any]] = {}
        self._used_requests: set[str] = set()
        self._used_assertions: set[str] = set()
        self._sessions: dict[str, Session] = {}
        self._logins: deque[dict[str, Any]] = deque(maxlen=1000)
        super().__init__(state_dir, host=host, port=port, http_port=http_port, key_type="ec", access_log=access_log)

    # ------------------------------------------------------------------------ base hooks

    def setup_routes(self) -> None:
        for method, pattern, handler in (
                ("GET", "/sp-metadata.xml", self._sp_metadata),
                ("GET", "/console/identity-source", self._get_identity_source),
                ("POST", "/console/identity-source", self._set_identity_source),
                ("PUT", "/console/identity-source", self._set_identity_source),
                ("DELETE", "/console/identity-source", self._delete_identity_source),
                ("GET", "/login", self._login),
                ("POST", "/platform/saml/acs/{tenant}", self._acs),
                ("GET", "/portal/accounts", self._portal),
                ("POST", "/saml", self._iam_saml)):
            self.add_route(method, pattern, self._guarded(handler))

    @staticmethod
    def _guarded(handler: Any) -> Any:
        """A Refusal is its 403 JSON; a moto failure a 502 (the base would answer any exception with 500)."""
        from botocore.exceptions import BotoCoreError, ClientError  # pylint: disable=import-outside-toplevel

        def run(request: Request) -> Any:
            try:
                return handler(request)
            except Refusal as refusal:
                return refusal.reply()
            except (BotoCoreError, ClientError) as exc:
                return Refusal("backend_error", "moto: {0}".format(exc), 502).reply()
        return run

    def handle(self, handler: Any, request: Request) -> None:
        """The log keeps no bearer material: the SAMLResponse (replayable until it expires) and sessions."""
        logged = request.logged

        def masked() -> dict[str, Any]:
            entry = logged()
            if isinstance(entry.get("body"), dict):
                entry["body"] = {key: "***" if key in ("SAMLResponse", "SAMLRequest") and value else value
                                 for key, value in entry["body"].items()}
            if "session" in entry["query"]:
                entry["query"] = dict(entry["query"], session=["***"])
            entry["headers"] = {key: "***" if key.lower() == "x-amz-sso_bearer_token" else value
                                for key, value in entry["headers"].items()}
            return entry

        request.logged = masked  # type: ignore[method-assign]
        super().handle(handler, request)

    def error_reply(self, status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
        return Reply.json({"reason": "http_{0}".format(status), "message": message}, status, headers)

    def reset(self) -> None:
        super().reset()
        with self._state_lock:
            self._pending.clear()
            self._used_requests.clear()
            self._used_assertions.clear()
            self._sessions.clear()
            self._logins.clear()
            for name in (SOURCE_XML, SOURCE_JSON):
                try:
                    os.unlink(os.path.join(self.state_dir, name))
                except FileNotFoundError:
                    pass

    def state(self) -> dict[str, Any]:
        try:
            sp: Any = self.sp().as_dict()
        except Exception as exc:  # pylint: disable=broad-except  # moto down: say so, state is still useful
            sp = {"error": str(exc)}
        with self._state_lock:
            now = utcnow()
            return {
                "sp": sp,
                "identity_source": self._source_summary(),
                "pending_requests": sorted(self._pending),
                "used_requests": len(self._used_requests),
                "sessions": [{"user": item.user, "expires": xs_time(item.expires)}
                             for item in self._sessions.values() if item.expires > now],
                "logins": list(self._logins),
                "settings": {"moto_url": self.settings.moto_url, "region": self.settings.region,
                             "acs_forms": list(self.settings.acs_forms), "skew": self.settings.skew},
            }

    def info(self) -> dict[str, Any]:
        return dict(super().info(), moto_url=self.settings.moto_url, region=self.settings.region,
                    sp_metadata_url=self.url + "/sp-metadata.xml", iam_saml_url=self.url + "/saml",
                    identity_source_url=self.url + "/console/identity-source", login_url=self.url + "/login")

    # ------------------------------------------------------------------------ the SP side

    def sp(self) -> SpView:
        instance = self.backend.instance()
        regions = self.backend.regions(instance)
        tenant = tenant_of(instance["InstanceArn"], regions[0])
        entity_id = "https://{0}.signin.aws.amazon.com/platform/saml/{1}".format(regions[0], instance["IdentityStoreId"])
        acs = ["https://{0}.{1}/platform/saml/acs/{2}".format(region, ACS_HOSTS[form], tenant)
               for region in regions for form in self.settings.acs_forms]
        return SpView(instance, regions, tenant, entity_id, acs)

    def _sp_metadata(self, _request: Request) -> Reply:
        view = self.sp()
        root = etree.Element("{%s}EntityDescriptor" % MD, {"entityID": view.entity_id}, nsmap={"md": MD})
        role = etree.SubElement(root, "{%s}SPSSODescriptor" % MD, {
            "AuthnRequestsSigned": "false", "WantAssertionsSigned": "true", "protocolSupportEnumeration": SAMLP})
        etree.SubElement(role, "{%s}NameIDFormat" % MD).text = EMAIL
        for index, location in enumerate(view.acs_urls):
            attributes = {"Binding": POST, "Location": location, "index": str(index)}
            if index == 0:
                attributes["isDefault"] = "true"
            etree.SubElement(role, "{%s}AssertionConsumerService" % MD, attributes)
        body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        return Reply.text(body, content_type=XML_TYPE, headers={
            "Content-Disposition": 'attachment; filename="Identity Center SAML metadata.xml"'})

    # ------------------------------------------------------------------------ the console step

    def _source_paths(self) -> tuple[str, str]:
        return os.path.join(self.state_dir, SOURCE_XML), os.path.join(self.state_dir, SOURCE_JSON)

    def _source(self) -> tuple[IdpMetadata, dict[str, Any]] | None:
        xml_path, json_path = self._source_paths()
        try:
            with open(xml_path, "rb") as handle:
                document = handle.read()
            with open(json_path, encoding="utf-8") as handle:
                record = json.load(handle)
        except (OSError, ValueError):
            return None
        return parse_idp_metadata(document, console=True), record

    def _source_summary(self) -> dict[str, Any]:
        found = self._source()
        if found is None:
            return {"configured": False, "type": "IDENTITY_CENTER_DIRECTORY"}
        metadata, record = found
        return dict(metadata.summary(), configured=True, type="EXTERNAL_IDP", **record)

    def _configured_source(self, view: SpView) -> IdpMetadata:
        found = self._source()
        if found is None:
            raise Refusal("identity_source_not_configured", "no IdP metadata was uploaded (POST /console/identity-source)")
        metadata, record = found
        if record.get("identity_store_id") != view.instance["IdentityStoreId"]:
            raise Refusal("identity_source_not_configured", "the uploaded IdP metadata is for identity store {0}, "
                          "this instance's is {1}".format(record.get("identity_store_id"), view.instance["IdentityStoreId"]))
        return metadata

    def _get_identity_source(self, _request: Request) -> dict[str, Any]:
        return self._source_summary()

    def _set_identity_source(self, request: Request) -> Reply:
        document = request.body
        if "json" in (request.header("Content-Type") or "") and isinstance(request.json, dict):
            document = str(request.json.get("metadata", "")).encode("utf-8")
        try:
            metadata = parse_idp_metadata(document, console=True)
        except ValueError as exc:
            reason, message = (str(exc).split(": ", 1) + [""])[:2]
            return Reply.json({"reason": reason, "message": message}, 400)
        view = self.sp()
        xml_path, json_path = self._source_paths()
        with self._state_lock:
            before = self._source()
            changed = before is None or before[0].document != document or \
                before[1].get("identity_store_id") != view.instance["IdentityStoreId"]
            if changed:
                write_atomic(xml_path, document)
                write_atomic(json_path, json.dumps({"identity_store_id": view.instance["IdentityStoreId"],
                                                    "uploaded_at": xs_time(utcnow())}).encode("utf-8"))
        return Reply.json(dict(self._source_summary(), changed=changed))

    def _delete_identity_source(self, _request: Request) -> dict[str, Any]:
        with self._state_lock:
            changed = self._source() is not None
            for path in self._source_paths():
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass
        return dict(self._source_summary(), changed=changed)

    # ------------------------------------------------------------------------ SP-initiated login

    def _login(self, request: Request) -> Reply:
        view = self.sp()
        metadata = self._configured_source(view)
        region = request.arg("region") or view.regions[0]
        acs = [url for url in view.acs_urls if urlsplit(url).hostname.startswith(region + ".")]
        if not acs:
            return Reply.json({"reason": "unknown_region", "message": "{0} is not a Region of the instance {1}".format(
                region, view.regions)}, 400)
        binding, location = metadata.sso_url()
        request_id = "_" + secrets.token_hex(20)
        now = utcnow()
        authn = etree.Element("{%s}AuthnRequest" % SAMLP, {
            "ID": request_id, "Version": "2.0", "IssueInstant": xs_time(now), "Destination": location,
            "AssertionConsumerServiceURL": acs[0], "ProtocolBinding": POST}, nsmap={"samlp": SAMLP, "saml": SAML})
        etree.SubElement(authn, "{%s}Issuer" % SAML).text = view.entity_id
        etree.SubElement(authn, "{%s}NameIDPolicy" % SAMLP, {"Format": EMAIL, "AllowCreate": "false"})
        xml = etree.tostring(authn)
        with self._state_lock:
            self._drop_stale_requests(now)
            self._pending[request_id] = {"issued": now, "acs": acs[0]}
        relay_state = request.arg("relay_state")
        if binding == REDIRECT:
            deflater = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw DEFLATE, as the binding wants
            encoded = base64.b64encode(deflater.compress(xml) + deflater.flush()).decode("ascii")
            query = {"SAMLRequest": encoded, **({"RelayState": relay_state} if relay_state else {})}
            target = location + ("&" if "?" in location else "?") + urlencode(query)
            body = {"request_id": request_id, "binding": binding, "location": target, "acs_url": acs[0]}
            return Reply.json(body, 302, {"Location": target})
        fields = {"SAMLRequest": base64.b64encode(xml).decode("ascii"), **({"RelayState": relay_state} if relay_state else {})}
        return Reply.json({"request_id": request_id, "binding": binding, "location": location, "form": fields,
                           "acs_url": acs[0]})

    def _drop_stale_requests(self, now: datetime.datetime) -> None:
        for request_id in [key for key, item in self._pending.items() if now - item["issued"] > REQUEST_LIFETIME]:
            del self._pending[request_id]

    # ------------------------------------------------------------------------ the Identity Center ACS

    def _record(self, endpoint: str, outcome: str, reason: str | None, **details: Any) -> None:
        with self._state_lock:
            self._logins.append(dict({"time": xs_time(utcnow()), "endpoint": endpoint, "outcome": outcome,
                                      "reason": reason}, **details))

    def _acs(self, request: Request) -> Reply:
        try:
            return Reply.json(self._validate_acs(request))
        except Refusal as refusal:
            self._record("acs", "refused", refusal.reason, message=refusal.message)
            raise

    def _validate_acs(self, request: Request) -> dict[str, Any]:
        view = self.sp()
        if request.params["tenant"] != view.tenant:
            raise Refusal("unknown_tenant", "no ACS for tenant {0!r} (this instance's is {1})".format(
                request.params["tenant"], view.tenant), 404)
        root = decode_response(request.form.get("SAMLResponse"))
        metadata = self._configured_source(view)
        check_status(root)
        check_issuer(root, the_assertion(root), metadata.entity_id)
        verified = verify_signatures(root, the_assertion(root), metadata.certificates)
        check_issuer(verified.root, verified.assertion, metadata.entity_id)  # as signed
        now = utcnow()
        claims = read_claims(verified, datetime.timedelta(seconds=self.settings.skew), now)
        check_audience(claims, [view.entity_id])
        check_recipients(verified, claims, view.acs_urls)
        if claims.name_id_format != EMAIL or not _EMAIL.match(claims.name_id):
            raise Refusal("name_id_format_invalid", "NameID {0!r} of Format {1!r}: Identity Center wants an email "
                          "address of Format {2}".format(claims.name_id, claims.name_id_format, EMAIL))
        with self._state_lock:
            self._check_in_response_to(verified, claims, now)
            if claims.assertion_id in self._used_assertions:
                raise Refusal("replayed", "assertion {0} was used already".format(claims.assertion_id))
        store = view.instance["IdentityStoreId"]
        user_id = self.backend.user_id(store, claims.name_id)
        if user_id is None:
            raise Refusal("user_not_provisioned", "no user named {0!r} in identity store {1}".format(claims.name_id, store))
        with self._state_lock:  # consume only on success: a refused response does not burn the request
            if claims.in_response_to in self._used_requests or claims.assertion_id in self._used_assertions:
                raise Refusal("replayed", "request {0} was answered already".format(claims.in_response_to))
            self._pending.pop(claims.in_response_to, None)
            self._used_requests.add(claims.in_response_to)
            self._used_assertions.add(claims.assertion_id)
            expires = now + PORTAL_SESSION
            if claims.session_not_on_or_after is not None:
                expires = min(expires, claims.session_not_on_or_after)
            session = Session(secrets.token_urlsafe(24), claims.name_id, user_id, store, view.instance["InstanceArn"], expires)
            self._sessions[session.token] = session
        self._record("acs", "accepted", None, user=claims.name_id, signed=verified.signed)
        return {"outcome": "accepted", "user": claims.name_id, "user_id": user_id, "identity_store_id": store,
                "session": session.token, "expires": xs_time(expires), "signed": verified.signed,
                "relay_state": request.form.get("RelayState"), "portal": "/portal/accounts"}

    def _check_in_response_to(self, verified: Verified, claims: Claims, now: datetime.datetime) -> None:
        answered = claims.in_response_to
        on_response = verified.response_attribute("InResponseTo")
        if not answered and not on_response:
            raise Refusal("unsolicited", "no InResponseTo: Identity Center accepts answers to its own AuthnRequests")
        if on_response is not None and answered is not None and on_response != answered:
            raise Refusal("unknown_request", "InResponseTo differs between the Response ({0}) and the assertion "
                          "({1})".format(on_response, answered))
        answered = answered or on_response
        claims.in_response_to = answered
        if answered in self._used_requests:
            raise Refusal("replayed", "request {0} was answered already".format(answered))
        self._drop_stale_requests(now)
        if answered not in self._pending:
            raise Refusal("unknown_request", "request {0} was not issued here (or is older than {1})".format(
                answered, REQUEST_LIFETIME))

    # ------------------------------------------------------------------------ the portal

    def _portal(self, request: Request) -> dict[str, Any]:
        token = request.arg("session") or request.header("x-amz-sso_bearer_token")
        with self._state_lock:
            session = self._sessions.get(token or "")
        if session is None or session.expires <= utcnow():
            raise Refusal("session_invalid", "no such session, or it expired")
        backend = self.backend
        groups = backend.groups(session.identity_store_id, session.user_id)
        principals = [("USER", session.user_id, "user")]
        principals += [("GROUP", group["id"], "group:" + group["name"]) for group in groups]
        found: dict[tuple[str, str], set[str]] = {}
        for principal_type, principal_id, via in principals:
            for item in backend.assignments(session.instance_arn, principal_type, principal_id):
                found.setdefault((item["AccountId"], item["PermissionSetArn"]), set()).add(via)
        names = {arn: backend.permission_set(session.instance_arn, arn)["Name"] for arn in {key[1] for key in found}}
        accounts: dict[str, dict[str, Any]] = {}
        for (account, arn), via in sorted(found.items()):
            entry = accounts.setdefault(account, {"account_id": account, "account_name": backend.account_name(account),
                                                  "permission_sets": []})
            entry["permission_sets"].append({"name": names[arn], "arn": arn, "via": sorted(via)})
        assignments = [{"account_id": account, "permission_set": names[arn], "via": sorted(via)}
                       for (account, arn), via in sorted(found.items())]
        return {"user": session.user, "groups": [group["name"] for group in groups],
                "accounts": list(accounts.values()), "assignments": assignments}

    # ------------------------------------------------------------------------ classic IAM

    def _iam_saml(self, request: Request) -> Reply:
        try:
            return self._validate_iam(request)
        except Refusal as refusal:
            self._record("iam", "refused", refusal.reason, message=refusal.message)
            raise

    def _validate_iam(self, request: Request) -> Reply:
        form = request.form
        root = decode_response(form.get("SAMLResponse"))
        check_status(root)
        assertion = the_assertion(root)
        offered = self._offered_roles(assertion)
        chosen = form.get("roleIndex")
        if chosen is None and len(offered) > 1:
            self._record("iam", "choose_role", "role_choice_required")
            return Reply.json({"reason": "role_choice_required", "message": "post again with roleIndex=<role ARN>",
                               "roles": [{"role_arn": role, "provider_arn": provider} for role, provider in offered]}, 300)
        pair = offered[0] if chosen is None else next((item for item in offered if item[0] == chosen), None)
        if pair is None:
            raise Refusal("role_attribute_missing", "roleIndex {0!r} is not among the roles offered".format(chosen))
        role_arn, provider_arn = pair
        document = self.backend.saml_provider(provider_arn)
        if document is None:
            raise Refusal("provider_not_found", "no IAM SAML provider {0}".format(provider_arn))
        metadata = parse_idp_metadata(document, console=False)
        check_issuer(root, assertion, metadata.entity_id)
        verified = verify_signatures(root, assertion, metadata.certificates)
        check_issuer(verified.root, verified.assertion, metadata.entity_id)
        if pair not in self._offered_roles(verified.assertion):
            raise Refusal("signature_invalid", "the signed assertion does not offer {0}".format(role_arn))
        now = utcnow()
        claims = read_claims(verified, datetime.timedelta(seconds=self.settings.skew), now)
        check_audience(claims, IAM_AUDIENCES)
        acs_urls = [IAM_ACS] + ["https://{0}.signin.aws.amazon.com/saml".format(self.settings.region)]
        check_recipients(verified, claims, acs_urls)
        session_name = (claims.attributes.get(SESSION_NAME_ATTRIBUTE) or [""])[0]
        if not _SESSION_NAME.match(session_name):
            raise Refusal("role_session_name_invalid", "RoleSessionName {0!r} is missing or not [\\w+=,.@-]{{2,64}}".format(
                session_name))
        duration = self._duration(claims)
        role = self.backend.role(role_arn)
        if role is None:
            raise Refusal("role_not_found", "no IAM role {0}".format(role_arn))
        context = {"saml:aud": claims.recipient or "", "saml:iss": metadata.entity_id, "saml:sub": claims.name_id,
                   "saml:sub_type": (claims.name_id_format or "").rsplit(":", 1)[-1]}
        ok, why = trusts(role["AssumeRolePolicyDocument"], provider_arn, context)
        if not ok:
            raise Refusal("role_not_trusted", "{0} does not trust {1}: {2}".format(role_arn, provider_arn, why))
        with self._state_lock:
            if claims.assertion_id in self._used_assertions:
                raise Refusal("replayed", "assertion {0} was used already".format(claims.assertion_id))
            self._used_assertions.add(claims.assertion_id)
        from botocore.exceptions import ClientError  # pylint: disable=import-outside-toplevel

        try:
            answer = self.backend.assume_role_with_saml(role_arn, provider_arn,
                                                        moto_assertion(role_arn, provider_arn, session_name, duration),
                                                        duration)
        except ClientError as exc:
            raise Refusal("backend_error", "STS AssumeRoleWithSAML: {0}".format(exc), 502) from None
        account = provider_arn.split(":")[4]
        qualifier = base64.b64encode(hashlib.sha1(  # noqa: S324 - AWS's documented NameQualifier, not security
            (metadata.entity_id + account + "/" + provider_arn.rsplit("/", 1)[-1]).encode("utf-8")).digest()).decode()
        answer.update(Subject=claims.name_id, SubjectType=(claims.name_id_format or "").rsplit(":", 1)[-1],
                      Issuer=metadata.entity_id, Audience=claims.recipient, NameQualifier=qualifier)
        credentials = answer.get("Credentials", {})
        if isinstance(credentials.get("Expiration"), datetime.datetime):
            credentials["Expiration"] = xs_time(credentials["Expiration"])
        self._record("iam", "accepted", None, user=claims.name_id, role_arn=role_arn, provider_arn=provider_arn)
        return Reply.json(dict(answer, outcome="accepted", role_arn=role_arn, provider_arn=provider_arn,
                               relay_state=form.get("RelayState")))

    @staticmethod
    def _offered_roles(assertion: Any) -> list[tuple[str, str]]:
        values = [(value.text or "").strip() for attribute in
                  assertion.iterfind("{%s}AttributeStatement/{%s}Attribute" % (SAML, SAML))
                  if attribute.get("Name") == ROLE_ATTRIBUTE for value in attribute.findall("{%s}AttributeValue" % SAML)]
        pairs = role_pairs(values)
        if not pairs:
            raise Refusal("role_attribute_missing", "no {0} value of the form role_arn,provider_arn".format(ROLE_ATTRIBUTE))
        return pairs

    @staticmethod
    def _duration(claims: Claims) -> int | None:
        values = claims.attributes.get(DURATION_ATTRIBUTE)
        if not values:
            return None
        try:
            seconds = int(values[0])
        except ValueError:
            seconds = 0
        if not 900 <= seconds <= 43200:
            raise Refusal("assertion_invalid", "SessionDuration {0!r} is not 900 to 43200 seconds".format(values[0]))
        return seconds


# -------------------------------------------------------------------------------------- command line

def _settings(argv: list[str] | None) -> tuple[dict[str, Any], list[str]]:
    """This script's own options; the rest goes to test_server.main. Given options are saved in the
    state directory, which the --background child (started with test_server's options only) reads."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--dir")
    parser.add_argument("--moto-url")
    parser.add_argument("--region")
    parser.add_argument("--acs-forms")
    parser.add_argument("--skew", type=float)
    own, rest = parser.parse_known_args(argv)
    if own.dir:
        rest = ["--dir", own.dir] + rest
    if not own.dir:
        return {}, rest
    path = os.path.join(os.path.abspath(own.dir), CONFIG_FILE)
    try:
        with open(path, encoding="utf-8") as handle:
            saved = json.load(handle)
    except (OSError, ValueError):
        saved = {}
    given = {"moto_url": own.moto_url, "region": own.region,
             "acs_forms": own.acs_forms.split(",") if own.acs_forms else None, "skew": own.skew}
    merged = dict(saved, **{key: value for key, value in given.items() if value is not None})
    merged.setdefault("moto_url", os.environ.get("IDFED_MOTO_URL"))
    if any(value is not None for value in given.values()) and "--stop" not in rest:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_atomic(path, json.dumps(merged, indent=2, sort_keys=True).encode("utf-8") + b"\n")
    return dict(merged, dir=os.path.abspath(own.dir)), rest


def main(argv: list[str] | None = None) -> int:
    settings, rest = _settings(sys.argv[1:] if argv is None else argv)
    if "--stop" not in rest and "-h" not in rest and "--help" not in rest and not settings.get("moto_url"):
        sys.stderr.write("aws_standin: --moto-url (or IDFED_MOTO_URL, or a saved {0}) is required\n".format(CONFIG_FILE))
        return 2

    state = settings.get("dir")
    if "--background" in rest and state:
        running = test_server.read_info(state)
        if running and running.get("moto_url") != settings["moto_url"]:  # a new moto: do not reuse the old one
            test_server.stop_server(state, os.path.basename(__file__), "AWS sign-in stand-in")

    def factory(args: argparse.Namespace) -> AwsStandin:
        return AwsStandin(args.dir, moto_url=settings["moto_url"], region=settings.get("region") or "us-east-1",
                          acs_forms=tuple(settings.get("acs_forms") or ("ipv4",)), skew=settings.get("skew") or 60.0,
                          host=args.host, port=args.port, http_port=args.http_port,
                          access_log=os.path.join(args.dir, "access.log"))

    return test_server.main(factory, rest, script=__file__, description=__doc__.split("\n\n", maxsplit=1)[0],
                            name="AWS sign-in stand-in")


if __name__ == "__main__":
    sys.exit(main())
