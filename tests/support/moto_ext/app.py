# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The WSGI application the server runs, in front of moto's own.

Per call: the control endpoints (/_idfed/...) are answered here; a signed AWS call goes through the
fault layer (latency, injected errors), then, for sso-admin and identitystore, through validation
against botocore's model and this plug-in's handlers, or on to moto; the request log records the outcome.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from moto.core.utils import camelcase_to_underscores
from moto.identitystore.responses import IdentityStoreResponse
from moto.ssoadmin.responses import SSOAdminResponse

from . import control, iam, identitystore, ssoadmin
from .core import AwsError, Context, Handler, Settings, error_from_body
from .faults import FaultInjector, RequestLog
from .protocol import JSON_CONTENT_TYPE, AwsRequest, Response, error_code, error_response, identify, json_response, replace_body, replace_region
from .validation import error_members, operation_errors, validate

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(frozen=True)
class Extension:
    before: Callable[[Context], None]  # runs before every call of the service (settles async work, normalises ids)
    handlers: dict[str, Handler]
    moto_responses: type  # moto's handler class: what the plug-in does not handle, moto may

    def moto_implements(self, operation: str) -> bool:
        return callable(getattr(self.moto_responses, camelcase_to_underscores(operation), None))


EXTENSIONS = {
    "sso-admin": Extension(ssoadmin.before, ssoadmin.HANDLERS, SSOAdminResponse),
    "identitystore": Extension(identitystore.before, identitystore.HANDLERS, IdentityStoreResponse),
}


class PluginApp:
    def __init__(self, moto_app: WsgiApp) -> None:
        self.moto_app = moto_app
        self.settings = Settings()
        self.faults = FaultInjector()
        self.log = RequestLog()
        self.lock = threading.RLock()  # moto's backends are not thread-safe: one call changes state at a time

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(control.PREFIX):
            response = control.handle(self, environ)
        else:
            request = identify(environ)
            if request is None:  # moto's /moto-api and unsigned calls: moto's business
                return self.moto_app(environ, start_response)
            response = self._serve(request, environ)
        start_response(response.status_line, [*response.headers, ("Content-Length", str(len(response.body)))])
        return [response.body]

    def _serve(self, request: AwsRequest, environ: dict[str, Any]) -> Response:
        started = time.time()
        delay, injected = self.faults.check(request)
        if delay:
            time.sleep(delay)  # outside the lock: slow calls overlap as they do against AWS
        if injected is not None:
            response = self._error(request, injected)
        else:
            with self.lock:
                try:
                    response = self._dispatch(request, environ)
                except Exception as exc:  # pylint: disable=broad-exception-caught
                    # A bug in this plug-in: answer in AWS's error shape, naming it, rather than werkzeug's HTML page.
                    response = self._error(request, AwsError("InternalFailure", f"{type(exc).__name__}: {exc}", 500))
        self.log.record(request, started, response.status, error_code(response))
        return response

    def _dispatch(self, request: AwsRequest, environ: dict[str, Any]) -> Response:
        if request.service == "iam" and request.operation in iam.HANDLERS:
            return iam.serve(request)  # SAML providers: query protocol, not the JSON extensions below
        extension = EXTENSIONS.get(request.service)
        if extension is None:
            return self._moto(environ)
        try:
            params = request.json_params()
            validate(request.service, request.operation, params)
            errors = operation_errors(request.service, request.operation)
            region = ssoadmin.serving_region(request.account, request.region)
            if region != request.region:
                replace_region(environ, region)
            ctx = Context(request.account, region, request.operation, params, self.settings, errors)
            extension.before(ctx)
            handler = extension.handlers.get(request.operation)
            if handler is not None:
                return json_response(handler(ctx))
            if not extension.moto_implements(request.operation):
                raise AwsError("NotImplemented", f"{request.service} {request.operation} is not implemented by the local back end", 501)
            replace_body(environ, json.dumps(ctx.params).encode())  # with the ids ``before`` normalised
            return self._as_aws(request, self._moto(environ))
        except AwsError as error:
            return self._error(request, error)

    def _error(self, request: AwsRequest, error: AwsError) -> Response:
        members = error_members(request.service, error.code) if request.service in EXTENSIONS else frozenset()
        return error_response(request.protocol, error, members)

    def _as_aws(self, request: AwsRequest, response: Response) -> Response:
        """moto's answer as AWS writes it: JSON 1.1 content type, errors with ``Message`` and no nulls."""
        if response.status < 400:
            headers = [(name, value) for name, value in response.headers if name.lower() != "content-type"]
            return Response(response.status, response.body, [*headers, ("Content-Type", JSON_CONTENT_TYPE)])
        try:
            body = json.loads(response.body)
        except ValueError:
            return response
        if not isinstance(body, dict) or "__type" not in body:
            return response
        return self._error(request, error_from_body(body, response.status))

    def _moto(self, environ: dict[str, Any]) -> Response:
        captured: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], _exc_info: Any = None) -> None:
            captured.update(status=int(status.split()[0]), headers=list(headers))

        result = self.moto_app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
        headers = [(name, value) for name, value in captured["headers"] if name.lower() != "content-length"]
        return Response(captured["status"], body, headers)
