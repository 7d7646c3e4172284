# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which AWS call a WSGI request is, and the responses the plug-in writes (JSON 1.1 and query protocols)."""

from __future__ import annotations

import io
import json
import os
import re
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from moto.iam.models import get_account_id_from

from .core import AwsError

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
_SCOPE_REGION = re.compile(r"(Credential=[^/,\s]+/\d{8}/)[^/]+/")
# Signing names that differ from botocore's service names.
_SERVICE_BY_SIGNING_NAME = {"sso": "sso-admin"}
# botocore marks no operation read-only; AWS's naming does: these prefixes never change state.
_READ_PREFIXES = ("Describe", "Get", "List", "Is")
JSON_CONTENT_TYPE = "application/x-amz-json-1.1"


@dataclass
class AwsRequest:
    service: str  # botocore's name: sso-admin, identitystore, iam, sts, ...
    operation: str
    protocol: str  # "json" (X-Amz-Target), "query" (Action=...) or "rest"
    account: str
    region: str
    body: bytes

    @property
    def write(self) -> bool:
        return not self.operation.startswith(_READ_PREFIXES)

    def json_params(self) -> dict[str, Any]:
        if not self.body.strip():
            return {}
        try:
            params = json.loads(self.body)
        except ValueError:
            raise AwsError("SerializationException", "The request body is not valid JSON") from None
        if not isinstance(params, dict):
            raise AwsError("SerializationException", "The request body must be a JSON object")
        return params


@dataclass
class Response:
    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def status_line(self) -> str:
        return f"{self.status} {HTTPStatus(self.status).phrase}"


def read_body(environ: dict[str, Any]) -> bytes:
    """The request body, put back so that moto can read it again."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length else b""
    replace_body(environ, body)
    return body


def replace_region(environ: dict[str, Any], region: str) -> None:
    """Make moto serve the call from ``region`` (moto takes the Region from the credential scope)."""
    environ["HTTP_AUTHORIZATION"] = _SCOPE_REGION.sub(lambda match: f"{match.group(1)}{region}/", environ["HTTP_AUTHORIZATION"], count=1)


def replace_body(environ: dict[str, Any], body: bytes) -> None:
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))


def identify(environ: dict[str, Any]) -> AwsRequest | None:
    """The signed AWS call in ``environ``, or None for anything else (moto's own /moto-api, unsigned calls)."""
    match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if match is None:
        return None
    access_key, region, signing_name = match.groups()
    body = read_body(environ)
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    action = _form_action(environ, body)
    if target:
        protocol, operation = "json", target.rsplit(".", 1)[-1]
    elif action:
        protocol, operation = "query", action
    else:
        protocol, operation = "rest", f"{environ.get('REQUEST_METHOD', 'GET')} {environ.get('PATH_INFO', '/')}"
    service = _SERVICE_BY_SIGNING_NAME.get(signing_name, signing_name)
    return AwsRequest(service, operation, protocol, _account(environ, access_key), region, body)


def _form_action(environ: dict[str, Any], body: bytes) -> str | None:
    if not environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        return None
    return parse_qs(body.decode("utf-8", "replace")).get("Action", [None])[0]


def _account(environ: dict[str, Any], access_key: str) -> str:
    """The account moto serves the call as (same precedence as moto: env, x-moto-account-id header, access key)."""
    return os.environ.get("MOTO_ACCOUNT_ID") or environ.get("HTTP_X_MOTO_ACCOUNT_ID") or get_account_id_from(access_key)


def request_id() -> str:
    return str(uuid.uuid4())


def json_response(payload: dict[str, Any], status: int = 200) -> Response:
    headers = [("Content-Type", JSON_CONTENT_TYPE), ("x-amzn-RequestId", request_id())]
    return Response(status, json.dumps(payload).encode(), headers)


def error_response(protocol: str, error: AwsError, members: frozenset[str] = frozenset()) -> Response:
    """``error`` in the wire format of ``protocol``; ``members`` are those the model gives the error shape."""
    if protocol == "query":
        return _query_error(error)
    payload: dict[str, Any] = {"__type": error.code, "Message": error.message, **error.members}
    if "RequestId" in members:
        payload["RequestId"] = request_id()
    response = json_response(payload, error.status)
    response.headers.append(("x-amzn-ErrorType", error.code))
    return response


def _query_error(error: AwsError) -> Response:
    # IAM and STS (query protocol) name throttling "Throttling", in an XML ErrorResponse.
    code = "Throttling" if error.code == "ThrottlingException" else error.code
    kind = "Receiver" if error.status >= 500 else "Sender"
    rid = request_id()
    body = (
        f"<ErrorResponse><Error><Type>{kind}</Type><Code>{escape(code)}</Code><Message>{escape(error.message)}</Message>"
        f"</Error><RequestId>{rid}</RequestId></ErrorResponse>"
    )
    return Response(error.status, body.encode(), [("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)])


def error_code(response: Response) -> str | None:
    """The error code a response carries, for the request log (JSON ``__type``, or the XML <Code>)."""
    if response.status < 400:
        return None
    try:
        code = json.loads(response.body).get("__type")
    except (ValueError, AttributeError):
        found = re.search(rb"<Code>([^<]+)</Code>", response.body)
        code = found.group(1).decode() if found else None
    return code.rsplit("#", 1)[-1] if isinstance(code, str) else None
