# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: no compatibility promise; other collections must not import this.

Keeping credentials out of every message, diff and return value.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_SECRET_QUERY_KEYS = re.compile(r"token|key|secret|sig|signature|password|pass|auth|code", re.IGNORECASE)


def redact_url(url: str) -> str:
    """Drop userinfo and mask secret-looking query values, for messages and return values."""
    try:
        parts = urlsplit(url)
        netloc = parts.hostname or ""
        if parts.port:
            netloc += ":{0}".format(parts.port)
    except ValueError:  # an unbalanced [IPv6] bracket, a port out of range
        return "<unparseable URL>"
    if parts.username or parts.password:
        netloc = "***@" + netloc
    query = urlencode([(key, "***" if _SECRET_QUERY_KEYS.search(key) else value)
                       for key, value in parse_qsl(parts.query, keep_blank_values=True)], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def url_secrets(url: str) -> set[str]:
    """The values redact_url() masks (the password and secret-looking query values), for a caller that must
    also keep them out of what it logs or returns, such as Ansible's no_log_values."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return set()
    secrets = {value for key, value in parse_qsl(parts.query, keep_blank_values=True)
               if _SECRET_QUERY_KEYS.search(key) and value}
    if password:
        secrets.add(password)
    return secrets
