# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fault layer: per service/operation latency and injected errors, and the request log.

A rule (POST /_idfed/faults {"rules": [...]}) names a ``service`` (botocore's name: "sso-admin",
"identitystore", "iam", ...; "*" for all) and an ``operation`` ("*" default), and any of:

- ``latency_ms``: sleep before the call is served;
- ``every``: fail every Nth matching call (the Nth, 2Nth, ...);
- ``rate`` (+ ``burst``, default ``rate``): a token bucket of ``rate`` calls per second; a call that finds
  the bucket empty fails, as AWS's own throttling does (IAM Identity Center: about 20 TPS for its APIs);
- ``error`` / ``message`` / ``status``: what a failing call gets, by default AWS's throttling answer,
  HTTP 400 ThrottlingException "Rate exceeded" (the message CloudTrail records for sso-admin throttling).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, fields
from typing import Any

from .core import AwsError
from .protocol import AwsRequest

_RULE_INPUTS = ("service", "operation", "latency_ms", "every", "rate", "burst", "error", "message", "status")


@dataclass
class FaultRule:
    service: str
    operation: str = "*"
    latency_ms: float = 0.0
    every: int = 0
    rate: float = 0.0
    burst: float = 0.0
    error: str = "ThrottlingException"
    message: str = "Rate exceeded"
    status: int = 400
    calls: int = field(default=0, init=False)
    tokens: float = field(default=0.0, init=False)
    refilled: float = field(default_factory=time.monotonic, init=False)

    def __post_init__(self) -> None:
        self.burst = self.burst or self.rate
        self.tokens = self.burst

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaultRule:
        unknown = set(data) - set(_RULE_INPUTS)
        if unknown or "service" not in data:
            raise ValueError(f"a rule takes {list(_RULE_INPUTS)} (service required), got {sorted(data)}")
        return cls(**data)

    def as_json(self) -> dict[str, Any]:
        return {item.name: getattr(self, item.name) for item in fields(self) if item.name in _RULE_INPUTS}

    def matches(self, request: AwsRequest) -> bool:
        return self.service in ("*", request.service) and self.operation in ("*", request.operation)

    def fails(self, now: float) -> bool:
        """Count this call; True when it is the one to fail."""
        self.calls += 1
        if self.every and self.calls % self.every == 0:
            return True
        if self.rate:
            self.tokens = min(self.burst, self.tokens + (now - self.refilled) * self.rate)
            self.refilled = now
            if self.tokens < 1:
                return True
            self.tokens -= 1
        return False


class FaultInjector:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def set_rules(self, rules: list[dict[str, Any]]) -> None:
        parsed = [FaultRule.from_json(rule) for rule in rules]
        with self._lock:
            self._rules = parsed

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.as_json() for rule in self._rules]

    def check(self, request: AwsRequest) -> tuple[float, AwsError | None]:
        """Seconds to wait before serving ``request``, and the error to answer it with instead, if any."""
        delay, error = 0.0, None
        now = time.monotonic()
        with self._lock:
            for rule in (rule for rule in self._rules if rule.matches(request)):
                delay += rule.latency_ms / 1000
                if rule.fails(now) and error is None:
                    error = AwsError(rule.error, rule.message, rule.status)
        return delay, error


class RequestLog:
    """Every AWS call the server answered: what a test asserts call counts and write/read mixes against."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []

    def record(self, request: AwsRequest, started: float, status: int, error: str | None) -> None:
        entry = {
            "service": request.service,
            "operation": request.operation,
            "write": request.write,
            "account": request.account,
            "region": request.region,
            "status": status,
            "error": error,
            "time": started,
        }
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
