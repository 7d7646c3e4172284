# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: no compatibility promise. The LemonLDAP::NG options (Manager API URL and its HTTP basic auth, portal)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  api_url:
    description:
      - Base URL of the LemonLDAP::NG Manager REST API (the virtual host of C(api-nginx.conf) or
        C(api-apache2.conf), for example V(https://manager-api.example.com)), without C(/api/v1).
      - When omitted, the C(LLNG_MANAGER_API_URL) environment variable is used.
      - The Manager API has no authentication of its own; it must be protected by the web server in front of it
        (source addresses, HTTP basic auth, client certificates). See O(api_username).
    type: str
    required: true
  api_username:
    description:
      - User name for HTTP basic auth in front of the Manager API, when the web server asks for it.
      - When omitted, the C(LLNG_MANAGER_API_USERNAME) environment variable is used.
    type: str
  api_password:
    description:
      - Password for HTTP basic auth in front of the Manager API. Never shown in the output or the logs.
      - When omitted, the C(LLNG_MANAGER_API_PASSWORD) environment variable is used.
    type: str
  allow_http:
    description:
      - Allow a plain C(http://) O(api_url) and O(portal_url), for a Manager API reachable only on a trusted host
        or network (its default virtual host listens on port 80). The basic-auth password travels in clear text
        then.
    type: bool
    default: false
  portal_url:
    description:
      - Base URL of the LemonLDAP::NG portal as this host reaches it (for example V(https://auth.example.com)).
        The IdP metadata is read from C(<portal_url>/saml/metadata), and RV(idp) returns its entity id, SSO URL and
        signing certificate.
      - When omitted, the C(LLNG_PORTAL_URL) environment variable is used; without either, RV(idp) holds only
        nulls.
    type: str
"""
