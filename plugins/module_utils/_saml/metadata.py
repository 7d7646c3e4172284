# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SAML 2.0 metadata analysis: entity selection, the rules per role and target, and the facts.

`analyze_metadata()` never raises for bad input: every problem is a finding, so callers can
list them all at once. Certificates are judged by certificate.py, signatures by signature.py,
the upload document is built by minimize.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from . import certificate as certs
from . import aws_sp_urls
from .constants import (ANALYSIS_MAX_SIZE, BROWSER_SSO_BINDINGS, DS_X509_CERTIFICATE, EMAIL_NAME_ID, HTTP_POST, MD,
                        MD_ENTITIES, MD_ENTITY, MD_IDP_ROLE, MD_KEY_DESCRIPTOR, MD_NAME_ID_FORMAT, MD_SP_ROLE,
                        SAML2_PROTOCOL)
from .findings import ERROR, WARNING, Finding, SamlError, finding
from .minimize import build_upload_document
from .signature import SignatureReport, check_signature, trust_anchors
from .xmlparse import etree, parse_xml

ROLE_TAGS = {"idp": MD_IDP_ROLE, "sp": MD_SP_ROLE}
TARGETS = ("identity_center", "iam", "generic")
# urn:oasis:names:tc:SAML:2.0:bindings: - messages name these bindings by what follows (HTTP-POST, ...).
_SAML2_BINDINGS = HTTP_POST.rpartition(":")[0] + ":"
_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")


def _parse_datetime(value: str) -> datetime | None:
    """An xs:dateTime as UTC (no zone means UTC, as SAML requires); None when it is not a real moment."""
    match = _DATETIME.match(value.strip())
    if not match:
        return None
    zone = match.group(4) or "Z"
    offset = "+00:00" if zone == "Z" else zone
    day, clock = match.group(1), match.group(2)
    end_of_day = clock == "24:00:00"  # xs:dateTime allows 24:00:00: midnight at the end of that day
    try:
        moment = datetime.fromisoformat("{0}T{1}{2}".format(day, "00:00:00" if end_of_day else clock, offset))
        return (moment + timedelta(days=1) if end_of_day else moment).astimezone(timezone.utc)
    except (ValueError, OverflowError):  # 2024-02-30, 25:00, a +25:00 offset, or beyond year 9999 in UTC
        return None


@dataclass
class MetadataReport:
    role: str
    target: str
    size: int
    findings: list[Finding] = field(default_factory=list)
    entity_id: str | None = None
    entities: list[str] = field(default_factory=list)
    keys: list = field(default_factory=list)  # KeyEntry, described only when the facts are asked for
    now: datetime | None = None
    sso_services: list[dict] = field(default_factory=list)
    slo_services: list[dict] = field(default_factory=list)
    acs_services: list[dict] = field(default_factory=list)
    name_id_formats: list[str] = field(default_factory=list)
    signature: SignatureReport = field(default_factory=SignatureReport)
    valid_until: str | None = None
    identity_center: dict = field(default_factory=dict)
    upload: bytes | None = None

    @property
    def valid(self) -> bool:
        return not any(item.severity == ERROR for item in self.findings)

    @property
    def errors(self) -> list[Finding]:
        return [item for item in self.findings if item.severity == ERROR]

    @property
    def certificates(self) -> list[dict]:
        return [certs.describe(entry.cert, use=entry.use, now=self.now) for entry in self.keys]

    def add(self, code: str, message: str, severity: str | None = None) -> None:
        self.findings.append(finding(code, message, severity))

    def upload_document(self) -> bytes | None:
        return self.upload

    def to_facts(self) -> dict:
        facts = {
            "entity_id": self.entity_id,
            "valid": self.valid,
            "findings": [item.to_dict() for item in self.findings],
            "certificates": self.certificates,
            "sso_services": self.sso_services,
            "slo_services": self.slo_services,
            "acs_services": self.acs_services,
            "name_id_formats": self.name_id_formats,
            "signature": self.signature.to_facts(),
            "valid_until": self.valid_until,
            "size": self.size,
            "entities": self.entities,
            "role": self.role,
            "target": self.target,
        }
        if self.role == "sp":
            facts["region"] = self.identity_center.get("region")
            facts["identity_store_id"] = self.identity_center.get("identity_store_id")
            facts["acs_urls"] = self.identity_center.get("acs_urls", [])
        if self.upload is not None:
            facts["upload_size"] = len(self.upload.decode("utf-8"))
        return facts


def _select_entity(root, report: MetadataReport, entity_id: str | None, role_tag: str):
    entities = [root] if root.tag == MD_ENTITY else list(root.iter(MD_ENTITY))
    report.entities = [entity.get("entityID", "") for entity in entities]
    if entity_id is not None:
        chosen = [entity for entity in entities if entity.get("entityID") == entity_id]
        if not chosen:
            report.add("entity_not_found", "No entity has entityID {0!r}; the document holds: {1}.".format(
                entity_id, _list_ids(report.entities)))
            return None
        return chosen[0]
    if len(entities) == 1:
        return entities[0]
    with_role = [entity for entity in entities if entity.find(role_tag) is not None]
    if len(with_role) == 1:
        return with_role[0]
    if not with_role:
        report.add("no_{0}_role".format(report.role),
                   "None of the {0} entities has an {1}.".format(len(entities), etree.QName(role_tag).localname))
        return None
    report.add("ambiguous_entity", "{0} entities have an {1}; pick one with entity_id: {2}.".format(
        len(with_role), etree.QName(role_tag).localname, _list_ids([e.get("entityID", "") for e in with_role])))
    return None


def _list_ids(ids: list[str], limit: int = 10) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (" and {0} more".format(len(ids) - limit) if len(ids) > limit else "")


def _role_descriptor(entity, role_tag: str):
    descriptors = entity.findall(role_tag)
    for descriptor in descriptors:
        if SAML2_PROTOCOL in (descriptor.get("protocolSupportEnumeration") or "").split():
            return descriptor
    return descriptors[0] if descriptors else None


def _binding_name(binding: str) -> str:
    """HTTP-POST, HTTP-Redirect, ... for the SAML 2.0 bindings; any other binding URI in full."""
    return binding[len(_SAML2_BINDINGS):] if binding.startswith(_SAML2_BINDINGS) else binding or "no binding"


def _services(descriptor, tag: str) -> list[dict]:
    services = []
    for node in descriptor.iterchildren("{%s}%s" % (MD, tag)):
        service = {"binding": node.get("Binding", ""), "location": node.get("Location", "")}
        if node.get("ResponseLocation"):
            service["response_location"] = node.get("ResponseLocation")
        if tag == "AssertionConsumerService":
            service["index"] = int(node.get("index")) if (node.get("index") or "").isdigit() else None
            service["is_default"] = (node.get("isDefault") or "").strip() in ("true", "1")
        services.append(service)
    return services


def _element_label(element) -> str:
    """An element as a message names it: its tag, and the entityID or Name that tells it apart."""
    name = element.get("entityID") or element.get("Name")
    tag = etree.QName(element).localname
    return "the {0} {1!r}".format(tag, name) if name else "the " + tag


def _check_validity_window(leaf, report: MetadataReport, now: datetime) -> None:
    """The earliest validUntil from `leaf` (the chosen role, else the entity) up to the root: SAML metadata
    allows one on every role descriptor, EntityDescriptor and (nested) EntitiesDescriptor, and each bounds
    what it contains (saml-metadata-2.0-os 2.3.1, 2.3.2, 2.4.1). ZITADEL sets it on the role only."""
    earliest, carrier = None, None
    element = leaf
    while element is not None:  # a handful of ancestors: no tree walk on the hot path
        raw = element.get("validUntil")
        moment = None if raw is None else _parse_datetime(raw)
        if raw is not None and moment is None:
            report.add("xml_malformed", "The validUntil {0!r} of {1} is not a valid xs:dateTime (for example "
                                        "2030-01-31T12:00:00Z); fix the IdP's metadata publisher.".format(
                                            raw, _element_label(element)))
        elif moment is not None and (earliest is None or moment < earliest):
            earliest, carrier = moment, element
        element = element.getparent()
    if earliest is None:
        return
    report.valid_until = certs.iso(earliest)
    if earliest < now:
        report.add("metadata_expired", "The metadata was valid until {0} (the validUntil of {1}); fetch a fresh "
                                       "copy from the IdP (or ask its operator to republish it).".format(
                                           report.valid_until, _element_label(carrier)))


@dataclass
class KeyEntry:
    """One certificate of the role, as the KeyDescriptor declares it."""

    use: str  # signing, encryption or unspecified (usable for both)
    cert: object  # cryptography x509.Certificate
    body: str  # the base64 DER as published, whitespace removed

    @property
    def signing(self) -> bool:
        return self.use in ("signing", "unspecified")


def _load_keys(descriptor, report: MetadataReport, *, target: str, role: str,
               reader: certs.CertificateReader) -> list[KeyEntry]:
    entries: list[KeyEntry] = []
    seen: set[tuple[str, str]] = set()
    for key_descriptor in descriptor.iterchildren(MD_KEY_DESCRIPTOR):
        use = key_descriptor.get("use") or "unspecified"
        if use == "encryption" and target == "identity_center" and role == "idp":
            report.add("encryption_key_present", "The IdP advertises an encryption key; Identity Center does not "
                                                 "support assertion encryption from the IdP, so it is left out of "
                                                 "the upload document.")
        for node in key_descriptor.iter(DS_X509_CERTIFICATE):
            body = "".join((node.text or "").split())
            if (body, use) in seen:
                continue
            seen.add((body, use))
            try:
                entries.append(KeyEntry(use, reader.load(body), body))
            except SamlError as exc:
                report.add("certificate_malformed", "The {0} certificate of {1}: {2}".format(
                    use, report.entity_id, exc.finding.message), None if use != "encryption" else WARNING)
    return entries


def _in_validity(cert, now: datetime) -> bool:
    return cert.not_valid_before_utc <= now <= cert.not_valid_after_utc


def _judge_keys(entries: list[KeyEntry], report: MetadataReport, *, warning_days: int, now: datetime) -> None:
    """Certificate rules; findings about encryption keys are warnings (they never reach the SP's checks),
    and an expired signing certificate next to a current one is a rotation in progress, not an error."""
    rotating = any(entry.signing and _in_validity(entry.cert, now) for entry in entries)
    for entry in entries:
        for item in certs.judge(entry.cert, use=entry.use, expiry_warning_days=warning_days, now=now):
            if entry.signing and rotating and item.code == "certificate_expired":
                item = finding("certificate_expired_dropped", "{0} expired on {1}; a current signing certificate "
                                                              "remains, so it is left out of the upload "
                                                              "document.".format(
                                                                  certs.label_for(entry.cert, entry.use),
                                                                  certs.iso(entry.cert.not_valid_after_utc)))
            elif not entry.signing and item.severity == ERROR:
                item = Finding(item.code, WARNING, item.message)
            report.findings.append(item)


def _upload_certificates(entries: list[KeyEntry], now: datetime) -> list[str]:
    """Signing certificates (base64) for the upload document, in order, without duplicates or expired leftovers."""
    signing = [entry for entry in entries if entry.signing]
    current = [entry for entry in signing if entry.cert.not_valid_after_utc >= now]
    result: list[str] = []
    for entry in current or signing:
        if entry.body not in result:
            result.append(entry.body)
    return result


def _check_idp(descriptor, report: MetadataReport, *, target: str, warning_days: int, now: datetime,
               document: bytes, reader: certs.CertificateReader) -> None:
    report.keys = _load_keys(descriptor, report, target=target, role="idp", reader=reader)
    _judge_keys(report.keys, report, warning_days=warning_days, now=now)
    if not any(entry.signing for entry in report.keys):
        report.add("no_signing_certificate", "The IdP role has no readable signing certificate (KeyDescriptor "
                                             "use=\"signing\" with an X509Certificate); the SP cannot verify its "
                                             "assertions.")
    report.sso_services = _services(descriptor, "SingleSignOnService")
    report.slo_services = _services(descriptor, "SingleLogoutService")
    usable = [service for service in report.sso_services if service["binding"] in BROWSER_SSO_BINDINGS]
    if not usable:
        report.add("no_sso_service", "The IdP has no SingleSignOnService with the HTTP-POST or HTTP-Redirect "
                                     "binding (found: {0}).".format(
                                         ", ".join(s["binding"] for s in report.sso_services) or "none"))
    for service in usable:
        if not service["location"].startswith("https://"):
            report.add("sso_not_https", "The {0} SingleSignOnService {1} is not https://; browsers would carry the "
                                        "SAML exchange in clear text.".format(_binding_name(service["binding"]),
                                                                              service["location"]),
                       ERROR if target != "generic" else WARNING)
    if target == "identity_center" and EMAIL_NAME_ID not in report.name_id_formats:
        report.add("name_id_email_missing", "The IdP does not advertise the emailAddress NameID format; Identity "
                                            "Center needs NameID = the user's email address, so configure the "
                                            "application to send it.", WARNING)
    if target == "iam":
        characters = len(document.decode("utf-8", "replace"))
        if not aws_sp_urls.IAM_MIN_SIZE <= characters <= aws_sp_urls.IAM_MAX_SIZE:
            report.add("exceeds_iam_limit", "The metadata is {0} characters; IAM accepts 1,000 to 10,000,000.".format(
                characters))
    report.upload = build_upload_document(
        entity_id=report.entity_id or "",
        signing_certificates_b64=_upload_certificates(report.keys, now),
        name_id_formats=report.name_id_formats,
        sso_services=usable,
        slo_services=report.slo_services,
        want_authn_requests_signed=descriptor.get("WantAuthnRequestsSigned"),
    )
    if target == "identity_center":
        length = len(report.upload.decode("utf-8"))
        if length > aws_sp_urls.IDENTITY_CENTER_LIMIT:
            report.add("exceeds_identity_center_limit",
                       "Even minimised, the IdP metadata is {0} characters; Identity Center accepts at most "
                       "75,000. Remove unused signing certificates or NameID formats at the IdP.".format(length))


def _check_sp(descriptor, report: MetadataReport, *, target: str, warning_days: int, now: datetime,
              reader: certs.CertificateReader) -> None:
    report.keys = _load_keys(descriptor, report, target=target, role="sp", reader=reader)
    _judge_keys(report.keys, report, warning_days=warning_days, now=now)
    report.acs_services = _services(descriptor, "AssertionConsumerService")
    if not report.acs_services:
        report.add("no_acs_service", "The SP has no AssertionConsumerService.")
    for service in report.acs_services:
        if not service["location"].startswith("https://"):
            report.add("acs_not_https", "The {0} AssertionConsumerService {1} is not https://; the IdP would send "
                                        "assertions in clear text.".format(_binding_name(service["binding"]),
                                                                           service["location"]))
    if target != "identity_center":
        return
    issuer = aws_sp_urls.parse_issuer(report.entity_id or "")
    if issuer is None:
        report.add("identity_center_issuer_unrecognized",
                   "The entityID {0!r} is not an IAM Identity Center issuer (https://<region>.signin.aws.amazon.com/"
                   "platform/saml/d-xxxxxxxxxx); download the SP metadata from the Identity Center console, or use "
                   "target: iam or generic.".format(report.entity_id))
    else:
        report.identity_center.update(issuer)
    acs_urls = [url for url in (aws_sp_urls.classify_acs(s["location"]) for s in report.acs_services) if url]
    report.identity_center["acs_urls"] = acs_urls
    if EMAIL_NAME_ID not in report.name_id_formats:
        report.add("name_id_email_missing", "The SP metadata does not ask for the emailAddress NameID format "
                                            "that Identity Center requires.")


def analyze_metadata(data: bytes, *, role: str = "idp", target: str = "identity_center", entity_id: str | None = None,
                     require_signature: bool = False, trusted_certificates=(), expiry_warning_days: int = 30,
                     now: datetime | None = None, max_size: int = ANALYSIS_MAX_SIZE) -> MetadataReport:
    """Analyze a metadata document; see the module docs of saml_metadata_info for every rule."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    moment = now or certs.now_utc()
    report = MetadataReport(role=role, target=target, size=len(data), now=moment)
    try:
        anchors = trust_anchors(trusted_certificates)
        root = parse_xml(data, max_size=max_size)
    except SamlError as exc:
        report.findings.append(exc.finding)
        return report
    if root.tag not in (MD_ENTITY, MD_ENTITIES):
        report.add("not_metadata", "The root element is <{0}>, not a SAML 2.0 md:EntityDescriptor or "
                                   "md:EntitiesDescriptor (namespace {1}); check the URL points at the metadata "
                                   "document.".format(etree.QName(root).text, MD))
        return report
    role_tag = ROLE_TAGS[role]
    entity = _select_entity(root, report, entity_id, role_tag)
    if entity is None:
        return report
    report.entity_id = entity.get("entityID")
    if not report.entity_id:
        report.add("not_metadata", "The EntityDescriptor has no entityID attribute.")
    descriptor = _role_descriptor(entity, role_tag)
    _check_validity_window(entity if descriptor is None else descriptor, report, moment)
    reader = certs.CertificateReader()
    report.signature = check_signature(root, entity, document=data, require=require_signature, anchors=anchors,
                                       reader=reader)
    report.findings.extend(report.signature.findings)
    if descriptor is None:
        report.add("no_{0}_role".format(role), "The entity {0!r} has no {1}{2}.".format(
            report.entity_id, etree.QName(role_tag).localname,
            " (it is an SP: use role: sp)" if role == "idp" and entity.find(ROLE_TAGS["sp"]) is not None else
            " (it is an IdP: use role: idp)" if role == "sp" and entity.find(ROLE_TAGS["idp"]) is not None else ""))
        return report
    report.name_id_formats = [(node.text or "").strip() for node in descriptor.iterchildren(MD_NAME_ID_FORMAT)]
    if role == "idp":
        _check_idp(descriptor, report, target=target, warning_days=expiry_warning_days, now=moment, document=data,
                   reader=reader)
    else:
        _check_sp(descriptor, report, target=target, warning_days=expiry_warning_days, now=moment, reader=reader)
    return report
