# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: no compatibility promise; other collections must not import this.

The Cloudflare Zero Trust Access API, as far as a SAML SaaS application for IAM Identity Center needs it:
the applications of an account (list with page/per_page, create with POST, replace with PUT, delete), the
reusable policies (to resolve a name to its id), and the mapping between the task's options and the API's
application object.

Field names and shapes follow the Cloudflare API schema (cloudflare/api-schemas, access_saas_props and
access_saml_saas_app) and the official SDKs. Two facts the 2024-08 schema gets wrong or leaves out, checked
against cloudflare-go and cloudflare-python: saas_app.custom_attributes is a LIST of attribute objects (the
schema says one object), and a SaaS application has no application-level session_duration (it is set on the
Access policy). The list endpoint returns whole application objects, so one GET finds and compares the app.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._http.client import RestClient
from .._http.errors import ApiError
from .._http.paging import iter_numbered_pages

DEFAULT_API_URL = "https://api.cloudflare.com/client/v4"
TOKEN_ENV = "CLOUDFLARE_API_TOKEN"
ACCOUNT_ENV = "CLOUDFLARE_ACCOUNT_ID"
API_URL_ENV = "CLOUDFLARE_API_URL"
AUTH_ERROR_CODES = (9103, 9106, 9109, 10000, 10001)  # the codes Cloudflare answers a token it refuses with
NAME_FORMATS = (
    "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified",
    "urn:oasis:names:tc:SAML:2.0:attrname-format:basic",
    "urn:oasis:names:tc:SAML:2.0:attrname-format:uri",
)
# What a PUT may carry: the writable fields of a SaaS application (access_saas_props, the embedded policies and
# scim_config). A PUT replaces the application, so everything kept must be sent again, and nothing else.
WRITABLE_APP_FIELDS = ("name", "type", "saas_app", "allowed_idps", "app_launcher_visible", "auto_redirect_to_identity",
                       "custom_pages", "logo_url", "tags", "policies", "scim_config")
WRITABLE_SAML_FIELDS = ("auth_type", "sp_entity_id", "consumer_service_url", "name_id_format", "custom_attributes",
                        "default_relay_state", "name_id_transform_jsonata", "saml_attribute_transform_jsonata")
# Computed by Cloudflare: shown, never compared (paths as _state.Spec reads them).
READ_ONLY = ("id", "aud", "created_at", "updated_at", "domain", "saas_app.idp_entity_id", "saas_app.sso_endpoint",
             "saas_app.public_key", "saas_app.created_at", "saas_app.updated_at", "scim_config")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")


class CloudflareError(Exception):
    """A problem the task must report (ambiguous name, unknown policy); the message names the fix."""


@dataclass
class Policies:
    """Policy references resolved: ids in the task's order, and what could not be resolved."""

    ids: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    ambiguous: dict[str, list[str]] = field(default_factory=dict)


class AccessClient:
    """The Access endpoints of one account, on a RestClient (bearer token, parse_cloudflare errors)."""

    def __init__(self, client: RestClient, account_id: str, per_page: int = 50):
        self.client = client
        self.account_id = account_id
        self.per_page = per_page

    @property
    def apps_path(self) -> str:
        return "accounts/{0}/access/apps".format(self.account_id)

    def app_path(self, app_id: str) -> str:
        return "{0}/{1}".format(self.apps_path, app_id)

    @property
    def policies_path(self) -> str:
        return "accounts/{0}/access/policies".format(self.account_id)

    # -------------------------------------------------------------------------------- applications

    def find_apps(self, name: str) -> list[dict]:
        """Every application named exactly `name`. The name/exact filters narrow the list where the API supports
        them; the exact comparison here is what counts (an older API ignores them and lists every app)."""
        items = iter_numbered_pages(self.client, self.apps_path, params={"name": name, "exact": "true"},
                                    per_page=self.per_page)
        return [app for app in items if isinstance(app, Mapping) and app.get("name") == name]

    def create_app(self, body: Mapping[str, Any]) -> dict:
        return _result(self.client.request("POST", self.apps_path, json=dict(body)).data, "POST", self.apps_path)

    def update_app(self, app_id: str, body: Mapping[str, Any]) -> dict:
        path = self.app_path(app_id)
        return _result(self.client.request("PUT", path, json=dict(body)).data, "PUT", path)

    def delete_app(self, app_id: str) -> None:
        """DELETE; an application already gone (404) counts as deleted (a retried DELETE)."""
        try:
            self.client.request("DELETE", self.app_path(app_id))
        except ApiError as error:
            if not error.not_found:
                raise

    # -------------------------------------------------------------------------------- policies

    def list_policies(self) -> list[dict]:
        return [item for item in iter_numbered_pages(self.client, self.policies_path, per_page=self.per_page)
                if isinstance(item, Mapping)]

    def resolve_policies(self, refs: Iterable[str]) -> Policies:
        """Reusable policy ids for ids or names. Only names need the policy list: ids (UUIDs) pass as they are,
        so a task that gives ids costs no extra request."""
        refs = list(refs)
        resolved = Policies()
        by_name: dict[str, list[str]] = {}
        if any(not _UUID.match(ref) for ref in refs):
            for policy in self.list_policies():
                by_name.setdefault(str(policy.get("name")), []).append(str(policy.get("id")))
        for ref in refs:
            if _UUID.match(ref):
                resolved.ids.append(ref)
            elif len(by_name.get(ref, [])) == 1:
                resolved.ids.append(by_name[ref][0])
            elif ref in by_name:
                resolved.ambiguous[ref] = by_name[ref]
            else:
                resolved.unknown.append(ref)
        return resolved


def _result(data: Any, method: str, path: str) -> dict:
    """The `result` of a Cloudflare envelope; a 2xx answer with success false or no object is an error."""
    if isinstance(data, Mapping) and data.get("success") is not False and isinstance(data.get("result"), Mapping):
        return dict(data["result"])
    raise ApiError("{0} {1} answered without an application object in `result`; check api_url points at the "
                   "Cloudflare API (https://api.cloudflare.com/client/v4).".format(method, path),
                   method=method, url=path, code="no_result")


# ------------------------------------------------------------------------------------ mapping

def custom_attribute(item: Mapping[str, Any]) -> dict:
    """A task's attribute ({name, source_name, name_format?, friendly_name?, required?}) in the API's shape."""
    attribute: dict[str, Any] = {"name": item["name"], "source": {"name": item["source_name"]}}
    for key in ("name_format", "friendly_name", "required"):
        if item.get(key) is not None:
            attribute[key] = item[key]
    return attribute


def desired_app(name: str, sp_entity_id: str, acs_url: str, *, custom_attributes: list[Mapping] | None = None,
                default_relay_state: str | None = None, policy_ids: list[str] | None = None,
                allowed_idps: list[str] | None = None, app_launcher_visible: bool | None = None) -> dict:
    """The application the task asks for, in the view's shape (see app_view); None leaves a field as it is."""
    saas_app: dict[str, Any] = {"auth_type": "saml", "sp_entity_id": sp_entity_id, "consumer_service_url": acs_url,
                                "name_id_format": "email", "default_relay_state": default_relay_state}
    if custom_attributes is not None:
        saas_app["custom_attributes"] = [custom_attribute(item) for item in custom_attributes]
    return {"name": name, "type": "saas", "saas_app": saas_app, "policies": policy_ids, "allowed_idps": allowed_idps,
            "app_launcher_visible": app_launcher_visible}


def app_view(app: Mapping[str, Any]) -> dict:
    """The application as before/after show it: the API object, its policies as ids in precedence order (what
    the task compares), secrets of an OIDC app (client_secret) dropped."""
    view = {key: value for key, value in app.items() if key != "policies"}
    if isinstance(view.get("saas_app"), Mapping):
        view["saas_app"] = {key: value for key, value in view["saas_app"].items() if key != "client_secret"}
    policies = app.get("policies")
    if isinstance(policies, list):
        ordered = sorted((item for item in policies if isinstance(item, Mapping)),
                         key=lambda item: (item.get("precedence") is None, item.get("precedence") or 0))
        view["policies"] = [str(item.get("id")) for item in ordered]
    return view


def write_body(view: Mapping[str, Any]) -> dict:
    """The POST/PUT body for a view (the planned after): writable fields only, policies as links whose
    precedence is their position (1 first)."""
    body = {key: view[key] for key in WRITABLE_APP_FIELDS if view.get(key) is not None}
    if isinstance(body.get("saas_app"), Mapping):
        body["saas_app"] = {key: value for key, value in body["saas_app"].items()
                            if key in WRITABLE_SAML_FIELDS and value is not None}
    if "policies" in body:
        body["policies"] = [{"id": policy_id, "precedence": index} for index, policy_id in
                            enumerate(body["policies"], start=1)]
    return body


def certificate_pem(public_key: str | None) -> str | None:
    """The public_key of a SAML SaaS app as a PEM certificate (Cloudflare gives PEM; a bare base64 body, as some
    API versions returned, is wrapped)."""
    if not public_key or not public_key.strip():
        return None
    text = public_key.strip()
    if "-----BEGIN CERTIFICATE-----" in text:
        return text + "\n"
    body = "".join(text.split())
    return "-----BEGIN CERTIFICATE-----\n{0}\n-----END CERTIFICATE-----\n".format("\n".join(textwrap.wrap(body, 64)))


def idp_facts(app: Mapping[str, Any] | None) -> dict | None:
    """What Identity Center needs from the app: entity id, SSO URL, metadata URL, signing certificate."""
    saas = (app or {}).get("saas_app") or {}
    sso = saas.get("sso_endpoint")
    if not app or not (sso or saas.get("idp_entity_id")):
        return None
    return {"entity_id": saas.get("idp_entity_id"), "sso_url": sso,
            "metadata_url": "{0}/saml-metadata".format(sso.rstrip("/")) if sso else None,
            "certificate_pem": certificate_pem(saas.get("public_key")), "certificate_url": None}


def is_auth_error(error: ApiError) -> bool:
    """Cloudflare refuses a wrong, expired or under-privileged token with 403 (or 400/401) and code 10000."""
    return error.status in (400, 401, 403) and error.code in AUTH_ERROR_CODES
