# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: no compatibility promise. The options naming the Identity Center SP an IdP application is for."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  sp_metadata_path:
    description:
      - Path of the SP metadata file downloaded from the Identity Center console (Settings, Identity source,
        Change identity source, External identity provider, C(Download metadata file)).
      - The issuer becomes the application's entity id (audience); every ACS URL it lists is registered, the
        primary Region's first. Metadata with an error finding (see M(idfed.aws_sso.saml_metadata_info)) is
        refused before anything is written.
      - Required for O(state=present), unless O(sp_metadata_content), O(sp_metadata_url) or O(sp_entity_id) is
        given. Mutually exclusive with them.
    type: path
  sp_metadata_content:
    description:
      - The SP metadata document itself, as a string. See O(sp_metadata_path).
    type: str
  sp_metadata_url:
    description:
      - An C(https://) URL serving the SP metadata (for example an artifact store). See O(sp_metadata_path).
    type: str
  sp_entity_id:
    description:
      - The Identity Center issuer (C(https://<region>.signin.aws.amazon.com/platform/saml/d-xxxxxxxxxx)), from
        the console's C(IAM Identity Center issuer URL), when there is no metadata file. Needs O(sp_acs_urls).
    type: str
  sp_acs_urls:
    description:
      - The ACS URL of every Region of the instance (the console's C(IAM Identity Center ACS URL)), the primary
        Region's first. Only with O(sp_entity_id).
    type: list
    elements: str
"""

    API = r"""
options:
  validate_certs:
    description:
      - Verify the TLS certificate of the API. Set to V(false) only for throwaway tests; prefer O(ca_path) for a
        private CA.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file with the CA certificate(s) that sign the API's server certificate, for a private CA.
    type: path
  timeout:
    description:
      - Seconds allowed for each HTTP attempt, from connecting to reading the last byte.
    type: int
    default: 30
  deadline:
    description:
      - Seconds allowed for the whole module run, retries included. Retries (HTTP 429, 5xx and connection
        failures; a create only when it cannot have been applied) wait with jittered backoff that honours
        C(Retry-After), and never beyond this deadline.
    type: int
    default: 600
notes:
  - Every HTTP call has a timeout; the token and every secret the module obtains at run time are masked in
    its output, its errors and its log, and retries are shown at C(-vvv).
"""
