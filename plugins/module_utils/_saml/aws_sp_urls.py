# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IAM Identity Center service-provider URLs: issuer and ACS forms.

Forms documented by AWS (see the collection docs):
  issuer     https://<region>.signin.aws.amazon.com/platform/saml/<identity-store-id>
  ipv4       https://<region>.signin.aws/platform/saml/acs/<tenant>
  dual_stack https://<region>.sso.signin.aws/platform/saml/acs/<tenant>
  legacy     https://<region>.signin.aws.amazon.com/platform/saml/acs/<tenant>
"""

from __future__ import annotations

import re

IDENTITY_CENTER_LIMIT = 75000
IAM_MIN_SIZE = 1000
IAM_MAX_SIZE = 10000000
IAM_SP_ENTITY_ID = "urn:amazon:webservices"

_REGION = r"(?P<region>[a-z]{2}(?:-gov|-iso[a-z]*)?-[a-z]+-\d)"
_ISSUER = re.compile(r"^https://" + _REGION + r"\.signin\.aws\.amazon\.com/platform/saml/(?P<store>d-[0-9a-f]{10})/?$")
_ACS = re.compile(
    r"^https://" + _REGION + r"\.(?P<host>signin\.aws|sso\.signin\.aws|signin\.aws\.amazon\.com)"
    r"/platform/saml/acs/(?P<tenant>[A-Za-z0-9-]+)/?$"
)
_FORMS = {"signin.aws": "ipv4", "sso.signin.aws": "dual_stack", "signin.aws.amazon.com": "legacy"}


def parse_issuer(entity_id: str) -> dict | None:
    """{'region', 'identity_store_id'} for an Identity Center SP entityID, else None."""
    match = _ISSUER.match(entity_id.strip())
    if not match:
        return None
    return {"region": match.group("region"), "identity_store_id": match.group("store")}


def classify_acs(location: str) -> dict | None:
    """{'location', 'region', 'form', 'tenant'} for an Identity Center ACS URL, else None."""
    match = _ACS.match(location.strip())
    if not match:
        return None
    return {
        "location": location.strip(),
        "region": match.group("region"),
        "form": _FORMS[match.group("host")],
        "tenant": match.group("tenant"),
    }
