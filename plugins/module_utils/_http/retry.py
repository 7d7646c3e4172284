# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: no compatibility promise; other collections must not import this.

When to retry and how long to wait: which methods and statuses are safe to repeat, jittered exponential
backoff, the server's own hints (Retry-After in seconds or as an HTTP date, Okta's X-Rate-Limit-Reset in
epoch seconds), and the deadline of a whole module run. Pure Python; the clock, the random source and
the limits are injectable so tests run in milliseconds.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

RETRY_STATUSES = frozenset((429, 500, 502, 503, 504))
# Methods whose repetition cannot change the outcome (RFC 9110, 9.2.2).
IDEMPOTENT_METHODS = frozenset(("GET", "HEAD", "PUT", "DELETE", "OPTIONS"))


def is_idempotent(method: str, override: bool | None = None) -> bool:
    """override: a caller's word that a POST is a read (a search) or otherwise safe to send twice."""
    return override if override is not None else method.upper() in IDEMPOTENT_METHODS


def may_retry_status(status: int, idempotent: bool) -> bool:
    """A 429 was refused before it was applied, whatever the method; a 5xx may follow a write that happened."""
    return status == 429 or (idempotent and status in RETRY_STATUSES)


@dataclass
class RetryPolicy:
    attempts: int = 5  # tries in all, the first included
    base: float = 0.5  # seconds before the first retry, doubled each time
    cap: float = 30.0  # the longest backoff the client chooses itself
    max_wait: float = 120.0  # the longest wait a server may ask for (Retry-After, X-Rate-Limit-Reset)
    rand: Callable[[], float] = field(default=random.random, repr=False)

    def backoff(self, retry: int) -> float:
        """Exponential backoff with equal jitter: half fixed, half random, so clients spread out."""
        ceiling = min(self.cap, self.base * (2 ** max(0, retry - 1)))
        return ceiling / 2 + self.rand() * ceiling / 2

    def wait(self, retry: int, status: int | None = None, headers: Mapping[str, str] | None = None,
             now: float | None = None) -> tuple[float, str]:
        """(seconds, why) before retry number `retry` (1 for the first retry)."""
        hint = server_wait(status, headers or {}, time.time() if now is None else now)
        if hint is not None:
            seconds, header = hint
            return min(seconds, self.max_wait), "as {0} asks".format(header)
        return self.backoff(retry), "backoff"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def _http_date(value: str) -> float | None:
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def server_wait(status: int | None, headers: Mapping[str, str], now: float) -> tuple[float, str] | None:
    """The wait a server asks for, in seconds from now, and the header that asked; None without a hint."""
    retry_after = _header(headers, "Retry-After")
    if retry_after:
        try:
            return max(0.0, float(retry_after.strip())), "Retry-After"
        except ValueError:
            moment = _http_date(retry_after)
            if moment is not None:
                return max(0.0, moment - now), "Retry-After"
    reset = _header(headers, "X-Rate-Limit-Reset")
    if status == 429 and reset and reset.strip().isdigit():
        # Okta's reset is the server's epoch second: measure it against the server's Date, not our clock.
        server_now = _http_date(_header(headers, "Date") or "") or now
        return max(0.0, int(reset.strip()) - server_now), "X-Rate-Limit-Reset"
    return None


class Deadline:
    """The time a whole module run may take; every attempt's timeout and every wait is cut to fit."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self._clock = clock
        self._end = clock() + seconds

    def remaining(self) -> float:
        return max(0.0, self._end - self._clock())

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0
