# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An emulator of the Cloudflare Zero Trust Access API (applications and reusable policies) for tests.

Built on test_server.py (next to it: copy both). Standard library, ``cryptography``, and ``openapi-core`` +
``openapi-schema-validator`` for the spec validation (without them it runs unvalidated and says so):

    python cloudflare_emulator.py --dir STATE [--spec FILE] [--background]
    python cloudflare_emulator.py --stop STATE

What it follows, from the Cloudflare API schema (cloudflare/api-schemas, 2024-08) and the official SDKs:
- Paths under ``/client/v4``: ``/accounts/{account_id}/access/apps`` (GET list, POST), ``.../apps/{app_id}``
  (GET, PUT replaces, DELETE answers 202 ``{"id"}``), ``/accounts/{account_id}/access/policies`` (GET list).
- The envelope ``{success, errors[{code, message}], messages, result[, result_info]}`` on every answer.
- Auth: ``Authorization: Bearer <token>`` only. No header: 400 code 9106; a malformed header: 400 code 6003
  (error_chain 6111); a wrong token, or an account the token is not for: 403 code 10000 "Authentication error".
- Paging: ``page`` (from 1) and ``per_page`` (default 25, at most 1000); ``result_info`` {page, per_page, count,
  total_count} as the 2024-08 schema has it (no total_pages, so a client must not need it).
  Filters ``name``, ``exact=true``, ``search``, ``aud``, ``domain`` (the list parameters of the current API).
- Uniqueness: none on names. Cloudflare accepts two applications with the same name, so a client must find
  before it creates and must not rely on a refusal. Policy precedences must be unique within an application.
- A SAML SaaS application gets ``idp_entity_id`` (the team URL: here the emulator's own URL), ``sso_endpoint``
  (``<team>/cdn-cgi/access/sso/saml/<64 hex>``) and ``public_key`` (the signing certificate, PEM). The IdP
  metadata is served, unauthenticated and unsigned (as Cloudflare serves it), at ``<sso_endpoint>/saml-metadata``.
  The signing key (RSA 2048) is made once and kept in the state directory: a restart serves the same certificate.
- Three reusable policies are there from the start: "Employees", "Administrators" and, twice, "Contractors".

Spec validation: when the spec file exists (``--spec``, else $CLOUDFLARE_EMULATOR_SPEC, else
$IDFED_SHARED_DIR/specs/, else ../shared/specs/ beside the checkout, else /work/shared/specs/), every request
and every answer of the API routes is checked against it: with openapi-core (operation, path parameters,
body against the schema), and strictly with the schema made closed (allOf merged, no property the schema does
not name, readOnly fields refused in requests), because the schema's open objects and anyOf branches would
otherwise accept any body. A request that fails is answered 400 (code 12130, the message names the field) and
recorded in ``state()["spec_violations"]``; an answer that fails is turned into a 500 and recorded too.
Errata applied to the 2024-08 schema (each checked against cloudflare-go and cloudflare-python):
``saas_app.custom_attributes`` is a list of attribute objects (the schema says one object), and the operations'
``security`` (API key only) is dropped, bearer tokens being checked by the emulator itself.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import json
import os
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

import test_server
from test_server import DAY, Reply, Request, TestServer, keypair, make_name, now

API_PREFIX = "/client/v4"
SPEC_NAME = "cloudflare-openapi-2024-08.json"
SPEC_ENV = "CLOUDFLARE_EMULATOR_SPEC"
DEFAULT_SPEC = "/work/shared/specs/" + SPEC_NAME
ACCOUNT_ID = "023e105f4ecef8ad9ca31a8372d0c353"
SPEC_PATHS = ("/accounts/{account_id}/access/apps", "/accounts/{account_id}/access/apps/{app_id}",
              "/accounts/{account_id}/access/policies")
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
POST_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
REDIRECT_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
NAME_ID = {"email": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
           "id": "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"}
SAML_WRITABLE = ("auth_type", "sp_entity_id", "consumer_service_url", "name_id_format", "custom_attributes",
                 "default_relay_state", "name_id_transform_jsonata", "saml_attribute_transform_jsonata")
APP_DEFAULTS = {"allowed_idps": [], "app_launcher_visible": True, "auto_redirect_to_identity": False, "tags": [],
                "custom_pages": []}
SEED_POLICIES = (("Employees", "allow", [{"email_domain": {"domain": "example.com"}}]),
                 ("Administrators", "allow", [{"email": {"email": "admin@example.com"}}]),
                 ("Contractors", "allow", [{"email_domain": {"domain": "contractor.example"}}]),
                 ("Contractors", "allow", [{"email_domain": {"domain": "vendor.example"}}]))
AUTH_ERROR = (10000, "Authentication error")


def timestamp() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ------------------------------------------------------------------------------------ spec validation

def locate_spec(explicit: str | None = None) -> Path | None:
    """The spec file: explicit, $CLOUDFLARE_EMULATOR_SPEC, $IDFED_SHARED_DIR/specs, ../shared/specs beside any
    parent, /work/shared/specs. None when none exists."""
    candidates = [explicit, os.environ.get(SPEC_ENV)]
    if os.environ.get("IDFED_SHARED_DIR"):
        candidates.append(os.path.join(os.environ["IDFED_SHARED_DIR"], "specs", SPEC_NAME))
    candidates.extend(str(parent.parent / "shared" / "specs" / SPEC_NAME) for parent in Path(__file__).resolve().parents)
    candidates.append(DEFAULT_SPEC)
    for candidate in candidates:
        if candidate and os.path.isfile(candidate):
            return Path(candidate)
    return None


def apply_errata(spec: dict) -> list[str]:
    """Fix what the 2024-08 schema gets wrong for the calls emulated; returns what was changed."""
    changed = []
    saml = spec["components"]["schemas"]["access_saml_saas_app"]["properties"]
    if saml.get("custom_attributes", {}).get("type") == "object":
        saml["custom_attributes"] = {"type": "array", "items": saml["custom_attributes"]}
        changed.append("access_saml_saas_app.custom_attributes is a list of attribute objects (cloudflare-go "
                       "[]SAMLAttributeConfig), not one object")
    for item in spec["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict):
                operation.pop("security", None)
    spec.pop("security", None)
    changed.append("operation security (API key only) dropped: the emulator checks bearer tokens itself")
    return changed


class Closer:
    """Makes a schema closed: $refs resolved, allOf merged into one object, additionalProperties: false wherever
    the schema names properties and says nothing about others."""

    def __init__(self, components: dict):
        self.components = components
        self._memo: dict[str, Any] = {}

    def resolve(self, schema: Any) -> Any:
        while isinstance(schema, dict) and "$ref" in schema:
            schema = self.components[schema["$ref"].rsplit("/", 1)[1]]
        return schema

    def close(self, schema: Any) -> Any:
        if isinstance(schema, dict) and "$ref" in schema:
            name = schema["$ref"]
            if name not in self._memo:
                self._memo[name] = {}  # a cycle sees an open schema rather than recursing for ever
                self._memo[name] = self.close(self.resolve(schema))
            return self._memo[name]
        if not isinstance(schema, dict):
            return schema
        if "allOf" in schema:
            return self._merge([self.close(part) for part in schema["allOf"]] +
                               [self.close({k: v for k, v in schema.items() if k != "allOf"})])
        structural = ("properties", "items", "anyOf", "oneOf", "additionalProperties", "example")
        closed = {key: value for key, value in schema.items() if key not in structural}
        for key in ("anyOf", "oneOf"):
            if key in schema:
                closed[key] = [self.close(part) for part in schema[key]]
        if "items" in schema:
            closed["items"] = self.close(schema["items"])
        if "properties" in schema:
            closed["properties"] = {name: self.close(value) for name, value in schema["properties"].items()}
        if isinstance(schema.get("additionalProperties"), dict):
            closed["additionalProperties"] = self.close(schema["additionalProperties"])
        elif "additionalProperties" in schema:
            closed["additionalProperties"] = schema["additionalProperties"]
        elif "properties" in schema:
            closed["additionalProperties"] = False
        return closed

    @staticmethod
    def _merge(parts: list[dict]) -> dict:
        meaningful = [part for part in parts if set(part) - {"description", "title", "example", "type"} or
                      part.get("type") not in (None, "object")]
        if any(part.get("type") not in (None, "object") or "anyOf" in part or "oneOf" in part for part in meaningful):
            return {"allOf": meaningful}
        merged: dict[str, Any] = {"type": "object", "properties": {}}
        required: list[str] = []
        for part in meaningful:
            for name, value in part.get("properties", {}).items():
                have = merged["properties"].get(name)
                merged["properties"][name] = value if have is None or have == value else {"allOf": [have, value]}
            required.extend(item for item in part.get("required", []) if item not in required)
            for key in ("nullable", "readOnly", "description", "title"):
                if key in part:
                    merged[key] = part[key]
        if required:
            merged["required"] = required
        if merged["properties"]:
            merged["additionalProperties"] = False
        return merged


class SpecValidator:
    """Validates the emulated calls against the Cloudflare OpenAPI document (see the module docstring)."""

    def __init__(self, path: str | None = None):
        self.path = locate_spec(path)
        self.errata: list[str] = []
        self.enabled = False
        self.reason = ""
        if self.path is None:
            self.reason = "no spec file ({0} not found): requests and answers are NOT validated".format(SPEC_NAME)
            return
        try:
            from openapi_core import Config, OpenAPI  # pylint: disable=import-outside-toplevel
            from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator  # pylint: disable=import-outside-toplevel
        except ImportError as exc:
            self.reason = "openapi-core is not installed ({0}): requests and answers are NOT validated".format(exc)
            return
        with open(self.path, encoding="utf-8") as handle:
            spec = json.load(handle)
        spec["paths"] = {path: spec["paths"][path] for path in SPEC_PATHS}
        self.errata = apply_errata(spec)
        self.spec = spec
        spec["servers"] = [{"url": "https://api.cloudflare.com/client/v4"}]
        self.openapi = OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))
        self.closer = Closer(spec["components"]["schemas"])
        self._write, self._read = OAS30WriteValidator, OAS30ReadValidator
        self.enabled = True
        self.reason = "requests and answers validated against {0} (openapi-core and closed schemas)".format(self.path)

    def _operation(self, template: str, method: str) -> dict:
        return self.spec["paths"][template][method.lower()]

    def check_request(self, template: str, request: Request) -> list[str]:
        if not self.enabled:
            return []
        from openapi_core.testing import MockRequest  # pylint: disable=import-outside-toplevel

        problems = []
        mock = MockRequest("https://api.cloudflare.com", request.method.lower(), request.path,
                           args={key: values[-1] for key, values in request.query.items()},
                           data=request.body or None, content_type=(request.header("Content-Type") or "application/json")
                           .split(";")[0])
        try:
            self.openapi.validate_request(mock)
        except Exception as exc:  # pylint: disable=broad-except  # openapi-core raises several kinds
            problems.append(_describe(exc))
        body = self._operation(template, request.method).get("requestBody")
        if body is not None:
            schema = body["content"]["application/json"]["schema"]
            problems.extend(self._closed_errors(schema, request.json, self._write, "request body"))
        return problems

    def check_response(self, template: str, method: str, status: int, data: Any) -> list[str]:
        if not self.enabled:
            return []
        responses = self._operation(template, method)["responses"]
        spec = responses.get(str(status)) or responses.get("{0}XX".format(str(status)[0]))
        if spec is None:
            return ["{0} {1} answered {2}, a status the spec does not list ({3})".format(
                method, template, status, ", ".join(sorted(responses)))]
        schema = spec["content"]["application/json"]["schema"]
        return self._closed_errors(schema, data, self._read, "answer {0}".format(status))

    def _closed_errors(self, schema: dict, data: Any, validator_class, what: str) -> list[str]:
        closed = self.closer.close(schema)
        validator = validator_class({**closed, "components": {"schemas": {}}})
        errors = sorted(validator.iter_errors(data), key=lambda error: list(error.absolute_path))
        return ["{0}: {1}".format(what, _best(error)) for error in errors[:5]]


def _best(error) -> str:
    """What an error means: for anyOf/oneOf, the causes in the branch that came closest (fewest errors), so a
    SaaS body with an unknown field is reported as that field, not as eight branches that do not match."""
    if not error.context:
        where = "/".join(str(part) for part in error.absolute_path) or "(root)"
        return "{0}: {1}".format(where, error.message[:300])
    branches: dict[Any, list] = {}
    for cause in error.context:
        branches.setdefault(cause.relative_schema_path[0], []).append(cause)
    closest = min(branches.values(), key=len)
    return "; ".join(_best(cause) for cause in closest[:3])


def _describe(exc: Exception) -> str:
    causes = [str(item)[:300] for item in getattr(exc, "schema_errors", ())]
    cause = exc.__cause__
    while cause is not None and not causes:
        causes = [str(item)[:300] for item in getattr(cause, "schema_errors", ())] or [str(cause)[:300]]
        cause = cause.__cause__
    return "{0}{1}".format(str(exc)[:200], ": " + "; ".join(causes) if causes else "")


# ------------------------------------------------------------------------------------------ server

def _build_signing(key):
    start = now()
    return (x509.CertificateBuilder()
            .subject_name(make_name("Cloudflare Access emulator")).issuer_name(make_name("Cloudflare Access emulator"))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start - DAY).not_valid_after(start + 3 * 365 * DAY)
            .sign(key, hashes.SHA256()))


class ApiProblem(Exception):
    def __init__(self, status: int, code: int, message: str, chain: list[dict] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.chain = status, code, message, chain


class CloudflareEmulator(TestServer):
    name = "Cloudflare Access emulator"

    def __init__(self, state: str, host: str = "127.0.0.1", port: int = 0, *, spec: str | None = None,
                 token: str | None = None, account_id: str = ACCOUNT_ID):
        os.makedirs(state, exist_ok=True)
        self.account_id = account_id
        self.token = token or "cf-emu-" + uuid.uuid4().hex + uuid.uuid4().hex[:8]
        self.validator = SpecValidator(spec)
        self._state_lock = threading.RLock()
        self.apps: dict[str, dict] = {}
        self.policies: dict[str, dict] = {}
        self.violations: list[dict] = []
        # False: the list call ignores name/exact/search (as an API older than those filters does), so a client
        # that trusts the filter instead of comparing names itself is caught.
        self.list_filters = True
        super().__init__(state, host=host, port=port, key_type="rsa", access_log=os.path.join(state, "access.log"))
        self.signing_key, self.signing_cert = keypair(state, "access-signing", _build_signing, min_days_left=60)
        self._seed()

    # ------------------------------------------------------------------------ state

    def _seed(self) -> None:
        with self._state_lock:
            self.apps.clear()
            self.policies.clear()
            self.violations.clear()
            for name, decision, include in SEED_POLICIES:
                policy_id = str(uuid.uuid4())
                self.policies[policy_id] = {"id": policy_id, "name": name, "decision": decision, "include": include,
                                            "exclude": [], "require": [], "created_at": timestamp(),
                                            "updated_at": timestamp(), "session_duration": "24h"}

    def reset(self) -> None:
        super().reset()
        self._seed()

    def state(self) -> Any:
        with self._state_lock:
            return {"account_id": self.account_id, "apps": copy.deepcopy(list(self.apps.values())),
                    "policies": copy.deepcopy(list(self.policies.values())),
                    "spec_violations": copy.deepcopy(self.violations), "spec": self.spec_info()}

    def spec_info(self) -> dict:
        return {"enabled": self.validator.enabled, "path": str(self.validator.path) if self.validator.path else None,
                "status": self.validator.reason, "errata": self.validator.errata}

    @property
    def api_url(self) -> str:
        return self.url + API_PREFIX

    def info(self) -> dict:
        return dict(super().info(), **{
            "api_url": self.api_url, "account_id": self.account_id, "api_token": self.token, "team_url": self.url,
            "signing_certificate": os.path.join(self.state_dir, "access-signing.pem"),
            "signing_fingerprint_sha256": self.signing_cert.fingerprint(hashes.SHA256()).hex(":").upper(),
            "spec": self.spec_info()})

    # ------------------------------------------------------------------------ envelope

    @staticmethod
    def envelope(result: Any, status: int = 200, result_info: dict | None = None) -> Reply:
        data = {"success": True, "errors": [], "messages": [], "result": result}
        if result_info is not None:
            data["result_info"] = result_info
        return Reply.json(data, status)

    @staticmethod
    def failure(status: int, code: int, message: str, chain: list[dict] | None = None,
                headers: dict | None = None) -> Reply:
        error: dict[str, Any] = {"code": code, "message": message}
        if chain:
            error["error_chain"] = chain
        return Reply.json({"success": False, "errors": [error], "messages": [], "result": None}, status, headers)

    def error_reply(self, status: int, message: str, headers: dict | None = None) -> Reply:
        code = {429: 971, 401: 10000, 403: 10000}.get(status, 10002 if status >= 500 else 1000)
        text = {971: "Please wait and consider throttling your request speed"}.get(code, message)
        return self.failure(status, code, text, headers=headers)

    def not_found(self, request: Request) -> Reply:
        return self.failure(404, 7000, "No route for that URI")

    # ------------------------------------------------------------------------ routes

    def setup_routes(self) -> None:
        apps = API_PREFIX + "/accounts/{account_id}/access/apps"
        self._api("GET", apps, SPEC_PATHS[0], self._list_apps)
        self._api("POST", apps, SPEC_PATHS[0], self._create_app)
        self._api("GET", apps + "/{app_id}", SPEC_PATHS[1], self._get_app)
        self._api("PUT", apps + "/{app_id}", SPEC_PATHS[1], self._update_app)
        self._api("DELETE", apps + "/{app_id}", SPEC_PATHS[1], self._delete_app)
        self._api("GET", API_PREFIX + "/accounts/{account_id}/access/policies", SPEC_PATHS[2], self._list_policies)
        self.add_route("GET", "/cdn-cgi/access/sso/saml/{sso_id}/saml-metadata", self._metadata)
        self.add_route("GET", "/cdn-cgi/access/sso/saml/{sso_id}", self._sso)
        self.add_route("POST", "/cdn-cgi/access/sso/saml/{sso_id}", self._sso)

    def _api(self, method: str, pattern: str, template: str, handler) -> None:
        def wrapped(request: Request) -> Reply:
            try:
                self._authenticate(request)
                problems = self.validator.check_request(template, request)
                if problems:
                    self._violation("request", request, problems)
                    raise ApiProblem(400, 12130, "access.api.error.invalid_request: {0}".format("; ".join(problems)))
                reply = handler(request)
            except ApiProblem as problem:
                reply = self.failure(problem.status, problem.code, problem.message, problem.chain)
            problems = self.validator.check_response(template, method, reply.status, json.loads(reply.body))
            if problems:
                self._violation("answer", request, problems)
                return self.failure(500, 10002, "emulator answer violates the spec: {0}".format("; ".join(problems)))
            return reply
        self.add_route(method, pattern, wrapped)

    def _violation(self, kind: str, request: Request, problems: list[str]) -> None:
        with self._state_lock:
            self.violations.append({"kind": kind, "method": request.method, "path": request.path,
                                    "problems": problems})

    def _authenticate(self, request: Request) -> None:
        header = request.header("Authorization")
        if header is None and not request.header("X-Auth-Key"):
            raise ApiProblem(400, 9106, "Missing X-Auth-Key, X-Auth-Email or Authorization headers")
        if header is None:  # a global API key: not what this emulator accepts
            raise ApiProblem(403, *AUTH_ERROR)
        scheme, token = (header.split(" ", 1) + [""])[:2]
        if scheme != "Bearer" or not token.strip():
            raise ApiProblem(400, 6003, "Invalid request headers",
                             [{"code": 6111, "message": "Invalid format for Authorization header"}])
        if token.strip() != self.token or request.params.get("account_id") != self.account_id:
            raise ApiProblem(403, *AUTH_ERROR)

    # ------------------------------------------------------------------------ applications

    def _page(self, request: Request, items: list[dict]) -> Reply:
        try:
            page = int(request.arg("page", "1"))
            per_page = int(request.arg("per_page", "25"))
        except ValueError:
            raise ApiProblem(400, 12130, "access.api.error.invalid_request: page and per_page must be integers") from None
        if page < 1 or not 1 <= per_page <= 1000:
            raise ApiProblem(400, 12130, "access.api.error.invalid_request: page must be >= 1 and per_page 1 to 1000")
        chunk = items[(page - 1) * per_page:page * per_page]
        return self.envelope(chunk, 200, {"page": page, "per_page": per_page, "count": len(chunk),
                                          "total_count": len(items)})

    def _list_apps(self, request: Request) -> Reply:
        exact = (request.arg("exact") or "").lower() == "true"

        def matches(app: dict) -> bool:
            if not self.list_filters:
                return True
            for key in ("name", "domain", "aud"):
                wanted = request.arg(key)
                have = str(app.get(key) or "")
                if wanted is not None and not (have == wanted if exact else wanted.lower() in have.lower()):
                    return False
            search = request.arg("search")
            return search is None or search.lower() in (str(app.get("name", "")) + str(app.get("domain", ""))).lower()

        with self._state_lock:
            items = [self._shown(app) for app in self.apps.values() if matches(app)]
        return self._page(request, items)

    def _find(self, app_id: str) -> dict:
        app = self.apps.get(app_id)
        if app is None:
            raise ApiProblem(404, 12130, "access.api.error.not_found: application not found")
        return app

    def _get_app(self, request: Request) -> Reply:
        with self._state_lock:
            return self.envelope(self._shown(self._find(request.params["app_id"])))

    def _create_app(self, request: Request) -> Reply:
        body = self._body(request)
        with self._state_lock:
            app_id = str(uuid.uuid4())
            app = {"id": app_id, "aud": hashlib.sha256(app_id.encode()).hexdigest(), "created_at": timestamp()}
            self._apply(app, body, creating=True)
            self.apps[app_id] = app
            return self.envelope(self._shown(app), 201)

    def _update_app(self, request: Request) -> Reply:
        body = self._body(request)
        with self._state_lock:
            app = self._find(request.params["app_id"])
            if body.get("type", app["type"]) != app["type"]:
                raise ApiProblem(400, 12130, "access.api.error.invalid_request: the application type cannot change")
            self._apply(app, body, creating=False)
            return self.envelope(self._shown(app))

    def _delete_app(self, request: Request) -> Reply:
        with self._state_lock:
            app = self._find(request.params["app_id"])
            del self.apps[app["id"]]
        return self.envelope({"id": app["id"]}, 202)

    @staticmethod
    def _body(request: Request) -> dict:
        body = request.json
        if not isinstance(body, dict):
            raise ApiProblem(400, 12130, "access.api.error.invalid_request: the body is not a JSON object")
        return body

    def _apply(self, app: dict, body: dict, creating: bool) -> None:
        """POST and PUT: the body replaces the application's settings (defaults for what it leaves out)."""
        if body.get("type") != "saas" and creating:
            raise ApiProblem(400, 12130, "access.api.error.invalid_request: this emulator only holds SaaS applications "
                                         "(type: saas)")
        if not body.get("name"):
            raise ApiProblem(400, 12130, "access.api.error.invalid_request: name is required")
        saas = body.get("saas_app")
        if not isinstance(saas, dict) or saas.get("auth_type", "saml") != "saml":
            raise ApiProblem(400, 12130, "access.api.error.invalid_request: saas_app with auth_type saml is required")
        for key in ("sp_entity_id", "consumer_service_url"):
            if not saas.get(key):
                raise ApiProblem(400, 12130, "access.api.error.invalid_request: saas_app.{0} is required".format(key))
        policies = self._link_policies(body["policies"]) if "policies" in body else app.get("policies", [])
        old_saas = app.get("saas_app", {})
        sso_id = hashlib.sha256(("sso" + app["id"]).encode()).hexdigest()
        stored = {key: copy.deepcopy(saas[key]) for key in SAML_WRITABLE if key in saas}
        stored.setdefault("auth_type", "saml")
        stored.setdefault("name_id_format", "id")
        stored["custom_attributes"] = [dict({"required": False}, **item) for item in saas.get("custom_attributes", [])]
        stored.update({"idp_entity_id": self.url, "sso_endpoint": "{0}/cdn-cgi/access/sso/saml/{1}".format(self.url, sso_id),
                       "public_key": self.signing_cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
                       "created_at": old_saas.get("created_at", timestamp()), "updated_at": timestamp()})
        keep = {key: app[key] for key in ("id", "aud", "created_at") if key in app}
        app.clear()
        app.update(keep)
        app.update({key: copy.deepcopy(body.get(key, default)) for key, default in APP_DEFAULTS.items()})
        app.update({"name": body["name"], "type": "saas", "saas_app": stored, "policies": policies,
                    "updated_at": timestamp()})
        for key in ("logo_url", "scim_config"):
            if key in body:
                app[key] = copy.deepcopy(body[key])

    def _link_policies(self, items: list) -> list[dict]:
        linked, precedences = [], set()
        for position, item in enumerate(items, start=1):
            policy_id = item if isinstance(item, str) else item.get("id")
            precedence = item.get("precedence", position) if isinstance(item, dict) else position
            if policy_id not in self.policies:
                raise ApiProblem(400, 12130, "access.api.error.invalid_request: policy {0} not found".format(policy_id))
            if precedence in precedences:
                raise ApiProblem(400, 12130, "access.api.error.invalid_request: precedence {0} is used twice; it must "
                                             "be unique for each policy within an app".format(precedence))
            precedences.add(precedence)
            linked.append({"id": policy_id, "precedence": precedence})
        return linked

    def _shown(self, app: dict) -> dict:
        """An application as the API answers: its policies as policy objects with their precedence."""
        shown = copy.deepcopy(app)
        shown["policies"] = [dict(copy.deepcopy(self.policies[link["id"]]), precedence=link["precedence"])
                             for link in app.get("policies", []) if link["id"] in self.policies]
        return shown

    # ------------------------------------------------------------------------ policies

    def _list_policies(self, request: Request) -> Reply:
        with self._state_lock:
            counts = {policy_id: sum(1 for app in self.apps.values() for link in app.get("policies", [])
                                     if link["id"] == policy_id) for policy_id in self.policies}
            items = [dict(copy.deepcopy(policy), reusable=True, app_count=counts[policy_id])
                     for policy_id, policy in self.policies.items()]
        return self._page(request, items)

    # ------------------------------------------------------------------------ SAML endpoints

    def _app_by_sso(self, sso_id: str) -> dict | None:
        with self._state_lock:
            for app in self.apps.values():
                if app["saas_app"]["sso_endpoint"].rsplit("/", 1)[1] == sso_id:
                    return copy.deepcopy(app)
        return None

    def _metadata(self, request: Request) -> Reply:
        app = self._app_by_sso(request.params["sso_id"])
        if app is None:
            return Reply.text("Not Found\n", 404)
        saas = app["saas_app"]
        body = base64_body(self.signing_cert)
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<md:EntityDescriptor xmlns:md="{md}" xmlns:ds="{ds}" entityID="{entity}">'
            '<md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="{protocol}">'
            '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}'
            '</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>'
            '<md:NameIDFormat>{name_id}</md:NameIDFormat>'
            '<md:SingleSignOnService Binding="{redirect}" Location="{sso}"/>'
            '<md:SingleSignOnService Binding="{post}" Location="{sso}"/>'
            '</md:IDPSSODescriptor></md:EntityDescriptor>'
        ).format(md=MD, ds=DS, entity=saas["idp_entity_id"], protocol=PROTOCOL, cert=body,
                 name_id=NAME_ID.get(saas.get("name_id_format"), NAME_ID["id"]), redirect=REDIRECT_BINDING,
                 post=POST_BINDING, sso=saas["sso_endpoint"])
        return Reply.text(xml, content_type="application/xml")

    def _sso(self, request: Request) -> Reply:
        if self._app_by_sso(request.params["sso_id"]) is None:
            return Reply.text("Not Found\n", 404)
        return Reply.text("<html><body>Cloudflare Access sign-in (emulated)</body></html>", content_type="text/html")


def base64_body(cert) -> str:
    import base64  # pylint: disable=import-outside-toplevel
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--spec" in argv:  # ours, not the base's: handed to the child through the environment
        index = argv.index("--spec")
        os.environ[SPEC_ENV] = os.path.abspath(argv[index + 1])
        del argv[index:index + 2]
    return test_server.main(lambda args: CloudflareEmulator(args.dir, args.host, args.port), argv, script=__file__,
                            description=__doc__.split("\n\n", maxsplit=1)[0], name="Cloudflare Access emulator")


if __name__ == "__main__":
    sys.exit(main())
