# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: no compatibility promise; other collections must not import this.

IAM Identity Center (sso-admin, identitystore) on amazon.aws's AnsibleAWSModule client: one error type
with its handler decorator (as amazon.aws's iam utils do), the retry policy of each service, input
checks that run before any call, instance discovery, pagination and the polling of asynchronous requests.
"""

from __future__ import annotations

import re
import time

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

# Patterns of botocore's sso-admin and identitystore service models (2020-07-20, 2020-06-15).
ACCOUNT_ID = re.compile(r"^\d{12}$")
INSTANCE_ARN = re.compile(r"^arn:aws(-[a-z]{1,5}){0,3}:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}$")
PERMISSION_SET_ARN = re.compile(
    r"^arn:aws(-[a-z]{1,5}){0,3}:sso:::permissionSet/(sso)?ins-[a-zA-Z0-9-.]{16}/ps-[a-zA-Z0-9-./]{16}$")
PRINCIPAL_ID = re.compile(r"^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$")
IDENTITY_STORE_ID = re.compile(r"^d-[0-9a-f]{10}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# An RFC 5322 addr-spec, as far as a user name needs: Identity Center matches the NameID emailAddress to it.
EMAIL = re.compile(r"^[^@\s\"(),:;<>\[\\\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")

# ThrottlingException and the 5xx codes are in AWSRetry's defaults. sso-admin also answers ConflictException
# while a permission set is being provisioned: the write was refused, not applied, so repeating it is safe.
# identitystore's ConflictException means a name is taken: never retried.
SSO_ADMIN_RETRY = AWSRetry.jittered_backoff(retries=10, delay=1, max_delay=20, catch_extra_error_codes=["ConflictException"])
IDENTITY_STORE_RETRY = AWSRetry.jittered_backoff(retries=10, delay=1, max_delay=20)
ASYNC_FINAL = ("SUCCEEDED", "FAILED")


class IdentityCenterError(AnsibleAWSError):
    pass


class IdentityCenterErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = IdentityCenterError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("ResourceNotFoundException")


def clients(module):
    """(sso-admin, identitystore) clients with their retry policies; call them with aws_retry=True."""
    return (module.client("sso-admin", retry_decorator=SSO_ADMIN_RETRY),
            module.client("identitystore", retry_decorator=IDENTITY_STORE_RETRY))


def check_account_id(value: str, where: str) -> str | None:
    if ACCOUNT_ID.match(str(value)):
        return None
    return "{0}: {1!r} is not an AWS account id (12 digits, quoted in YAML so leading zeros stay).".format(where, value)


def check_email_user_name(value: str, where: str) -> str | None:
    if EMAIL.match(value or ""):
        return None
    return ("{0}: the user name {1!r} is not an email address. With an external SAML IdP, Identity Center signs a user "
            "in by matching the NameID (format emailAddress) to the user name, so use the user's email address."
            .format(where, value))


@IdentityCenterErrorHandler.common_error_handler("list the IAM Identity Center instances")
def _list_instances(sso_admin) -> list[dict]:
    return sso_admin.get_paginator("list_instances").paginate().build_full_result().get("Instances", [])


def find_instance(sso_admin, instance_arn: str | None) -> dict:
    """The instance to work on: the one named, or the only one there is. Raises IdentityCenterError with the fix."""
    if instance_arn is not None and not INSTANCE_ARN.match(instance_arn):
        raise IdentityCenterError(message="instance_arn {0!r} is not an Identity Center instance ARN "
                                          "(arn:aws:sso:::instance/ssoins-...).".format(instance_arn))
    instances = _list_instances(sso_admin)
    if instance_arn is not None:
        for instance in instances:
            if instance["InstanceArn"] == instance_arn:
                return instance
        raise IdentityCenterError(message="No Identity Center instance {0} in this account and Region (found: {1})."
                                          .format(instance_arn, ", ".join(i["InstanceArn"] for i in instances) or "none"))
    if len(instances) == 1:
        return instances[0]
    if not instances:
        raise IdentityCenterError(message="IAM Identity Center is not enabled in this account and Region: enable it in the "
                                          "console (or check region/profile).")
    raise IdentityCenterError(message="{0} Identity Center instances are visible; name one with instance_arn: {1}."
                                      .format(len(instances), ", ".join(i["InstanceArn"] for i in instances)))


def paginate(client, operation: str, result_key: str, **kwargs) -> list:
    """Every item of a paginated list call (botocore's paginator, which the retry wrapper passes through)."""
    return client.get_paginator(operation).paginate(**kwargs).build_full_result().get(result_key, [])


def wait_for_requests(describe, request_ids: list[str], *, status_key: str, id_argument: str, timeout: float,
                      poll: float = 1.0, describe_kwargs: dict | None = None) -> dict[str, dict]:
    """Poll an asynchronous request status call until every request is SUCCEEDED or FAILED, or timeout passes.

    `describe(**{id_argument: request_id, **describe_kwargs})` returns {status_key: {"Status": ...}}. Returns
    request id -> the last status dict; requests still IN_PROGRESS at the deadline keep that status.
    """
    deadline = time.monotonic() + timeout
    statuses: dict[str, dict] = {}
    pending = list(request_ids)
    while pending:
        still = []
        for request_id in pending:
            status = describe(aws_retry=True, **{id_argument: request_id}, **(describe_kwargs or {}))[status_key]
            statuses[request_id] = status
            if status.get("Status") not in ASYNC_FINAL:
                still.append(request_id)
        pending = still
        if not pending or time.monotonic() + poll > deadline:
            break
        time.sleep(poll)
    return statuses


# The option every instance-scoped module takes (documented by the idfed.aws_sso._identity_center fragment).
INSTANCE_ARGUMENT_SPEC = dict(instance_arn=dict(type="str"))
