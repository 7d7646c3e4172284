# -*- coding: utf-8 -*-
"""Fixtures of the HTTP layer's tests: a local HTTPS server (tests/support/test_server.py) and a REST
client wired to it with a fake clock, so retries, Retry-After and the deadline take no real time."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ansible_collections.idfed.aws_sso.plugins.module_utils._http.client import RestClient
from ansible_collections.idfed.aws_sso.plugins.module_utils._http.retry import RetryPolicy

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "support"))
import test_server  # noqa: E402  pylint: disable=wrong-import-position


class FakeClock:
    """time.monotonic and time.sleep for the client: sleeping only moves the clock."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class Harness:
    """What a client told the module: log lines, secrets reported for no_log_values, and its waits."""

    server: test_server.TestServer
    clock: FakeClock = field(default_factory=FakeClock)
    logs: list[str] = field(default_factory=list)
    reported: set[str] = field(default_factory=set)
    clients: list[RestClient] = field(default_factory=list)

    def client(self, base_url: str | None = None, **options) -> RestClient:
        settings = dict(ca_path=self.server.ca_path, timeout=2.0, deadline=60.0,
                        retry=RetryPolicy(attempts=4, base=0.01, cap=0.02, max_wait=30.0),
                        log=self.logs.append, on_secret=self.reported.add, sleep=self.clock.sleep,
                        clock=self.clock.monotonic)
        settings.update(options)
        client = RestClient(base_url or self.server.url, **settings)
        self.clients.append(client)
        return client


@pytest.fixture
def server():
    with test_server.TestServer(http_port=0, seed=7) as running:
        yield running


@pytest.fixture
def harness(server):
    made = Harness(server)
    yield made
    for client in made.clients:
        client.close()
