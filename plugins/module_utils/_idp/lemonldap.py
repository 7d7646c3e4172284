# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: no compatibility promise; other collections must not import this.

LemonLDAP::NG's Manager REST API for SAML service providers (/api/v1/providers/saml/sp, LemonLDAP::NG 2.0.8
and later; checked against the OpenAPI spec and Manager/Api/Providers/SamlSp.pm of 2.16), and the mapping
between an API object and the form the module compares:

- the API object: {confKey, metadata (the SP metadata document, stored as a string), exportedAttributes
  {session key: {name, format?, friendlyName?, mandatory: "true"|"false"}}, options {nameIDFormat, ...: every
  option with its default filled in}, macros {name: Perl expression}};
- the view: {conf_key, entity_id, acs_urls, name_id_formats (the metadata by meaning, not as text),
  exported_attributes [{attribute, name, format, friendly_name?, mandatory}], options, macros}; options and
  macros are compared only where the task sets them (the API fills in defaults), the other fields exactly.

API facts this relies on: GET /sp/{confKey} and GET /sp/findByEntityId answer 404 {"error"} when nothing
matches; POST answers 201, 409 when the conf key or the entity id exists; PATCH merges (exported attributes
field by field, options and macros key by key) and cannot remove an exported attribute; PUT replaces the SP
(options not given go back to their defaults); DELETE answers 204. Every write saves a new configuration.
Errors are {"error": "..."} when the request accepts JSON, an HTML page otherwise.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Optional
from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

from .._http.errors import ErrorInfo
from .._saml.constants import EMAIL_NAME_ID, HTTP_POST, HTTP_REDIRECT, MD, SAML2_PROTOCOL

SP_PATH = "api/v1/providers/saml/sp"
DEFAULT_CONF_KEY = "aws-iam-identity-center"
CONF_KEY = re.compile(r"^\w[\w.\-]*$")  # the API's confKey schema

BASIC = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
URI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
UNSPECIFIED = "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified"
ATTRIBUTE_FORMATS = {"basic": BASIC, "uri": URI, "unspecified": UNSPECIFIED}  # the only three the API accepts

# The SP options the API accepts (Manager::Build::CTrees samlSPMetaDataNode), by their API names.
OPTION_NAMES = frozenset((
    "nameIDFormat", "nameIDSessionKey", "oneTimeUse", "sessionNotOnOrAfterTimeout", "notOnOrAfterTimeout",
    "forceUTF8", "signatureMethod", "signSSOMessage", "checkSSOMessageSignature", "signSLOMessage",
    "checkSLOMessageSignature", "encryptionMode", "enableIDPInitiatedURL", "authnLevel", "rule",
    "federationEntityID", "federationOptionalAttributes", "federationRequiredAttributes", "comment",
))
NAME_ID_FORMATS = {  # the option's values and the URIs they stand for
    "unspecified": "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
    "email": EMAIL_NAME_ID,
    "x509": "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName",
    "windows": "urn:oasis:names:tc:SAML:1.1:nameid-format:WindowsDomainQualifiedName",
    "kerberos": "urn:oasis:names:tc:SAML:2.0:nameid-format:kerberos",
    "entity": "urn:oasis:names:tc:SAML:2.0:nameid-format:entity",
    "persistent": "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
    "transient": "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
    "encrypted": "urn:oasis:names:tc:SAML:2.0:nameid-format:encrypted",
}

# Classic per-account IAM federation: the SP AWS publishes at https://signin.aws.amazon.com/static/saml-metadata.xml
IAM_ENTITY_ID = "urn:amazon:webservices"
IAM_ACS_URL = "https://signin.aws.amazon.com/saml"
IAM_ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role"
IAM_SESSION_NAME_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"

_MD = "{%s}" % MD
_ENTITY_ID = re.compile(r"""entityID=['"](.+?)['"]""")  # how LemonLDAP::NG itself reads it


def parse_error(data: Any) -> Optional[ErrorInfo]:
    """The Manager API's envelope: {"error": "SAML service Provider 'x' not found"}."""
    if isinstance(data, Mapping) and isinstance(data.get("error"), str) and data["error"]:
        return ErrorInfo(None, data["error"])
    return None


class SamlSpClient:
    """The SAML SP calls of the Manager API, on a RestClient whose base URL is the API's root."""

    def __init__(self, client) -> None:
        self.client = client

    def get(self, conf_key: str) -> Optional[dict]:
        """The SP stored under conf_key, or None."""
        return self._one("{0}/{1}".format(SP_PATH, quote(conf_key, safe="")))

    def find_by_entity_id(self, entity_id: str) -> Optional[dict]:
        """The SP whose metadata names entity_id, or None."""
        return self._one(SP_PATH + "/findByEntityId", params={"entityId": entity_id})

    def find_by_conf_key(self, pattern: str) -> list[dict]:
        """Every SP whose conf key matches pattern (* is a wildcard; without one, a substring)."""
        found = self.client.get(SP_PATH + "/findByConfKey", params={"pattern": pattern})
        return list(found or [])

    def create(self, body: dict) -> None:
        self.client.post(SP_PATH, json=body)

    def update(self, conf_key: str, body: dict) -> None:
        """PATCH: merges into the stored SP."""
        self.client.patch("{0}/{1}".format(SP_PATH, quote(conf_key, safe="")), json=body)

    def replace(self, conf_key: str, body: dict) -> None:
        """PUT: the stored SP becomes body (options not in it go back to their defaults)."""
        self.client.put("{0}/{1}".format(SP_PATH, quote(conf_key, safe="")), json=body)

    def delete(self, conf_key: str) -> None:
        self.client.delete("{0}/{1}".format(SP_PATH, quote(conf_key, safe="")))

    def _one(self, path: str, params: Optional[dict] = None) -> Optional[dict]:
        from .._http.errors import ApiError  # pylint: disable=import-outside-toplevel

        try:
            found = self.client.get(path, params=params)
        except ApiError as error:
            if error.status == 404 and error.vendor_message:  # the API's own "not found", not a wrong base URL
                return None
            raise
        return found if isinstance(found, dict) else None


# ----------------------------------------------------------------------------------------- metadata

def build_sp_metadata(entity_id: str, acs_urls: list[str], name_id_format: str = EMAIL_NAME_ID) -> str:
    """The SP metadata LemonLDAP::NG is given: the entity id, every ACS URL (HTTP-POST, the first the default),
    the NameID format; AuthnRequests unsigned (AWS does not sign them), assertions wanted signed."""
    services = "".join(
        '<md:AssertionConsumerService Binding="{0}" Location={1} index="{2}"{3}/>'.format(
            HTTP_POST, quoteattr(url), index, ' isDefault="true"' if index == 0 else "")
        for index, url in enumerate(acs_urls))
    return ('<md:EntityDescriptor xmlns:md="{md}" entityID={entity}>'
            '<md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true" '
            'protocolSupportEnumeration="{protocol}">'
            '<md:NameIDFormat>{name_id}</md:NameIDFormat>{services}'
            '</md:SPSSODescriptor></md:EntityDescriptor>').format(
                md=MD, entity=quoteattr(entity_id), protocol=SAML2_PROTOCOL, name_id=escape(name_id_format),
                services=services)


def read_sp_metadata(document: Optional[str]) -> dict[str, Any]:
    """What an SP metadata document means to the comparison: entity id, ACS URLs, NameID formats.

    A document lxml cannot read keeps the entity id LemonLDAP::NG would read (its own regular expression) and
    no ACS URL, so it is replaced by the task's."""
    from .._saml.xmlparse import parse_xml  # pylint: disable=import-outside-toplevel
    from .._saml.findings import SamlError  # pylint: disable=import-outside-toplevel

    text = document or ""
    found = _ENTITY_ID.search(text)
    view: dict[str, Any] = {"entity_id": found.group(1) if found else None, "acs_urls": [], "name_id_formats": []}
    try:
        root = parse_xml(text.encode("utf-8"), max_size=5 * 1024 * 1024)
    except SamlError:
        return view
    entity = root if root.tag == _MD + "EntityDescriptor" else root.find(".//" + _MD + "EntityDescriptor")
    if entity is None:
        return view
    view["entity_id"] = entity.get("entityID")
    role = entity.find(_MD + "SPSSODescriptor")
    if role is None:
        return view
    view["acs_urls"] = [node.get("Location", "") for node in role.iterfind(_MD + "AssertionConsumerService")
                        if node.get("Binding") == HTTP_POST]
    view["name_id_formats"] = [(node.text or "").strip() for node in role.iterfind(_MD + "NameIDFormat")]
    return view


def read_idp_metadata(document: bytes) -> dict[str, Any]:
    """The IdP facts of the portal's /saml/metadata: entity id, SSO URL (HTTP-Redirect first), signing PEM."""
    from .._saml.xmlparse import parse_xml  # pylint: disable=import-outside-toplevel

    root = parse_xml(document, max_size=5 * 1024 * 1024)
    entity = root if root.tag == _MD + "EntityDescriptor" else root.find(".//" + _MD + "EntityDescriptor")
    role = entity.find(_MD + "IDPSSODescriptor") if entity is not None else None
    facts: dict[str, Any] = {"entity_id": entity.get("entityID") if entity is not None else None, "sso_url": None,
                             "certificate_pem": None}
    if role is None:
        return facts
    services = {node.get("Binding"): node.get("Location") for node in role.iterfind(_MD + "SingleSignOnService")}
    facts["sso_url"] = services.get(HTTP_REDIRECT) or services.get(HTTP_POST)
    for key in role.iterfind(_MD + "KeyDescriptor"):
        if key.get("use") in (None, "", "signing"):
            body = key.find(".//{http://www.w3.org/2000/09/xmldsig#}X509Certificate")
            if body is not None and (body.text or "").strip():
                facts["certificate_pem"] = pem_of("".join(body.text.split()))
                break
    return facts


def pem_of(base64_body: str) -> str:
    lines = [base64_body[index:index + 64] for index in range(0, len(base64_body), 64)]
    return "-----BEGIN CERTIFICATE-----\n{0}\n-----END CERTIFICATE-----\n".format("\n".join(lines))


# ----------------------------------------------------------------------------------------- mapping

def attribute_format(value: Optional[str], name: str) -> str:
    """A short name (basic, uri, unspecified) or a full URI; by default uri for a URI-like name, else basic."""
    if not value:
        return URI if re.match(r"^(https?://|urn:)", name) else BASIC
    return ATTRIBUTE_FORMATS.get(value, value)


def normalize_attributes(exported: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The task's exported_attributes ({session key: SAML name, or {name, format, friendly_name, mandatory}})
    as the view's list."""
    result = []
    for key, spec in exported.items():
        spec = {"name": spec} if isinstance(spec, str) else dict(spec or {})
        name = spec.get("name") or ""
        item = {"attribute": key, "name": name, "format": attribute_format(spec.get("format"), name),
                "mandatory": bool(spec.get("mandatory", True))}
        if spec.get("friendly_name"):
            item["friendly_name"] = spec["friendly_name"]
        result.append(item)
    return result


def attribute_problems(exported: Mapping[str, Any]) -> list[str]:
    problems = []
    for key, spec in exported.items():
        if not key or not re.match(r"^\w+$", key):
            problems.append("exported_attributes key {0!r} is not a session attribute name (letters, digits, _)"
                            .format(key))
        name = spec if isinstance(spec, str) else (spec or {}).get("name")
        if not name:
            problems.append("exported_attributes.{0} has no SAML attribute name".format(key))
        if not isinstance(spec, str) and spec:
            unknown = sorted(set(spec) - {"name", "format", "friendly_name", "mandatory"})
            if unknown:
                problems.append("exported_attributes.{0} has unknown keys {1} (name, format, friendly_name, "
                                "mandatory)".format(key, ", ".join(unknown)))
            if spec.get("format") and attribute_format(spec["format"], name or "") not in ATTRIBUTE_FORMATS.values():
                problems.append("exported_attributes.{0}.format must be basic, uri, unspecified or their URI, not "
                                "{1!r}".format(key, spec["format"]))
    return problems


def api_attributes(attributes: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The view's list as the API's exportedAttributes."""
    body = {}
    for item in attributes:
        entry = {"name": item["name"], "format": item["format"], "mandatory": "true" if item["mandatory"] else "false"}
        if item.get("friendly_name"):
            entry["friendlyName"] = item["friendly_name"]
        body[item["attribute"]] = entry
    return body


def option_value(value: Any) -> Any:
    """One spelling per value: the configuration holds booleans as 0/1 and numbers as numbers or strings."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and re.match(r"^-?\d+$", value.strip()):
        return int(value.strip())
    return value


def sp_view(found: Mapping[str, Any]) -> dict[str, Any]:
    """An API object in the form the module compares and returns."""
    metadata = read_sp_metadata(found.get("metadata"))
    attributes = []
    for key, spec in sorted((found.get("exportedAttributes") or {}).items()):
        spec = spec or {}
        item = {"attribute": key, "name": spec.get("name") or "", "format": spec.get("format") or UNSPECIFIED,
                "mandatory": str(spec.get("mandatory")).lower() in ("1", "true")}
        if spec.get("friendlyName"):
            item["friendly_name"] = spec["friendlyName"]
        attributes.append(item)
    return {"conf_key": found.get("confKey"), **metadata, "exported_attributes": attributes,
            "options": {key: option_value(value) for key, value in (found.get("options") or {}).items()},
            "macros": dict(found.get("macros") or {})}


def desired_view(conf_key: str, entity_id: str, acs_urls: list[str], name_id_format: str, *,
                 name_id_attribute: str, exported_attributes: Mapping[str, Any], options: Mapping[str, Any],
                 macros: Optional[Mapping[str, Any]] = None) -> dict[str, Any]:
    """The SP the task asks for. NameID from name_id_attribute in format email, the assertion signed, the
    AuthnRequest signature not required (AWS does not sign it); options given by the task win."""
    wanted = {"nameIDFormat": "email", "nameIDSessionKey": name_id_attribute, "signSSOMessage": 1,
              "checkSSOMessageSignature": 0}
    wanted.update(options or {})
    return {"conf_key": conf_key, "entity_id": entity_id, "acs_urls": list(acs_urls),
            "name_id_formats": [name_id_format], "exported_attributes": normalize_attributes(exported_attributes),
            "options": {key: option_value(value) for key, value in wanted.items()},
            "macros": dict(macros) if macros is not None else None}


def create_body(view: Mapping[str, Any]) -> dict[str, Any]:
    body = {"confKey": view["conf_key"], "metadata": metadata_of(view),
            "exportedAttributes": api_attributes(view["exported_attributes"]), "options": dict(view["options"])}
    if view.get("macros"):
        body["macros"] = dict(view["macros"])
    return body


def metadata_of(view: Mapping[str, Any]) -> str:
    return build_sp_metadata(view["entity_id"], view["acs_urls"], (view["name_id_formats"] or [EMAIL_NAME_ID])[0])


METADATA_KEYS = ("entity_id", "acs_urls", "name_id_formats")


def update_request(found: Mapping[str, Any], after: Mapping[str, Any], changed_keys: tuple[str, ...]
                   ) -> tuple[str, dict[str, Any]]:
    """("PATCH" | "PUT", body) that turns the stored SP (found, the API object) into after (a view).

    PATCH sends only what changed. An exported attribute to remove needs PUT, which replaces the whole SP:
    it then carries the stored options, macros and (when unchanged) metadata, so nothing else is lost."""
    stored = set((found.get("exportedAttributes") or {}))
    wanted = {item["attribute"] for item in after["exported_attributes"]}
    metadata_changed = any(key in changed_keys for key in METADATA_KEYS)
    if "exported_attributes" in changed_keys and stored - wanted:
        options = dict(found.get("options") or {})
        options.update(after["options"])
        body = {"metadata": metadata_of(after) if metadata_changed else found.get("metadata"),
                "exportedAttributes": api_attributes(after["exported_attributes"]), "options": options,
                "macros": dict(found.get("macros") or {}, **(after.get("macros") or {}))}
        return "PUT", body
    body = {}
    if metadata_changed:
        body["metadata"] = metadata_of(after)
    if "exported_attributes" in changed_keys:
        body["exportedAttributes"] = api_attributes(after["exported_attributes"])
    if "options" in changed_keys:
        before = {key: option_value(value) for key, value in (found.get("options") or {}).items()}
        body["options"] = {key: value for key, value in after["options"].items() if before.get(key) != value}
    if "macros" in changed_keys:
        body["macros"] = {key: value for key, value in (after.get("macros") or {}).items()
                          if (found.get("macros") or {}).get(key) != value}
    return "PATCH", body
