# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: no compatibility promise; other collections must not import this.

Classic (per-account) IAM SAML providers on amazon.aws's client: the retry policy, the calls behind
amazon.aws's IAM error handler, and what a metadata document means to IAM, in a canonical form, so that two
spellings of the same metadata compare equal and a real change (a new certificate) does not.
"""

from __future__ import annotations

import re

from ansible_collections.amazon.aws.plugins.module_utils.iam import IAMErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from .._saml.aws_sp_urls import IAM_MAX_SIZE
from .._saml.metadata import MetadataReport, analyze_metadata

# IAM throttles as "Throttling" (in AWSRetry's defaults) and asks callers to retry ConcurrentModification.
IAM_RETRY = AWSRetry.jittered_backoff(retries=10, delay=1, max_delay=20, catch_extra_error_codes=["ConcurrentModification"])
# botocore's iam model: SAMLProviderNameType, 1 to 128 of [\w._-] (Java's \w: ASCII letters, digits, underscore).
PROVIDER_NAME = re.compile(r"^[\w.-]{1,128}$", re.ASCII)
# IAM counts characters; UTF-8 takes at most 4 bytes for one, so this many bytes hold any document IAM accepts.
MAX_DOCUMENT_BYTES = 4 * IAM_MAX_SIZE
_SIGNING_USES = ("signing", "unspecified")


def check_provider_name(name: str) -> str | None:
    if PROVIDER_NAME.match(name):
        return None
    return ("name {0!r} is not an IAM SAML provider name: 1 to 128 characters, letters, digits and _ . - only."
            .format(name))


def analyze(document: bytes) -> MetadataReport:
    """The IdP metadata checked with the rules of classic IAM (1,000 to 10,000,000 characters, https SSO, ...)."""
    return analyze_metadata(document, role="idp", target="iam", max_size=MAX_DOCUMENT_BYTES)


def canonical_metadata(report: MetadataReport) -> dict:
    """What IAM acts on in IdP metadata: the issuer, the signing certificates, the SSO endpoints and the expiry.

    Whitespace, attribute order, namespace prefixes, comments, a signature, encryption-only KeyDescriptors (IAM
    decrypts with the private keys it is given, not with the IdP's) and other roles do not show here.
    """
    certificates = {}
    for certificate in report.certificates:
        if certificate["use"] in _SIGNING_USES:
            certificates[certificate["fingerprint_sha256"]] = {
                key: certificate[key] for key in ("fingerprint_sha256", "subject", "not_after")}
    services = {(service["binding"], service["location"]) for service in report.sso_services}
    return {
        "entity_id": report.entity_id,
        "signing_certificates": [certificates[key] for key in sorted(certificates)],
        "sso_services": [{"binding": binding, "location": location} for binding, location in sorted(services)],
        "valid_until": report.valid_until,
    }


@IAMErrorHandler.common_error_handler("list the IAM SAML providers")
def _list_providers(iam) -> list[dict]:
    return iam.list_saml_providers(aws_retry=True).get("SAMLProviderList", [])


@IAMErrorHandler.list_error_handler("get the IAM SAML provider")
def get_provider(iam, arn: str) -> dict | None:
    """GetSAMLProvider's answer with the ARN added, or None when it is gone."""
    found = iam.get_saml_provider(aws_retry=True, SAMLProviderArn=arn)
    found.pop("ResponseMetadata", None)
    return dict(found, SAMLProviderArn=arn)


def find_provider(iam, name: str) -> dict | None:
    """The provider called `name` (ARNs end in saml-provider/<name>), or None."""
    suffix = ":saml-provider/" + name
    for entry in _list_providers(iam):
        if entry["Arn"].endswith(suffix):
            return get_provider(iam, entry["Arn"])
    return None


@IAMErrorHandler.common_error_handler("create the IAM SAML provider")
def create_provider(iam, **params) -> str:
    return iam.create_saml_provider(aws_retry=True, **params)["SAMLProviderArn"]


@IAMErrorHandler.common_error_handler("update the IAM SAML provider")
def update_provider(iam, arn: str, **params) -> None:
    iam.update_saml_provider(aws_retry=True, SAMLProviderArn=arn, **params)


@IAMErrorHandler.common_error_handler("tag the IAM SAML provider")
def tag_provider(iam, arn: str, tags: list[dict]) -> None:
    iam.tag_saml_provider(aws_retry=True, SAMLProviderArn=arn, Tags=tags)


@IAMErrorHandler.common_error_handler("untag the IAM SAML provider")
def untag_provider(iam, arn: str, keys: list[str]) -> None:
    iam.untag_saml_provider(aws_retry=True, SAMLProviderArn=arn, TagKeys=keys)


@IAMErrorHandler.deletion_error_handler("delete the IAM SAML provider")
def delete_provider(iam, arn: str) -> bool:
    iam.delete_saml_provider(aws_retry=True, SAMLProviderArn=arn)
    return True
