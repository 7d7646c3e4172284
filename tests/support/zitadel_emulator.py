# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A ZITADEL emulator for the zitadel_saml_app tests, on test_server.py (next to it: copy both).

    python zitadel_emulator.py --dir STATE [--port 0] [--background]      python zitadel_emulator.py --stop STATE

It follows ZITADEL closely where the module depends on it:

- v2 (Connect protocol, unary JSON POST): zitadel.application.v2.ApplicationService (Create/Update/Delete/Get/
  ListApplications), zitadel.project.v2.ProjectService (Create/Get/ListProjects), zitadel.settings.v2.SettingsService
  GetDomainSettings. Every request body is checked against the pydantic models of the official SDK zitadel-client
  (a test-only dependency): an unknown field, or a field of the wrong type, is refused with invalid_argument, as
  connect-go's protojson does.
- v1 (management REST API, grpc-gateway): GET /management/v1/projects/{id}, POST /projects/_search, POST /projects,
  POST /projects/{projectId}/apps/_search, POST .../apps/saml, PUT .../apps/{appId}/saml_config, GET and DELETE
  .../apps/{appId}, GET /policies/domain; the organisation in x-zitadel-orgid. Bodies are checked against field
  allow-lists taken from proto/zitadel/management.proto (ListProjectsRequest, AddProjectRequest, ListAppsRequest,
  AddSAMLAppRequest, UpdateSAMLAppConfigRequest), object.proto (ListQuery), app.proto (AppQuery, AppNameQuery)
  and project.proto (ProjectQuery, ProjectNameQuery). Real grpc-gateway discards unknown fields; the emulator
  refuses them, so a module that sends a field the proto does not have fails the test.
- Errors: v1 {"code": <gRPC number>, "message", "details": [{"@type": ".../zitadel.v1.ErrorDetail", "id",
  "message"}]}, v2 Connect {"code": "<name>", "message", "details"}; HTTP statuses as ZITADEL maps gRPC codes
  (https://zitadel.com/docs/apis/statuscodes): InvalidArgument and FailedPrecondition 400, Unauthenticated 401,
  PermissionDenied 403, NotFound 404, AlreadyExists 409, ResourceExhausted 429, Internal 500, Unavailable 503.
- Rules as ZITADEL's command side enforces them: app names unique in a project (Errors.Project.App.AlreadyExists),
  SAML entity ids unique in the instance (Errors.Project.App.SAMLEntityIDAlreadyExists), project names unique in
  an organisation, a SAML app needs metadataXml or metadataUrl and parseable metadata with an entityID, an update
  that changes nothing is refused (Errors.NoChangesFound), a create in a missing project is FailedPrecondition.
- Pagination: offset/limit (default 100, at most 1000), totalResult as a uint64 JSON string.
- Auth: a personal access token (server.json "pat"), or the JWT profile grant at /oauth/v2/token: the assertion's
  RS256 signature is verified with the public key of the service-user key the emulator generates once and writes
  to STATE/service-user-key.json (ZITADEL's key file format); iss = sub = userId, aud = the issuer URL. Tokens
  without the scope urn:zitadel:iam:org:project:id:zitadel:aud are refused by the APIs.
- SAML IdP endpoints: /saml/v2/metadata (entityID = that URL, signed with a metadata key), /saml/v2/certificate
  (PEM), and the older /saml/metadata and /saml/certificate; keys made once and kept in STATE.

Test-only: PUT /_test/settings {"login_name_includes_domain": bool} (with the control token header).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import enum
import json
import os
import secrets
import sys
import threading
import time
import types
import typing
from typing import Any, Optional

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import test_server  # noqa: E402
from test_server import CONTROL_HEADER, DAY, Reply, Request, TestServer, keypair, make_name, now, write_private  # noqa: E402

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
SOAP = "urn:oasis:names:tc:SAML:2.0:bindings:SOAP"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
BASIC = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
API_AUDIENCE_SCOPE = "urn:zitadel:iam:org:project:id:zitadel:aud"
ORG_HEADER = "x-zitadel-orgid"
METADATA_MAX = 500000
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000

# gRPC code -> (number, Connect name, HTTP status), as ZITADEL maps them.
CODES = {
    "InvalidArgument": (3, "invalid_argument", 400),
    "NotFound": (5, "not_found", 404),
    "AlreadyExists": (6, "already_exists", 409),
    "PermissionDenied": (7, "permission_denied", 403),
    "ResourceExhausted": (8, "resource_exhausted", 429),
    "FailedPrecondition": (9, "failed_precondition", 400),
    "Unimplemented": (12, "unimplemented", 501),
    "Internal": (13, "internal", 500),
    "Unavailable": (14, "unavailable", 503),
    "DeadlineExceeded": (4, "deadline_exceeded", 504),
    "Unauthenticated": (16, "unauthenticated", 401),
}
STATUS_CODES = {400: "InvalidArgument", 401: "Unauthenticated", 403: "PermissionDenied", 404: "NotFound",
                409: "AlreadyExists", 429: "ResourceExhausted", 500: "Internal", 501: "Unimplemented",
                502: "Unavailable", 503: "Unavailable", 504: "DeadlineExceeded"}
# ZITADEL's translated messages for the i18n keys the emulator uses.
MESSAGES = {
    "Errors.Token.Invalid": "Token is invalid",
    "Errors.Project.NotFound": "Project not found",
    "Errors.Project.AlreadyExists": "Project already exists on organization",
    "Errors.Project.App.AlreadyExists": "Application already exists",
    "Errors.Project.App.NotExisting": "Application doesn't exist",
    "Errors.Project.App.SAMLEntityIDAlreadyExists": "SAML EntityID already exists",
    "Errors.Project.App.SAMLMetadataMissing": "SAML Metadata is missing",
    "Errors.Project.App.SAMLMetadataFormat": "SAML Metadata format error",
    "Errors.Project.App.Invalid": "Application invalid",
    "Errors.Project.App.IsNotSAML": "Application is not of type SAML",
    "Errors.NoChangesFound": "No changes",
    "Errors.Org.NotFound": "Organization not found",
    "Errors.Query.LimitExceeded": "Limit exceeded",
    "Errors.Internal": "Internal error",
}


class ApiFailure(Exception):
    def __init__(self, code: str, key: str, error_id: str, detail: str = ""):
        super().__init__(key)
        self.code, self.key, self.error_id, self.detail = code, key, error_id, detail


def rfc3339(moment: Optional[datetime.datetime] = None) -> str:
    moment = moment or datetime.datetime.now(datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _text_match(value: str, wanted: str, method: Any) -> bool:
    method = str(method or "EQUALS")
    if "IGNORE_CASE" in method:
        value, wanted = value.lower(), wanted.lower()
    if "STARTS_WITH" in method:
        return value.startswith(wanted)
    if "CONTAINS" in method:
        return wanted in value
    if "ENDS_WITH" in method:
        return value.endswith(wanted)
    return value == wanted


def _uint(value: Any, name: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.isdigit())):
        raise ApiFailure("InvalidArgument", "invalid value for uint64 field {0}: {1}".format(name, json.dumps(value)),
                         "QUERY-pag1")
    return int(value)


# -------------------------------------------------------------------------------- v2: SDK models

def _sdk_models() -> dict[str, Any]:
    """Request model of every v2 method the emulator serves, from the official SDK."""
    from zitadel_client import models  # pylint: disable=import-outside-toplevel

    return {
        "zitadel.application.v2.ApplicationService/CreateApplication": models.ApplicationServiceCreateApplicationRequest,
        "zitadel.application.v2.ApplicationService/UpdateApplication": models.ApplicationServiceUpdateApplicationRequest,
        "zitadel.application.v2.ApplicationService/DeleteApplication": models.ApplicationServiceDeleteApplicationRequest,
        "zitadel.application.v2.ApplicationService/GetApplication": models.ApplicationServiceGetApplicationRequest,
        "zitadel.application.v2.ApplicationService/ListApplications": models.ApplicationServiceListApplicationsRequest,
        "zitadel.project.v2.ProjectService/CreateProject": models.ProjectServiceCreateProjectRequest,
        "zitadel.project.v2.ProjectService/GetProject": models.ProjectServiceGetProjectRequest,
        "zitadel.project.v2.ProjectService/ListProjects": models.ProjectServiceListProjectsRequest,
        "zitadel.settings.v2.SettingsService/GetDomainSettings": models.SettingsServiceGetDomainSettingsRequest,
    }


def check_model(model, data: Any, path: str = "") -> list[str]:
    """Every problem protojson would raise for data as a JSON message of model (a pydantic BaseModel from the SDK):
    unknown fields (the SDK's own from_dict ignores them) and wrong types, recursively; then the SDK's validation."""
    if not isinstance(data, dict):
        return ["{0}: expected a JSON object".format(path or "body")]
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        fields[info.alias or name] = info
        fields[name] = info  # protojson accepts the proto field name too
    problems: list[str] = []
    for key, value in data.items():
        info = fields.get(key)
        if info is None:
            problems.append("unknown field {0!r}".format(path + key))
            continue
        problems.extend(_check_value(info.annotation, value, path + key))
    if not problems:
        try:
            model.from_dict(data)
        except Exception as exc:  # pylint: disable=broad-except  # pydantic.ValidationError and friends
            problems.append("{0}: {1}".format(path or "body", str(exc).splitlines()[0]))
    return problems


def _check_value(annotation: Any, value: Any, path: str) -> list[str]:
    if value is None:
        return []
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _check_value(args[0], value, path)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in args if arg is not type(None)]
        if len(options) == 1:
            return _check_value(options[0], value, path)
        # Union[StrictBytes, StrictStr]: proto bytes, base64 in JSON.
        if not isinstance(value, str):
            return ["{0}: expected base64 bytes (a JSON string), got {1}".format(path, type(value).__name__)]
        try:
            base64.b64decode(value + "=" * (-len(value) % 4), validate=False, altchars=None)
        except (binascii.Error, ValueError):
            return ["{0}: not valid base64".format(path)]
        return []
    if origin is list:
        if not isinstance(value, list):
            return ["{0}: expected a list".format(path)]
        return [problem for index, item in enumerate(value) for problem in _check_value(args[0], item,
                                                                                        "{0}[{1}]".format(path, index))]
    if origin is dict:
        return [] if isinstance(value, dict) else ["{0}: expected an object".format(path)]
    if annotation is Any:  # uint64 / int64 fields: a number or a decimal string
        ok = (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, str) and value.isdigit())
        return [] if ok else ["{0}: expected a 64-bit integer".format(path)]
    if isinstance(annotation, type):
        if issubclass(annotation, enum.Enum):
            names = [member.value for member in annotation]
            ok = value in names or (isinstance(value, int) and not isinstance(value, bool))
            return [] if ok else ["{0}: invalid value {1!r} for enum {2}".format(path, value, annotation.__name__)]
        if hasattr(annotation, "model_fields"):
            return check_model(annotation, value, path + ".")
        if annotation is bool:
            return [] if isinstance(value, bool) else ["{0}: expected a boolean".format(path)]
        if annotation is int:
            ok = (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, str) and value.isdigit())
            return [] if ok else ["{0}: expected an integer".format(path)]
        if annotation is str:
            return [] if isinstance(value, str) else ["{0}: expected a string".format(path)]
    return []


# ------------------------------------------------------------------------- v1: proto allow-lists

# Field -> type, from proto/zitadel/management.proto, object.proto, app.proto and project.proto (json names).
V1_MESSAGES: dict[str, dict[str, Any]] = {
    "ListQuery": {"offset": "uint64", "limit": "uint32", "asc": "bool"},
    "TextQuery": {"name": "string", "method": "enum"},
    "ResourceOwnerQuery": {"resourceOwner": "string"},
    "ProjectQuery": {"nameQuery": "TextQuery", "projectResourceOwnerQuery": "ResourceOwnerQuery"},
    "AppQuery": {"nameQuery": "TextQuery"},
    "LoginVersion": {"loginV1": "object", "loginV2": "object"},
    "ListProjectsRequest": {"query": "ListQuery", "queries": ["ProjectQuery"]},
    "AddProjectRequest": {"name": "string", "projectRoleAssertion": "bool", "projectRoleCheck": "bool",
                          "hasProjectCheck": "bool", "privateLabelingSetting": "enum"},
    "ListAppsRequest": {"projectId": "string", "query": "ListQuery", "queries": ["AppQuery"]},
    "AddSAMLAppRequest": {"projectId": "string", "name": "string", "metadataXml": "bytes", "metadataUrl": "string",
                          "loginVersion": "LoginVersion"},
    "UpdateSAMLAppConfigRequest": {"projectId": "string", "appId": "string", "metadataXml": "bytes",
                                   "metadataUrl": "string", "loginVersion": "LoginVersion"},
}


def _snake(name: str) -> str:
    return "".join("_" + char.lower() if char.isupper() else char for char in name)


def check_v1(message: str, data: Any, path: str = "") -> list[str]:
    if not isinstance(data, dict):
        return ["{0}: expected a JSON object".format(path or "body")]
    fields = V1_MESSAGES[message]
    known = {**fields, **{_snake(key): kind for key, kind in fields.items()}}
    problems: list[str] = []
    for key, value in data.items():
        if key not in known:
            problems.append("unknown field {0!r} in {1}".format(path + key, message))
        elif value is not None:
            problems.extend(_check_v1_value(known[key], value, path + key))
    return problems


def _check_v1_value(kind: Any, value: Any, path: str) -> list[str]:
    if isinstance(kind, list):
        if not isinstance(value, list):
            return ["{0}: expected a list".format(path)]
        return [problem for index, item in enumerate(value)
                for problem in _check_v1_value(kind[0], item, "{0}[{1}]".format(path, index))]
    if kind in V1_MESSAGES:
        return check_v1(kind, value, path + ".")
    checks = {"string": lambda v: isinstance(v, str), "bool": lambda v: isinstance(v, bool),
              "enum": lambda v: isinstance(v, (str, int)) and not isinstance(v, bool),
              "object": lambda v: isinstance(v, dict),
              "uint64": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, str) and v.isdigit()),
              "uint32": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, str) and v.isdigit()),
              "bytes": lambda v: isinstance(v, str)}
    if not checks[kind](value):
        return ["{0}: invalid value for a {1} field".format(path, kind)]
    if kind == "bytes":
        try:
            base64.b64decode(value + "=" * (-len(value) % 4))
        except (binascii.Error, ValueError):
            return ["{0}: not valid base64".format(path)]
    return []


# ----------------------------------------------------------------------------------- SP metadata

def parse_sp_metadata(data: bytes) -> dict[str, Any]:
    """entityID, ACS URLs and NameID formats of SP metadata; ApiFailure as ZITADEL's xml.ParseMetadataXmlIntoStruct."""
    from lxml import etree  # pylint: disable=import-outside-toplevel

    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    except etree.XMLSyntaxError as exc:
        raise ApiFailure("InvalidArgument", "Errors.Project.App.SAMLMetadataFormat", "SAML-bquso", str(exc)) from None
    if root.tag != "{%s}EntityDescriptor" % MD or not root.get("entityID"):
        raise ApiFailure("InvalidArgument", "Errors.Project.App.SAMLMetadataFormat", "SAML-bquso",
                         "no md:EntityDescriptor with an entityID")
    sp = root.find("{%s}SPSSODescriptor" % MD)
    acs = [] if sp is None else [node.get("Location") for node in sp.iterfind("{%s}AssertionConsumerService" % MD)]
    formats = [] if sp is None else [(node.text or "").strip() for node in sp.iterfind("{%s}NameIDFormat" % MD)]
    return {"entity_id": root.get("entityID"), "acs_urls": acs, "name_id_formats": formats}


# ----------------------------------------------------------------------------------------- keys

def _self_signed(common_name: str, days: int = 365 * 5):
    def build(key):
        start = now()
        return (x509.CertificateBuilder().subject_name(make_name(common_name)).issuer_name(make_name(common_name))
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(start - DAY).not_valid_after(start + days * DAY).sign(key, hashes.SHA256()))
    return build


def service_user_key(state: str) -> dict[str, Any]:
    """The service user's key file (made once): ZITADEL's JSON format, the private key PKCS#1 PEM."""
    path = os.path.join(state, "service-user-key.json")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            return dict(json.load(handle), path=path)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    data = {"type": "serviceaccount", "keyId": str(300000000000000000 + secrets.randbelow(10 ** 15)),
            "key": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                     serialization.NoEncryption()).decode("ascii"),
            "expirationDate": "9999-12-31T23:59:59Z", "userId": str(300000000000000000 + secrets.randbelow(10 ** 15))}
    write_private(path, json.dumps(data, indent=2).encode("utf-8"))
    return dict(data, path=path)


def _persistent_secret(state: str, name: str) -> str:
    path = os.path.join(state, name)
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    value = secrets.token_urlsafe(48)
    write_private(path, value.encode("ascii"))
    return value


# --------------------------------------------------------------------------------------- server

class ZitadelEmulator(TestServer):
    name = "ZITADEL emulator"

    def __init__(self, state_dir: Optional[str] = None, **kwargs: Any):
        super().__init__(state_dir, key_type="rsa", **kwargs)
        self.models = _sdk_models()
        self.saml_key, self.saml_cert = keypair(self.state_dir, "saml-response-signing",
                                                _self_signed("ZITADEL SAML response signing"), min_days_left=60)
        self.metadata_key, self.metadata_cert = keypair(self.state_dir, "saml-metadata-signing",
                                                        _self_signed("ZITADEL SAML metadata signing"), min_days_left=60)
        self.service_key = service_user_key(self.state_dir)
        self.service_public = serialization.load_pem_private_key(self.service_key["key"].encode(), None).public_key()
        self.pat = _persistent_secret(self.state_dir, "pat.txt")
        self.org = {"id": "300000000000000001", "name": "ACME", "primary_domain": "acme.zitadel.test"}
        self._ids = 310000000000000000 + secrets.randbelow(10 ** 12)
        self._state_lock = threading.RLock()
        self._local = threading.local()
        self._init_state()

    def _init_state(self) -> None:
        self.projects: dict[str, dict] = {}
        self.apps: dict[str, dict] = {}
        self.tokens: dict[str, dict] = {}
        self.tokens_issued = 0
        self.login_name_includes_domain = False

    # ------------------------------------------------------------------------------ base hooks

    def setup_routes(self) -> None:
        for service in ("zitadel.application.v2.ApplicationService", "zitadel.project.v2.ProjectService",
                        "zitadel.settings.v2.SettingsService"):
            self.add_route("POST", "/" + service + "/{method}", self._v2)
        base = "/management/v1"
        self.add_route("POST", base + "/projects/_search", self._v1(self.v1_list_projects, "ListProjectsRequest"))
        self.add_route("POST", base + "/projects", self._v1(self.v1_add_project, "AddProjectRequest"))
        self.add_route("GET", base + "/projects/{project_id}", self._v1(self.v1_get_project))
        self.add_route("POST", base + "/projects/{project_id}/apps/_search", self._v1(self.v1_list_apps, "ListAppsRequest"))
        self.add_route("POST", base + "/projects/{project_id}/apps/saml", self._v1(self.v1_add_saml_app, "AddSAMLAppRequest"))
        self.add_route("PUT", base + "/projects/{project_id}/apps/{app_id}/saml_config",
                       self._v1(self.v1_update_saml_config, "UpdateSAMLAppConfigRequest"))
        self.add_route("GET", base + "/projects/{project_id}/apps/{app_id}", self._v1(self.v1_get_app))
        self.add_route("DELETE", base + "/projects/{project_id}/apps/{app_id}", self._v1(self.v1_remove_app))
        self.add_route("GET", base + "/policies/domain", self._v1(self.v1_domain_policy))
        self.add_route("POST", "/oauth/v2/token", self._token)
        for prefix in ("/saml/v2", "/saml"):
            self.add_route("GET", prefix + "/metadata", self._metadata)
            self.add_route("GET", prefix + "/certificate", self._certificate)
        self.add_route("PUT", "/_test/settings", self._test_settings)

    def handle(self, handler, request: Request) -> None:
        self._local.v2 = request.path.startswith("/zitadel.")  # injected faults answer in the envelope of the API
        super().handle(handler, request)

    def reset(self) -> None:
        super().reset()
        with self._state_lock:
            self._init_state()

    def error_reply(self, status: int, message: str, headers: Optional[dict] = None) -> Reply:
        code = STATUS_CODES.get(status, "Internal" if status >= 500 else "InvalidArgument")
        reply = self._error_body(getattr(self._local, "v2", False), code, message, "EMU-fault", status)
        reply.headers.update(headers or {})
        return reply

    def not_found(self, request: Request) -> Reply:
        if request.path.startswith("/zitadel."):
            return Reply.json({"code": "unimplemented", "message": request.path + " is not implemented"}, 404)
        return Reply.text("404 page not found\n", 404)

    def info(self) -> dict[str, Any]:
        info = super().info()
        info.update(pat=self.pat, key_file=self.service_key["path"], service_user_id=self.service_key["userId"],
                    org_id=self.org["id"], org_domain=self.org["primary_domain"], issuer=self.url)
        return info

    def state(self) -> Any:
        with self._state_lock:
            return {
                "org": dict(self.org, login_name_includes_domain=self.login_name_includes_domain),
                "projects": [dict(project) for project in self.projects.values()],
                "apps": [{key: value for key, value in app.items() if key != "metadata_xml"}
                         | {"metadata_xml": app["metadata_xml"].decode("utf-8", "replace")}
                         for app in self.apps.values()],
                "tokens_issued": self.tokens_issued,
            }

    # ------------------------------------------------------------------------------ errors

    def _error_body(self, v2: bool, code: str, message: str, error_id: str, status: Optional[int] = None) -> Reply:
        number, name, http_status = CODES[code]
        text = "{0} ({1})".format(message, error_id)
        if v2:
            detail = {"id": error_id, "message": message}
            body = {"code": name, "message": text, "details": [{
                "type": "zitadel.v1.ErrorDetail",
                "value": base64.b64encode(json.dumps(detail).encode()).decode().rstrip("="), "debug": detail}]}
        else:
            body = {"code": number, "message": text, "details": [
                {"@type": "type.googleapis.com/zitadel.v1.ErrorDetail", "id": error_id, "message": message}]}
        return Reply.json(body, status or http_status)

    def _failure(self, v2: bool, failure: ApiFailure) -> Reply:
        message = MESSAGES.get(failure.key, failure.key)
        if failure.detail:
            message = "{0}: {1}".format(message, failure.detail)
        return self._error_body(v2, failure.code, message, failure.error_id)

    # ------------------------------------------------------------------------------ auth

    def _authenticate(self, request: Request) -> None:
        header = request.header("Authorization") or ""
        if not header.startswith("Bearer "):
            raise ApiFailure("Unauthenticated", "auth header missing", "AUTH-7mN0s")
        token = header[len("Bearer "):].strip()
        if secrets.compare_digest(token, self.pat):
            return
        issued = self.tokens.get(token)
        if issued is None or issued["expires"] < time.time() or not issued["api_audience"]:
            raise ApiFailure("Unauthenticated", "Errors.Token.Invalid", "AUTH-7fs1e")

    def _org_of(self, request: Request) -> str:
        org = request.header(ORG_HEADER)
        if org and org != self.org["id"]:
            raise ApiFailure("PermissionDenied", "No matching permissions found", "AUTH-5mWD2")
        return self.org["id"]

    # ------------------------------------------------------------------------------ v2 dispatch

    def _v2(self, request: Request) -> Reply:
        service_method = request.path.lstrip("/")
        model = self.models.get(service_method)
        if model is None:
            return Reply.json({"code": "unimplemented", "message": request.path + " is not implemented"}, 404)
        if "json" not in (request.header("Content-Type") or ""):
            return Reply.text("invalid content-type: {0!r}; expecting application/json\n".format(
                request.header("Content-Type")), 415)
        try:
            self._authenticate(request)
            body = json.loads(request.body or b"{}")
            problems = check_model(model, body)
            if problems:
                raise ApiFailure("InvalidArgument", "unmarshal into {0}Request: proto: {1}".format(
                    service_method.replace("Service/", "Service."), "; ".join(problems)), "CONNECT-unmarshal")
            method = getattr(self, "v2_" + _snake(service_method.rsplit("/", 1)[1]).lstrip("_"))
            with self._state_lock:
                return Reply.json(method(body))
        except ValueError:
            return self._failure(True, ApiFailure("InvalidArgument", "the body is not JSON", "CONNECT-json"))
        except ApiFailure as failure:
            return self._failure(True, failure)

    # ------------------------------------------------------------------------------ v1 dispatch

    def _v1(self, function, message: Optional[str] = None):
        def handler(request: Request) -> Reply:
            try:
                self._authenticate(request)
                org = self._org_of(request)
                body: Any = {}
                if message is not None:
                    try:
                        body = json.loads(request.body or b"{}")
                    except ValueError:
                        raise ApiFailure("InvalidArgument", "the body is not JSON", "GATEWAY-json") from None
                    problems = check_v1(message, body)
                    if problems:
                        raise ApiFailure("InvalidArgument", "; ".join(problems), "GATEWAY-proto")
                with self._state_lock:
                    return Reply.json(function(org, request.params, body))
            except ApiFailure as failure:
                return self._failure(False, failure)
        return handler

    # ------------------------------------------------------------------------------ the model

    def _next_id(self) -> str:
        self._ids += 1 + secrets.randbelow(1000)
        return str(self._ids)

    def _project(self, project_id: str, org: Optional[str] = None) -> dict:
        project = self.projects.get(project_id)
        if project is None or (org and project["org_id"] != org):
            raise ApiFailure("NotFound", "Errors.Project.NotFound", "PROJECT-3M9sd")
        return project

    def _paginate(self, items: list, query: Optional[dict], asc_key: str = "created") -> tuple[list, int, int]:
        query = query or {}
        offset = _uint(query.get("offset"), "offset")
        limit = _uint(query.get("limit"), "limit") or DEFAULT_LIMIT
        if limit > MAX_LIMIT:
            raise ApiFailure("InvalidArgument", "Errors.Query.LimitExceeded", "QUERY-4M9fs")
        ordered = sorted(items, key=lambda item: item[asc_key], reverse=not query.get("asc", False))
        return ordered[offset:offset + limit], len(items), limit

    def create_project(self, org: str, name: str) -> dict:
        if not name or len(name) > 200:
            raise ApiFailure("InvalidArgument", "Errors.Project.Invalid", "PROJECT-IOVCC")
        if any(project["name"] == name and project["org_id"] == org for project in self.projects.values()):
            raise ApiFailure("AlreadyExists", "Errors.Project.AlreadyExists", "PROJECT-w9fgk")
        moment = rfc3339()
        project = {"id": self._next_id(), "name": name, "org_id": org, "state": "active", "created": moment,
                   "changed": moment, "sequence": 1}
        self.projects[project["id"]] = project
        return project

    def _metadata_of(self, xml_b64: Optional[str], url: Optional[str]) -> bytes:
        if url:
            # ZITADEL would fetch it; the emulator has no network, and the module never sends it.
            raise ApiFailure("InvalidArgument", "Errors.Project.App.SAMLMetadataMissing", "SAML-wmqlo1",
                             "the emulator does not fetch metadataUrl")
        if not xml_b64:
            raise ApiFailure("InvalidArgument", "Errors.Project.App.SAMLMetadataMissing", "SAML-podix9")
        data = base64.b64decode(xml_b64 + "=" * (-len(xml_b64) % 4))
        if len(data) > METADATA_MAX:
            raise ApiFailure("InvalidArgument", "invalid AddSAMLAppRequest.MetadataXml: value length must be at most "
                                                "500000 bytes", "PROTO-validate")
        return data

    def _entity_taken(self, entity_id: str, except_app: Optional[str] = None) -> bool:
        return any(app["entity_id"] == entity_id and app["id"] != except_app for app in self.apps.values())

    def create_saml_app(self, org: str, project_id: str, name: str, xml_b64: Optional[str], url: Optional[str]) -> dict:
        if not project_id:
            raise ApiFailure("InvalidArgument", "Errors.Project.App.Invalid", "PROJECT-35Fn0")
        try:
            self._project(project_id, org)
        except ApiFailure:
            raise ApiFailure("FailedPrecondition", "Errors.Project.NotFound", "PROJECT-3p9ss") from None
        if not name or len(name) > 200:
            raise ApiFailure("InvalidArgument", "Errors.Project.App.Invalid", "PROJECT-1n9df")
        data = self._metadata_of(xml_b64, url)
        facts = parse_sp_metadata(data)
        if any(app["name"] == name and app["project_id"] == project_id for app in self.apps.values()):
            raise ApiFailure("AlreadyExists", "Errors.Project.App.AlreadyExists", "EVENT-3ms9d")
        if self._entity_taken(facts["entity_id"]):
            raise ApiFailure("AlreadyExists", "Errors.Project.App.SAMLEntityIDAlreadyExists", "EVENT-Fn2Ax")
        moment = rfc3339()
        app = {"id": self._next_id(), "project_id": project_id, "name": name, "state": "active", "kind": "saml",
               "created": moment, "changed": moment, "sequence": 1, "metadata_xml": data, "metadata_url": "", **facts}
        self.apps[app["id"]] = app
        return app

    def update_saml_app(self, org: str, project_id: str, app_id: str, xml_b64: Optional[str], url: Optional[str]) -> dict:
        app = self.apps.get(app_id)
        if app is None or app["project_id"] != project_id or self.projects[project_id]["org_id"] != org:
            raise ApiFailure("NotFound", "Errors.Project.App.NotExisting", "COMMAND-2n8uU")
        if app["kind"] != "saml":
            raise ApiFailure("InvalidArgument", "Errors.Project.App.IsNotSAML", "COMMAND-GBr35")
        data = self._metadata_of(xml_b64, url)
        facts = parse_sp_metadata(data)
        if data == app["metadata_xml"] and facts["entity_id"] == app["entity_id"]:
            raise ApiFailure("FailedPrecondition", "Errors.NoChangesFound", "COMMAND-1m88i")
        if self._entity_taken(facts["entity_id"], except_app=app_id):
            raise ApiFailure("AlreadyExists", "Errors.Project.App.SAMLEntityIDAlreadyExists", "EVENT-Fn2Ax")
        app.update(facts, metadata_xml=data, metadata_url="", changed=rfc3339(), sequence=app["sequence"] + 1)
        return app

    def remove_app(self, org: str, project_id: str, app_id: str) -> None:
        app = self.apps.get(app_id)
        if app is None or app["project_id"] != project_id or self.projects[project_id]["org_id"] != org:
            raise ApiFailure("NotFound", "Errors.Project.App.NotExisting", "COMMAND-0po9s")
        del self.apps[app_id]

    # ------------------------------------------------------------------------------ v2 methods

    def _v2_app(self, app: dict) -> dict:
        data = {"applicationId": app["id"], "creationDate": app["created"], "changeDate": app["changed"],
                "state": "APPLICATION_STATE_ACTIVE", "name": app["name"], "projectId": app["project_id"]}
        config: dict[str, Any] = {"metadataXml": base64.b64encode(app["metadata_xml"]).decode("ascii"),
                                  "loginVersion": {"loginV1": {}}}
        if app["metadata_url"]:
            config["metadataUrl"] = app["metadata_url"]
        data["samlConfiguration" if app["kind"] == "saml" else app["kind"] + "Configuration"] = \
            config if app["kind"] == "saml" else {}
        return data

    def _v2_project(self, project: dict) -> dict:
        return {"projectId": project["id"], "organizationId": project["org_id"], "creationDate": project["created"],
                "changeDate": project["changed"], "name": project["name"], "state": "PROJECT_STATE_ACTIVE",
                "privateLabelingSetting": "PRIVATE_LABELING_SETTING_UNSPECIFIED"}

    @staticmethod
    def _v2_page(total: int, limit: int) -> dict:
        return {"totalResult": str(total), "appliedLimit": str(limit)}

    def v2_create_application(self, body: dict) -> dict:
        saml = body.get("samlConfiguration")
        if saml is None:
            raise ApiFailure("InvalidArgument", "the emulator only creates SAML applications", "EMU-type")
        if saml.get("metadataXml") and saml.get("metadataUrl"):
            raise ApiFailure("InvalidArgument", "metadataXml and metadataUrl are one of a oneof: give one", "PROTO-oneof")
        project_id = body.get("projectId") or body.get("project_id") or ""
        project = self.projects.get(project_id)
        app = self.create_saml_app(project["org_id"] if project else self.org["id"], project_id,
                                   body.get("name") or "", saml.get("metadataXml"), saml.get("metadataUrl"))
        return {"applicationId": app["id"], "creationDate": app["created"], "samlConfiguration": {}}

    def v2_update_application(self, body: dict) -> dict:
        saml = body.get("samlConfiguration")
        if saml is None:
            raise ApiFailure("InvalidArgument", "the emulator only updates SAML configurations", "EMU-type")
        project_id = body.get("projectId") or ""
        self._project(project_id)
        app = self.update_saml_app(self.projects[project_id]["org_id"], project_id, body.get("applicationId") or "",
                                   saml.get("metadataXml"), saml.get("metadataUrl"))
        return {"changeDate": app["changed"]}

    def v2_delete_application(self, body: dict) -> dict:
        project_id = body.get("projectId") or ""
        self._project(project_id)
        self.remove_app(self.projects[project_id]["org_id"], project_id, body.get("applicationId") or "")
        return {"deletionDate": rfc3339()}

    def v2_get_application(self, body: dict) -> dict:
        app = self.apps.get(body.get("applicationId") or "")
        if app is None:
            raise ApiFailure("NotFound", "Errors.Project.App.NotExisting", "APP-4m9sd")
        return {"application": self._v2_app(app)}

    def v2_list_applications(self, body: dict) -> dict:
        items = list(self.apps.values())
        for item in body.get("filters") or []:
            if "projectIdFilter" in item:
                items = [app for app in items if app["project_id"] == item["projectIdFilter"].get("projectId")]
            if "nameFilter" in item:
                wanted = item["nameFilter"]
                items = [app for app in items if _text_match(app["name"], wanted.get("name") or "", wanted.get("method"))]
            if "entityIdFilter" in item:
                items = [app for app in items if app["entity_id"] == item["entityIdFilter"].get("entityId")]
        page, total, limit = self._paginate(items, body.get("pagination"))
        return {"applications": [self._v2_app(app) for app in page], "pagination": self._v2_page(total, limit)}

    def v2_create_project(self, body: dict) -> dict:
        org = body.get("organizationId") or ""
        if not org:
            raise ApiFailure("InvalidArgument", "invalid CreateProjectRequest.OrganizationId: value length must be at "
                                                "least 1 runes", "PROTO-validate")
        if org != self.org["id"]:
            raise ApiFailure("NotFound", "Errors.Org.NotFound", "ORG-4m9sd")
        project = self.create_project(org, body.get("name") or "")
        return {"projectId": project["id"], "creationDate": project["created"]}

    def v2_get_project(self, body: dict) -> dict:
        return {"project": self._v2_project(self._project(body.get("projectId") or ""))}

    def v2_list_projects(self, body: dict) -> dict:
        items = list(self.projects.values())
        for item in body.get("filters") or []:
            if "projectNameFilter" in item:
                wanted = item["projectNameFilter"]
                items = [project for project in items
                         if _text_match(project["name"], wanted.get("projectName") or "", wanted.get("method"))]
            if "organizationIdFilter" in item:
                items = [project for project in items
                         if project["org_id"] == item["organizationIdFilter"].get("organizationId")]
            if "inProjectIdsFilter" in item:
                ids = item["inProjectIdsFilter"].get("ids") or []
                items = [project for project in items if project["id"] in ids]
        page, total, limit = self._paginate(items, body.get("pagination"))
        return {"projects": [self._v2_project(project) for project in page], "pagination": self._v2_page(total, limit)}

    def v2_get_domain_settings(self, body: dict) -> dict:
        ctx = body.get("ctx") or {}
        if ctx.get("orgId") and ctx["orgId"] != self.org["id"]:
            raise ApiFailure("NotFound", "Errors.Org.NotFound", "ORG-4m9sd")
        settings: dict[str, Any] = {"resourceOwnerType": "RESOURCE_OWNER_TYPE_INSTANCE"}
        if self.login_name_includes_domain:  # protojson leaves out false booleans
            settings["loginNameIncludesDomain"] = True
        return {"details": {"sequence": "1", "changeDate": rfc3339(), "resourceOwner": self.org["id"]},
                "settings": settings}

    # ------------------------------------------------------------------------------ v1 methods

    def _details(self, item: dict) -> dict:
        return {"sequence": str(item.get("sequence", 1)), "creationDate": item.get("created"),
                "changeDate": item.get("changed"), "resourceOwner": item.get("org_id") or self.org["id"]}

    def _v1_project(self, project: dict) -> dict:
        return {"id": project["id"], "details": self._details(project), "name": project["name"],
                "state": "PROJECT_STATE_ACTIVE", "projectRoleAssertion": False, "projectRoleCheck": False,
                "hasProjectCheck": False, "privateLabelingSetting": "PRIVATE_LABELING_SETTING_UNSPECIFIED"}

    def _v1_app(self, app: dict) -> dict:
        data = {"id": app["id"], "details": self._details(app), "state": "APP_STATE_ACTIVE", "name": app["name"]}
        if app["kind"] == "saml":
            config = {"metadataXml": base64.b64encode(app["metadata_xml"]).decode("ascii"),
                      "loginVersion": {"loginV1": {}}}
            if app["metadata_url"]:
                config["metadataUrl"] = app["metadata_url"]
            data["samlConfig"] = config
        else:
            data[app["kind"] + "Config"] = {}
        return data

    def _v1_list(self, items: list, body: dict, render) -> dict:
        page, total, _limit = self._paginate(items, body.get("query"))
        return {"details": {"totalResult": str(total), "processedSequence": "1", "viewTimestamp": rfc3339()},
                "result": [render(item) for item in page]}

    def v1_list_projects(self, org: str, _params: dict, body: dict) -> dict:
        items = [project for project in self.projects.values() if project["org_id"] == org]
        for query in body.get("queries") or []:
            if "nameQuery" in query:
                wanted = query["nameQuery"]
                items = [project for project in items
                         if _text_match(project["name"], wanted.get("name") or "", wanted.get("method"))]
        return self._v1_list(items, body, self._v1_project)

    def v1_add_project(self, org: str, _params: dict, body: dict) -> dict:
        project = self.create_project(org, body.get("name") or "")
        return {"id": project["id"], "details": self._details(project)}

    def v1_get_project(self, org: str, params: dict, _body: dict) -> dict:
        return {"project": self._v1_project(self._project(params["project_id"], org))}

    def v1_list_apps(self, org: str, params: dict, body: dict) -> dict:
        self._project(params["project_id"], org)
        items = [app for app in self.apps.values() if app["project_id"] == params["project_id"]]
        for query in body.get("queries") or []:
            if "nameQuery" in query:
                wanted = query["nameQuery"]
                items = [app for app in items if _text_match(app["name"], wanted.get("name") or "", wanted.get("method"))]
        return self._v1_list(items, body, self._v1_app)

    def v1_add_saml_app(self, org: str, params: dict, body: dict) -> dict:
        if body.get("metadataXml") and body.get("metadataUrl"):
            raise ApiFailure("InvalidArgument", "metadataXml and metadataUrl are one of a oneof: give one", "PROTO-oneof")
        app = self.create_saml_app(org, params["project_id"], body.get("name") or "", body.get("metadataXml"),
                                   body.get("metadataUrl"))
        return {"appId": app["id"], "details": self._details(app)}

    def v1_update_saml_config(self, org: str, params: dict, body: dict) -> dict:
        self._project(params["project_id"], org)
        app = self.update_saml_app(org, params["project_id"], params["app_id"], body.get("metadataXml"),
                                   body.get("metadataUrl"))
        return {"details": self._details(app)}

    def v1_get_app(self, org: str, params: dict, _body: dict) -> dict:
        self._project(params["project_id"], org)
        app = self.apps.get(params["app_id"])
        if app is None or app["project_id"] != params["project_id"]:
            raise ApiFailure("NotFound", "Errors.Project.App.NotExisting", "APP-4m9sd")
        return {"app": self._v1_app(app)}

    def v1_remove_app(self, org: str, params: dict, _body: dict) -> dict:
        self._project(params["project_id"], org)
        self.remove_app(org, params["project_id"], params["app_id"])
        return {"details": {"sequence": "1", "changeDate": rfc3339(), "resourceOwner": org}}

    def v1_domain_policy(self, org: str, _params: dict, _body: dict) -> dict:
        return {"policy": {"details": {"sequence": "1", "resourceOwner": org},
                           "userLoginMustBeDomain": self.login_name_includes_domain, "isDefault": True,
                           "validateOrgDomains": True, "smtpSenderAddressMatchesInstanceDomain": True}}

    # ------------------------------------------------------------------------------ token endpoint

    def _token(self, request: Request) -> Reply:
        form = request.form
        if form.get("grant_type") != JWT_BEARER:
            return self._oauth_error("unsupported_grant_type", "the emulator only supports the JWT profile grant")
        try:
            claims = self._verify_assertion(form.get("assertion") or "")
        except ValueError as exc:
            return self._oauth_error("invalid_grant", str(exc))
        scopes = (form.get("scope") or "").split()
        token = secrets.token_urlsafe(32)
        with self._state_lock:
            self.tokens[token] = {"subject": claims["sub"], "expires": time.time() + 43200,
                                  "api_audience": API_AUDIENCE_SCOPE in scopes}
            self.tokens_issued += 1
        return Reply.json({"access_token": token, "token_type": "Bearer", "expires_in": 43199},
                          headers={"Cache-Control": "no-store"})

    @staticmethod
    def _oauth_error(error: str, description: str) -> Reply:
        return Reply.json({"error": error, "error_description": description}, 400)

    def _verify_assertion(self, assertion: str) -> dict:
        parts = assertion.split(".")
        if len(parts) != 3:
            raise ValueError("assertion is not a JWT")
        try:
            header, claims = (json.loads(_b64url_decode(part)) for part in parts[:2])
            signature = _b64url_decode(parts[2])
        except (ValueError, binascii.Error):
            raise ValueError("assertion is not a JWT") from None
        if header.get("alg") != "RS256":
            raise ValueError("unsupported signing algorithm {0!r}".format(header.get("alg")))
        if header.get("kid") not in (None, self.service_key["keyId"]):
            raise ValueError("key {0} not found".format(header.get("kid")))
        try:
            self.service_public.verify(signature, (parts[0] + "." + parts[1]).encode("ascii"), padding.PKCS1v15(),
                                       hashes.SHA256())
        except InvalidSignature:
            raise ValueError("signature invalid") from None
        if claims.get("iss") != self.service_key["userId"] or claims.get("sub") != self.service_key["userId"]:
            raise ValueError("iss and sub must be the service user's id")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.url not in audiences and self.url + "/" not in audiences:
            raise ValueError("audience is not valid: expected {0}".format(self.url))
        moment = time.time()
        if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] < moment:
            raise ValueError("assertion expired")
        if isinstance(claims.get("iat"), (int, float)) and claims["iat"] > moment + 60:
            raise ValueError("assertion issued in the future")
        return claims

    # ------------------------------------------------------------------------------ SAML IdP endpoints

    def _metadata(self, request: Request) -> Reply:
        prefix = request.path.rsplit("/", 1)[0]
        return Reply.text(self.idp_metadata(self.url + prefix), content_type="application/samlmetadata+xml")

    def _certificate(self, request: Request) -> Reply:
        return Reply(200, self.saml_cert.public_bytes(serialization.Encoding.PEM),
                     {"Content-Disposition": "attachment; filename=idp.crt"},
                     content_type=request.header("Content-Type") or "")

    def idp_metadata(self, base: str) -> bytes:
        """What zitadel/saml's metadata handler writes: an IDPSSODescriptor (valid 5 minutes, persistent NameID,
        Redirect and POST SSO/SLO, empty basic attributes) and an AttributeAuthorityDescriptor; signed."""
        cert = base64.b64encode(self.saml_cert.public_bytes(serialization.Encoding.DER)).decode("ascii")
        entity_id = base + "/metadata"
        valid = (now() + datetime.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        key = ('<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:KeyName>{0} IDP signing</ds:KeyName><ds:X509Data>'
               '<ds:X509Certificate>{1}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>').format(
                   entity_id, cert)
        attributes = "".join('<saml:Attribute Name="{0}" NameFormat="{1}"><saml:AttributeValue></saml:AttributeValue>'
                             '</saml:Attribute>'.format(name, BASIC)
                             for name in ("Email", "SurName", "FirstName", "FullName", "UserName", "UserID"))
        profile = "<md:AttributeProfile>urn:oasis:names:tc:SAML:2.0:profiles:attribute:basic</md:AttributeProfile>"
        document = (
            '<md:EntityDescriptor xmlns:md="{md}" xmlns:ds="{ds}" xmlns:saml="{saml}" entityID="{entity}" ID="_{doc}">'
            '<ds:Signature Id="placeholder"></ds:Signature>'
            '<md:IDPSSODescriptor ID="_{role}" validUntil="{valid}" WantAuthnRequestsSigned="false" '
            'protocolSupportEnumeration="{protocol}">{key}'
            '<md:SingleLogoutService Binding="{redirect}" Location="{base}/SLO"/>'
            '<md:SingleLogoutService Binding="{post}" Location="{base}/SLO"/>'
            '<md:NameIDFormat>{persistent}</md:NameIDFormat>'
            '<md:SingleSignOnService Binding="{redirect}" Location="{base}/SSO"/>'
            '<md:SingleSignOnService Binding="{post}" Location="{base}/SSO"/>'
            '{profile}{attributes}</md:IDPSSODescriptor>'
            '<md:AttributeAuthorityDescriptor ID="_{aa}" validUntil="{valid}" protocolSupportEnumeration="{protocol}">'
            '{key}<md:AttributeService Binding="{soap}" Location="{base}/attribute"/>'
            '<md:NameIDFormat>{persistent}</md:NameIDFormat>{profile}{attributes}'
            '</md:AttributeAuthorityDescriptor></md:EntityDescriptor>'
        ).format(md=MD, ds=DS, saml=SAML, entity=entity_id, doc=secrets.token_hex(10), role=secrets.token_hex(10),
                 aa=secrets.token_hex(10), valid=valid, protocol=PROTOCOL, key=key, redirect=REDIRECT, post=POST,
                 soap=SOAP, base=base, persistent=PERSISTENT, profile=profile, attributes=attributes)
        return self._sign(document)

    def _sign(self, document: str) -> bytes:
        from lxml import etree  # pylint: disable=import-outside-toplevel
        from signxml import XMLSigner  # pylint: disable=import-outside-toplevel
        from signxml.algorithms import DigestAlgorithm, SignatureMethod  # pylint: disable=import-outside-toplevel

        root = etree.fromstring(document.encode("utf-8"))
        signer = XMLSigner(signature_algorithm=SignatureMethod.RSA_SHA256, digest_algorithm=DigestAlgorithm.SHA256,
                           c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#")
        signed = signer.sign(root, key=self.metadata_key, cert=[self.metadata_cert], reference_uri="#" + root.get("ID"))
        return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")

    # ------------------------------------------------------------------------------ test-only

    def _test_settings(self, request: Request) -> Reply:
        if request.header(CONTROL_HEADER) != self.control_token:
            return Reply.json({"message": "the control token is missing or wrong"}, 403)
        data = request.json or {}
        with self._state_lock:
            self.login_name_includes_domain = bool(data.get("login_name_includes_domain", False))
        return Reply(204)


def main(argv: Optional[list[str]] = None) -> int:
    def factory(args):
        return ZitadelEmulator(args.dir, host=args.host, port=args.port, http_port=args.http_port,
                               access_log=os.path.join(args.dir, "access.log"))
    return test_server.main(factory, argv, script=__file__, description="ZITADEL API emulator for tests",
                            name="ZITADEL emulator")


if __name__ == "__main__":
    sys.exit(main())
