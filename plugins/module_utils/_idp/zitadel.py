# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: no compatibility promise; other collections must not import this.

The ZITADEL API client of zitadel_saml_app, on the shared RestClient: projects and SAML applications through
one interface, two API versions behind it.

- v2 (ZITADEL v4, ZITADEL Cloud): the Connect protocol, POST JSON to
  /zitadel.application.v2.ApplicationService/<Method> and /zitadel.project.v2.ProjectService/<Method>
  (the paths and field names of the official zitadel-client SDK, models ApplicationService* and ProjectService*).
- v1: the management REST API (grpc-gateway), /management/v1/projects/..., organisation in x-zitadel-orgid.

ZITADEL takes a SAML application's SP facts from SP metadata only (metadataXml, proto bytes: base64 in JSON);
there is no NameID or attribute field. So the desired state is a small SP metadata document built here from the
ServiceProvider, and the comparison reads back what ZITADEL stores: entity id, the set of ACS URLs and the NameID
formats, never the bytes. Auth: a personal access token, or the JWT profile grant with a service-user key.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Optional

from .._http.auth import Auth, JwtProfile, bearer, load_service_key
from .._http.errors import ApiError, HttpError
from .._http.paging import iter_offset_pages
from .._saml.constants import EMAIL_NAME_ID

V1, V2 = "v1", "v2"
TOKEN_PATH = "/oauth/v2/token"
# The audience scope makes the token valid for ZITADEL's own APIs (management, v2 services).
API_SCOPE = "openid urn:zitadel:iam:org:project:id:zitadel:aud"
CONNECT_HEADERS = {"Connect-Protocol-Version": "1"}
ORG_HEADER = "x-zitadel-orgid"
METADATA_MAX = 500000  # both protos: metadata_xml max_len 500,000 bytes
PAGE = 100

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
POST_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
SAML2_PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"

APP_SERVICE = "/zitadel.application.v2.ApplicationService/"
PROJECT_SERVICE = "/zitadel.project.v2.ProjectService/"
SETTINGS_SERVICE = "/zitadel.settings.v2.SettingsService/"
MGMT = "/management/v1"


class ZitadelError(HttpError):
    """A ZITADEL answer the module cannot work with (an app of another type, two apps with one name)."""


@dataclass
class SamlApp:
    """A SAML application as ZITADEL holds it, with the SP facts read from its stored metadata."""

    app_id: str
    project_id: str
    name: str
    state: str
    kind: str  # saml, oidc, api
    metadata_xml: Optional[bytes] = None
    metadata_url: str = ""
    entity_id: Optional[str] = None
    acs_urls: list[str] = field(default_factory=list)
    name_id_formats: list[str] = field(default_factory=list)

    def view(self) -> dict[str, Any]:
        """What before/after show and compare."""
        return {"app_id": self.app_id, "project_id": self.project_id, "name": self.name, "state": self.state,
                "entity_id": self.entity_id, "acs_urls": list(self.acs_urls),
                "name_id_formats": list(self.name_id_formats), "metadata_url": self.metadata_url}


# ----------------------------------------------------------------------------------------- auth

def make_auth(api_url: str, *, token: Optional[str] = None, key: Any = None) -> Auth:
    """A PAT as a bearer token, or the JWT profile grant with a service-user key (dict, JSON text or a path).

    The JWT's audience is the instance's issuer, which is its API URL (https://<instance domain>)."""
    if token:
        return bearer(token)
    service_key = load_service_key(key)
    return JwtProfile(api_url.rstrip("/") + TOKEN_PATH, service_key, api_url.rstrip("/"), scope=API_SCOPE)


def session_headers(version: str, organization_id: Optional[str]) -> dict[str, str]:
    headers = dict(CONNECT_HEADERS) if version == V2 else {}
    if organization_id and version == V1:
        headers[ORG_HEADER] = organization_id
    return headers


# ------------------------------------------------------------------------------------- metadata

def _escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;"))


def build_sp_metadata(entity_id: str, acs_urls: list[str], name_id_format: str = EMAIL_NAME_ID) -> bytes:
    """The smallest SP metadata ZITADEL accepts for the app: entity id, every ACS URL (HTTP-POST, the first the
    default), the NameID format. Deterministic: same facts, same bytes."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<md:EntityDescriptor xmlns:md="{0}" entityID="{1}">'.format(MD, _escape(entity_id)),
             '  <md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true" '
             'protocolSupportEnumeration="{0}">'.format(SAML2_PROTOCOL),
             "    <md:NameIDFormat>{0}</md:NameIDFormat>".format(_escape(name_id_format))]
    for index, url in enumerate(acs_urls):
        lines.append('    <md:AssertionConsumerService Binding="{0}" Location="{1}" index="{2}"{3}/>'.format(
            POST_BINDING, _escape(url), index, ' isDefault="true"' if index == 0 else ""))
    lines += ["  </md:SPSSODescriptor>", "</md:EntityDescriptor>", ""]
    return "\n".join(lines).encode("utf-8")


def read_sp_metadata(data: bytes) -> dict[str, Any]:
    """entity_id, acs_urls (document order) and name_id_formats of stored SP metadata; empty facts when it cannot
    be read (the comparison then sees a change and rewrites it)."""
    from .._saml.xmlparse import parse_xml  # pylint: disable=import-outside-toplevel
    from .._saml.findings import SamlError  # pylint: disable=import-outside-toplevel

    empty: dict[str, Any] = {"entity_id": None, "acs_urls": [], "name_id_formats": []}
    try:
        root = parse_xml(data, max_size=METADATA_MAX * 2)
    except SamlError:
        return empty
    entity = root if root.tag == "{%s}EntityDescriptor" % MD else root.find("{%s}EntityDescriptor" % MD)
    if entity is None:
        return empty
    sp = entity.find("{%s}SPSSODescriptor" % MD)
    if sp is None:
        return dict(empty, entity_id=entity.get("entityID"))
    return {"entity_id": entity.get("entityID"),
            "acs_urls": [node.get("Location") for node in sp.iterfind("{%s}AssertionConsumerService" % MD)
                         if node.get("Location")],
            "name_id_formats": [(node.text or "").strip() for node in sp.iterfind("{%s}NameIDFormat" % MD)]}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: Any) -> Optional[bytes]:
    if not isinstance(value, str) or not value:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return value.encode("utf-8")  # not base64: take it as the XML itself


def _saml_app(app_id: str, project_id: str, name: str, state: str, config: Optional[Mapping[str, Any]],
              kind: str) -> SamlApp:
    app = SamlApp(app_id=app_id, project_id=project_id, name=name, state=state, kind=kind)
    if config is not None:
        app.metadata_xml = _unb64(config.get("metadataXml"))
        app.metadata_url = config.get("metadataUrl") or ""
        if app.metadata_xml:
            facts = read_sp_metadata(app.metadata_xml)
            app.entity_id, app.acs_urls, app.name_id_formats = (facts["entity_id"], facts["acs_urls"],
                                                                facts["name_id_formats"])
    return app


# ------------------------------------------------------------------------------------- the APIs

class ZitadelApi:
    """What the module needs from ZITADEL, whatever the API version. client: a RestClient on the instance URL."""

    version = ""

    def __init__(self, client, organization_id: Optional[str] = None):
        self.client = client
        self.organization_id = organization_id

    # projects: dicts {"id", "name", "state"}
    def get_project(self, project_id: str) -> Optional[dict]:
        raise NotImplementedError

    def find_projects(self, name: str) -> list[dict]:
        raise NotImplementedError

    def create_project(self, name: str) -> str:
        raise NotImplementedError

    # applications
    def find_apps(self, project_id: str, name: str) -> list[SamlApp]:
        raise NotImplementedError

    def create_saml_app(self, project_id: str, name: str, metadata_xml: bytes) -> str:
        raise NotImplementedError

    def update_saml_app(self, project_id: str, app_id: str, metadata_xml: bytes) -> None:
        raise NotImplementedError

    def delete_app(self, project_id: str, app_id: str) -> None:
        raise NotImplementedError

    # settings
    def login_name_includes_domain(self) -> Optional[bool]:
        """Whether login names are suffixed with the organisation's domain (what the SAML NameID then holds)."""
        raise NotImplementedError

    # shared logic
    def find_project(self, project: str) -> Optional[dict]:
        """A project by id (an all-digit value that is an id) or by exact name; None when absent."""
        if project.isdigit():
            try:
                found = self.get_project(project)
            except ApiError as error:
                if not (error.not_found or error.status == 400):  # a bad or unknown id: try it as a name
                    raise
                found = None
            if found is not None:
                return found
        matches = [item for item in self.find_projects(project) if item.get("name") == project]
        if len(matches) > 1:
            raise ZitadelError("{0} projects are named {1!r}{2}; give the project id instead.".format(
                len(matches), project, " in organization " + self.organization_id if self.organization_id else
                " (set organization_id to look in one organization)"))
        return matches[0] if matches else None

    def find_app(self, project_id: str, name: str) -> Optional[SamlApp]:
        matches = [app for app in self.find_apps(project_id, name) if app.name == name]
        if len(matches) > 1:
            raise ZitadelError("{0} applications are named {1!r} in project {2}; ZITADEL keeps app names unique in "
                               "a project, so this should not happen: delete the extra ones.".format(
                                   len(matches), name, project_id))
        if matches and matches[0].kind != "saml":
            other = matches[0]
            raise ZitadelError("The application {0!r} ({1}) in project {2} is an {3} application, not SAML; give "
                               "another name, or delete it first.".format(name, other.app_id, project_id,
                                                                          other.kind.upper()))
        return matches[0] if matches else None


class ZitadelV2(ZitadelApi):
    """ApplicationService, ProjectService and SettingsService v2 over the Connect protocol (unary, JSON)."""

    version = V2

    def _call(self, service: str, method: str, body: Mapping[str, Any], read: bool = False) -> Any:
        return self.client.request("POST", service + method, json=dict(body), idempotent=read or None).data or {}

    def get_project(self, project_id: str) -> Optional[dict]:
        answer = self._call(PROJECT_SERVICE, "GetProject", {"projectId": project_id}, read=True)
        project = answer.get("project")
        return _project(project.get("projectId"), project) if isinstance(project, Mapping) else None

    def find_projects(self, name: str) -> list[dict]:
        filters: list[dict] = [{"projectNameFilter": {"projectName": name, "method": "TEXT_FILTER_METHOD_EQUALS"}}]
        if self.organization_id:
            filters.append({"organizationIdFilter": {"organizationId": self.organization_id, "type": "OWNED"}})
        items = iter_offset_pages(self.client, PROJECT_SERVICE + "ListProjects", body={"filters": filters},
                                  limit=PAGE, query_key="pagination", items_key="projects",
                                  total_path=("pagination", "totalResult"))
        return [_project(item.get("projectId"), item) for item in items if isinstance(item, Mapping)]

    def create_project(self, name: str) -> str:
        if not self.organization_id:
            raise ZitadelError("Creating the project {0!r} with the v2 API needs organization_id (the id of the "
                               "organization that owns it).".format(name))
        answer = self._call(PROJECT_SERVICE, "CreateProject", {"organizationId": self.organization_id, "name": name})
        return _required_id(answer, "projectId", "CreateProject")

    def find_apps(self, project_id: str, name: str) -> list[SamlApp]:
        filters = [{"projectIdFilter": {"projectId": project_id}},
                   {"nameFilter": {"name": name, "method": "TEXT_FILTER_METHOD_EQUALS"}}]
        items = iter_offset_pages(self.client, APP_SERVICE + "ListApplications", body={"filters": filters},
                                  limit=PAGE, query_key="pagination", items_key="applications",
                                  total_path=("pagination", "totalResult"))
        return [_v2_app(item) for item in items if isinstance(item, Mapping)]

    def create_saml_app(self, project_id: str, name: str, metadata_xml: bytes) -> str:
        answer = self._call(APP_SERVICE, "CreateApplication", {
            "projectId": project_id, "name": name, "samlConfiguration": {"metadataXml": _b64(metadata_xml)}})
        return _required_id(answer, "applicationId", "CreateApplication")

    def update_saml_app(self, project_id: str, app_id: str, metadata_xml: bytes) -> None:
        self._call(APP_SERVICE, "UpdateApplication", {
            "applicationId": app_id, "projectId": project_id,
            "samlConfiguration": {"metadataXml": _b64(metadata_xml)}})

    def delete_app(self, project_id: str, app_id: str) -> None:
        self._call(APP_SERVICE, "DeleteApplication", {"applicationId": app_id, "projectId": project_id})

    def login_name_includes_domain(self) -> Optional[bool]:
        body = {"ctx": {"orgId": self.organization_id}} if self.organization_id else {}
        settings = self._call(SETTINGS_SERVICE, "GetDomainSettings", body, read=True).get("settings") or {}
        return bool(settings.get("loginNameIncludesDomain", False))


class ZitadelV1(ZitadelApi):
    """The management API v1 (REST through grpc-gateway); the organisation is the x-zitadel-orgid header."""

    version = V1

    def get_project(self, project_id: str) -> Optional[dict]:
        project = (self.client.get(MGMT + "/projects/" + project_id) or {}).get("project")
        return _project(project.get("id"), project) if isinstance(project, Mapping) else None

    def find_projects(self, name: str) -> list[dict]:
        queries = [{"nameQuery": {"name": name, "method": "TEXT_QUERY_METHOD_EQUALS"}}]
        items = iter_offset_pages(self.client, MGMT + "/projects/_search", body={"queries": queries}, limit=PAGE)
        return [_project(item.get("id"), item) for item in items if isinstance(item, Mapping)]

    def create_project(self, name: str) -> str:
        return _required_id(self.client.post(MGMT + "/projects", json={"name": name}) or {}, "id", "AddProject")

    def find_apps(self, project_id: str, name: str) -> list[SamlApp]:
        queries = [{"nameQuery": {"name": name, "method": "TEXT_QUERY_METHOD_EQUALS"}}]
        items = iter_offset_pages(self.client, "{0}/projects/{1}/apps/_search".format(MGMT, project_id),
                                  body={"queries": queries}, limit=PAGE)
        return [_v1_app(item, project_id) for item in items if isinstance(item, Mapping)]

    def create_saml_app(self, project_id: str, name: str, metadata_xml: bytes) -> str:
        answer = self.client.post("{0}/projects/{1}/apps/saml".format(MGMT, project_id),
                                  json={"name": name, "metadataXml": _b64(metadata_xml)})
        return _required_id(answer or {}, "appId", "AddSAMLApp")

    def update_saml_app(self, project_id: str, app_id: str, metadata_xml: bytes) -> None:
        self.client.put("{0}/projects/{1}/apps/{2}/saml_config".format(MGMT, project_id, app_id),
                        json={"metadataXml": _b64(metadata_xml)})

    def delete_app(self, project_id: str, app_id: str) -> None:
        self.client.delete("{0}/projects/{1}/apps/{2}".format(MGMT, project_id, app_id))

    def login_name_includes_domain(self) -> Optional[bool]:
        policy = (self.client.get(MGMT + "/policies/domain") or {}).get("policy") or {}
        return bool(policy.get("userLoginMustBeDomain", False))


def zitadel_api(client, version: str, organization_id: Optional[str] = None) -> ZitadelApi:
    return (ZitadelV2 if version == V2 else ZitadelV1)(client, organization_id)


def _project(project_id: Any, data: Mapping[str, Any]) -> dict:
    return {"id": str(project_id or ""), "name": data.get("name") or "", "state": data.get("state") or ""}


def _required_id(answer: Mapping[str, Any], key: str, method: str) -> str:
    value = answer.get(key) if isinstance(answer, Mapping) else None
    if not isinstance(value, str) or not value:
        raise ZitadelError("{0} answered without {1}; check api_url points at the ZITADEL instance and api_version "
                           "matches it.".format(method, key))
    return value


def _v2_app(item: Mapping[str, Any]) -> SamlApp:
    kind = "saml" if "samlConfiguration" in item else "oidc" if "oidcConfiguration" in item else \
        "api" if "apiConfiguration" in item else "unknown"
    config = item.get("samlConfiguration")
    return _saml_app(str(item.get("applicationId") or ""), str(item.get("projectId") or ""), item.get("name") or "",
                     item.get("state") or "", config if isinstance(config, Mapping) else None, kind)


def _v1_app(item: Mapping[str, Any], project_id: str) -> SamlApp:
    kind = "saml" if "samlConfig" in item else "oidc" if "oidcConfig" in item else \
        "api" if "apiConfig" in item else "unknown"
    config = item.get("samlConfig")
    return _saml_app(str(item.get("id") or ""), project_id, item.get("name") or "", item.get("state") or "",
                     config if isinstance(config, Mapping) else None, kind)


# ------------------------------------------------------------------------------------- IdP facts

def idp_facts(api_url: str) -> dict[str, Any]:
    """Where ZITADEL publishes the IdP side (zitadel/saml: the entity id is the metadata endpoint's URL)."""
    base = api_url.rstrip("/")
    return {
        "entity_id": base + "/saml/v2/metadata",
        "metadata_url": base + "/saml/v2/metadata",
        "sso_url": base + "/saml/v2/SSO",
        "certificate_url": base + "/saml/v2/certificate",
        "certificate_pem": None,
        "legacy_urls": {"entity_id": base + "/saml/metadata", "metadata_url": base + "/saml/metadata",
                        "sso_url": base + "/saml/SSO", "certificate_url": base + "/saml/certificate"},
    }
