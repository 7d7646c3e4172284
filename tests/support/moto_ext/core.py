# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the operation handlers share: the request context, AWS errors, settings, pagination."""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from moto.core.exceptions import JsonRESTError

# Members moto puts in its error bodies that AWS does not send (or that we set ourselves).
_MOTO_ERROR_NOISE = frozenset({"__type", "message", "Message", "RequestId"})


class AwsError(Exception):
    """An error as AWS returns it: its code (the JSON ``__type``), message, HTTP status and modelled members."""

    def __init__(self, code: str, message: str, status: int = 400, **members: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.members = members


def validation_error(message: str) -> AwsError:
    return AwsError("ValidationException", message)


@dataclass
class Settings:
    """Server-wide knobs a test sets through POST /_idfed/config."""

    # Seconds an asynchronous request (assignment, provisioning) stays IN_PROGRESS.
    async_delay: float = 0.2
    # Outstanding CreateAccountAssignment requests per instance (IAM Identity Center quotas: 10).
    assignment_quota: int = 10

    def update(self, values: dict[str, Any]) -> None:
        known = [item.name for item in fields(self)]
        for name, value in values.items():
            if name not in known:
                raise ValueError(f"unknown setting {name!r}; known: {known}")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"setting {name!r} takes a number >= 0")
            setattr(self, name, type(getattr(self, name))(value))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Context:
    """One API call as a handler sees it (ids already normalised, input already validated)."""

    account: str
    region: str
    operation: str
    params: dict[str, Any]
    settings: Settings
    errors: frozenset[str] = frozenset()  # the error shapes the operation's model lists
    now: float = field(default_factory=time.time)

    def missing(self, message: str) -> AwsError:
        """A reference to something that does not exist: ResourceNotFoundException where the operation's
        model lists it, else AccessDeniedException (what AWS answers for, e.g., DescribeInstance)."""
        code = "ResourceNotFoundException" if "ResourceNotFoundException" in self.errors else "AccessDeniedException"
        return AwsError(code, message)


Handler = Callable[[Context], dict[str, Any]]


def registry() -> tuple[dict[str, Handler], Callable[[str], Callable[[Handler], Handler]]]:
    """A handler table and the decorator that fills it: ``@handles("DescribeInstance")``."""
    table: dict[str, Handler] = {}

    def handles(operation: str) -> Callable[[Handler], Handler]:
        def register(func: Handler) -> Handler:
            table[operation] = func
            return func

        return register

    return table, handles


def paginate(items: list[Any], ctx: Context, key: str) -> dict[str, Any]:
    """One page of ``items`` under ``key`` per MaxResults/NextToken (an opaque offset, as AWS's tokens are opaque)."""
    token = ctx.params.get("NextToken")
    try:
        start = int(base64.b64decode(token, validate=True)) if token else 0
    except (binascii.Error, ValueError):
        raise validation_error("Invalid NextToken") from None
    end = start + int(ctx.params.get("MaxResults", 100))
    page: dict[str, Any] = {key: items[start:end]}
    if end < len(items):
        page["NextToken"] = base64.b64encode(str(end).encode()).decode()
    return page


def without_none(data: dict[str, Any]) -> dict[str, Any]:
    """AWS omits absent members where moto writes null."""
    return {key: value for key, value in data.items() if value is not None}


def error_from_body(body: dict[str, Any], status: int) -> AwsError:
    """A moto JSON error body as an AwsError (moto writes ``message`` and nulls; AWS ``Message`` and no nulls)."""
    code = str(body.get("__type", "InternalFailure")).rsplit("#", 1)[-1]
    message = body.get("Message") or body.get("message") or ""
    members = {key: value for key, value in body.items() if key not in _MOTO_ERROR_NOISE and value is not None}
    return AwsError(code, message, status, **members)


def from_moto(exc: JsonRESTError) -> AwsError:
    try:
        body = json.loads(exc.description)
    except (TypeError, ValueError):
        body = {}
    return error_from_body(dict({"__type": exc.error_type, "message": exc.message}, **body), exc.code)


@contextmanager
def moto_errors() -> Iterator[None]:
    """Calls into moto's backends raise moto's exceptions: turn them into AwsError for one error path."""
    try:
        yield
    except JsonRESTError as exc:
        raise from_moto(exc) from None
