# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The control endpoints, under a path moto does not use; JSON in and out.

GET  /_idfed/health      {"ok": true}
GET  /_idfed/log         {"requests": [{"service", "operation", "write", "status", "error", "account", "region", "time"}]}
POST /_idfed/log/clear   empties the log
GET  /_idfed/faults      {"rules": [...]}
POST /_idfed/faults      {"rules": [...]} replaces the fault rules (see faults.py)
GET  /_idfed/config      {"async_delay": 0.2, "assignment_quota": 10}
POST /_idfed/config      sets some of them
POST /_idfed/regions     {"instance_arn": ..., "regions": [{"RegionName": "eu-west-1", "Status": "ADDING"}]}
                         the added Regions of a multi-Region instance (the primary is the instance's own)
POST /_idfed/reset       everything back to a fresh server: moto's state, rules, log and config
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from moto.moto_api._internal import moto_api_backend

from . import ssoadmin
from .core import Settings
from .protocol import Response, read_body

if TYPE_CHECKING:
    from .app import PluginApp

PREFIX = "/_idfed/"
Route = Callable[["PluginApp", dict[str, Any]], dict[str, Any]]


def _health(_app: PluginApp, _payload: dict[str, Any]) -> dict[str, Any]:
    return {"ok": True}


def _log(app: PluginApp, _payload: dict[str, Any]) -> dict[str, Any]:
    return {"requests": app.log.entries()}


def _clear_log(app: PluginApp, _payload: dict[str, Any]) -> dict[str, Any]:
    app.log.clear()
    return {"requests": []}


def _faults(app: PluginApp, _payload: dict[str, Any]) -> dict[str, Any]:
    return {"rules": app.faults.rules()}


def _set_faults(app: PluginApp, payload: dict[str, Any]) -> dict[str, Any]:
    app.faults.set_rules(payload["rules"])
    return _faults(app, payload)


def _config(app: PluginApp, _payload: dict[str, Any]) -> dict[str, Any]:
    return app.settings.as_dict()


def _set_config(app: PluginApp, payload: dict[str, Any]) -> dict[str, Any]:
    app.settings.update(payload)
    return _config(app, payload)


def _regions(app: PluginApp, payload: dict[str, Any]) -> dict[str, Any]:
    with app.lock:
        ssoadmin.set_regions(payload["instance_arn"], payload["regions"], time.time())
    return {"instance_arn": payload["instance_arn"], "regions": payload["regions"]}


def _reset(app: PluginApp, _payload: dict[str, Any]) -> dict[str, Any]:
    with app.lock:
        moto_api_backend.reset()  # what POST /moto-api/reset does; the plug-in's state lives in the backends
    app.faults.set_rules([])
    app.log.clear()
    app.settings = Settings()
    return {"reset": True}


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "health"): _health,
    ("GET", "log"): _log,
    ("POST", "log/clear"): _clear_log,
    ("GET", "faults"): _faults,
    ("POST", "faults"): _set_faults,
    ("GET", "config"): _config,
    ("POST", "config"): _set_config,
    ("POST", "regions"): _regions,
    ("POST", "reset"): _reset,
}


def handle(app: PluginApp, environ: dict[str, Any]) -> Response:
    key = (environ.get("REQUEST_METHOD", "GET"), environ["PATH_INFO"][len(PREFIX) :].strip("/"))
    route = ROUTES.get(key)
    if route is None:
        return _json({"error": f"no route {key[0]} {PREFIX}{key[1]}", "routes": [f"{method} {PREFIX}{path}" for method, path in ROUTES]}, 404)
    try:
        payload = json.loads(read_body(environ) or b"{}")
        return _json(route(app, payload))
    except (ValueError, KeyError, TypeError) as exc:  # a malformed control request: say what was wrong
        return _json({"error": f"{type(exc).__name__}: {exc}"}, 400)


def _json(payload: dict[str, Any], status: int = 200) -> Response:
    return Response(status, json.dumps(payload).encode(), [("Content-Type", "application/json")])
