# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: no compatibility promise. The ZITADEL instance and credentials of the ZITADEL modules."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  api_url:
    description:
      - The ZITADEL instance, C(https://<instance domain>) (for ZITADEL Cloud C(https://<name>.zitadel.cloud)). The
        APIs, the token endpoint (C(/oauth/v2/token)) and the SAML IdP endpoints (C(/saml/v2/...)) are all under it.
      - Falls back to the environment variable E(ZITADEL_URL).
    type: str
    required: true
  token:
    description:
      - A personal access token of a service user, sent as C(Authorization) header C(Bearer <token>). The service user needs the
        C(ORG_OWNER) or C(PROJECT_OWNER) role (project and application write, and, to create the project,
        project creation in the organization).
      - Falls back to E(ZITADEL_TOKEN). Exactly one of O(token), O(key_file) and O(key_content) is needed.
    type: str
  key_file:
    description:
      - Path of a service user's JSON key file (type C(serviceaccount) with C(keyId), C(key) and C(userId)),
        used for the JWT profile grant (RFC 7523) at C(<api_url>/oauth/v2/token) with the scope
        C(openid urn:zitadel:iam:org:project:id:zitadel:aud).
      - Falls back to E(ZITADEL_KEY_FILE).
    type: path
  key_content:
    description:
      - The content of the service user's JSON key file, for a key kept in a vault rather than on disk. See
        O(key_file).
      - Falls back to E(ZITADEL_KEY_CONTENT).
    type: str
  organization_id:
    description:
      - The organization the project belongs to. With O(api_version=v1) it is sent as the C(x-zitadel-orgid)
        header (without it, ZITADEL uses the service user's own organization); with O(api_version=v2) it narrows
        the project search and is required to create a project.
      - Falls back to E(ZITADEL_ORGANIZATION_ID).
    type: str
  api_version:
    description:
      - V(v2) uses the ApplicationService and ProjectService of ZITADEL v4 and ZITADEL Cloud (Connect protocol).
      - V(v1) uses the management REST API (C(/management/v1)), for self-hosted instances older than v4.
    type: str
    choices: [v1, v2]
    default: v2
notes:
  - AWX and Automation Controller can inject E(ZITADEL_URL), E(ZITADEL_TOKEN) (or E(ZITADEL_KEY_FILE)) and
    E(ZITADEL_ORGANIZATION_ID) through a custom credential type; the credentials are C(no_log) and masked in
    every message, as is the access token obtained with a key file.
"""
