# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: no compatibility promise. The Cloudflare API options (token, account, base URL)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  api_token:
    description:
      - "A Cloudflare API token (sent as C(Authorization: Bearer)) with the account permission C(Access: Apps and
        Policies Write); C(Access: Apps and Policies Read) is enough for a run that changes nothing, and for check
        mode."
      - When omitted, the C(CLOUDFLARE_API_TOKEN) environment variable is used, as Cloudflare's own tools do; an
        AWX custom credential can inject it.
      - Global API keys (C(X-Auth-Key) with C(X-Auth-Email)) are not supported; create a scoped token instead.
    type: str
    required: true
  account_id:
    description:
      - The Cloudflare account id (32 hex digits), shown in the dashboard's URL and on the account's overview page.
      - When omitted, the C(CLOUDFLARE_ACCOUNT_ID) environment variable is used.
    type: str
    required: true
  api_url:
    description:
      - Base URL of the Cloudflare API.
      - When omitted, the C(CLOUDFLARE_API_URL) environment variable is used, and V(https://api.cloudflare.com/client/v4)
        without it.
    type: str
"""
