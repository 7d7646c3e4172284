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

# AWSRetry retries "Throttling" (IAM and the query APIs) and the 5xx codes, but not "ThrottlingException", the code
# sso-admin and identitystore answer (their botocore models), so it is named here. sso-admin also answers
# ConflictException while a permission set is being provisioned: the write was refused, not applied, so repeating it
# is safe. identitystore's ConflictException means a name is taken: never retried.
SSO_ADMIN_RETRY = AWSRetry.jittered_backoff(retries=10, delay=1, max_delay=20,
                                            catch_extra_error_codes=["ThrottlingException", "ConflictException"])
IDENTITY_STORE_RETRY = AWSRetry.jittered_backoff(retries=10, delay=1, max_delay=20,
                                                 catch_extra_error_codes=["ThrottlingException"])
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
    return list_all(sso_admin.list_instances, "Instances")


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


# ---------------------------------------------------------------- identity store look-ups
# (appended for identity_store_user and identity_store_group; identity_store_sync may share them)

# The option of every identity-store module; identity_store_of() reads it together with instance_arn.
IDENTITY_STORE_ARGUMENT_SPEC = dict(identity_store_id=dict(type="str"), **INSTANCE_ARGUMENT_SPEC)


def identity_store_of(module, sso_admin) -> str:
    """The identity store to work in: identity_store_id when set (checked here, no call), else the instance's."""
    store_id = module.params.get("identity_store_id")
    if store_id is None:
        return find_instance(sso_admin, module.params.get("instance_arn"))["IdentityStoreId"]
    if not IDENTITY_STORE_ID.match(store_id):
        raise IdentityCenterError(message="identity_store_id {0!r} is not an identity store id (d-0123456789, ten hex "
                                          "digits after d-).".format(store_id))
    return store_id


def _find_id(call, store_id: str, attribute_path: str, value: str, id_key: str) -> str | None:
    """GetUserId/GetGroupId by a unique attribute; None when nothing has that value.

    Both answer ResourceNotFoundException for an unknown identity store too: that one is raised, not taken for
    "no such user", or a module would go on to create in a store that does not exist.
    """
    try:
        found = call(aws_retry=True, IdentityStoreId=store_id,
                     AlternateIdentifier={"UniqueAttribute": {"AttributePath": attribute_path, "AttributeValue": value}})
    except is_boto3_error_code("ResourceNotFoundException") as error:
        if error.response.get("ResourceType") == "IDENTITY_STORE":
            raise
        return None
    return found[id_key]


@IdentityCenterErrorHandler.common_error_handler("look up a user by user name")
def find_user_id(identitystore, store_id: str, user_name: str) -> str | None:
    """The id of the user with this user name (GetUserId; ListUsers filters are deprecated), or None."""
    return _find_id(identitystore.get_user_id, store_id, "userName", user_name, "UserId")


@IdentityCenterErrorHandler.common_error_handler("look up a group by display name")
def find_group_id(identitystore, store_id: str, display_name: str) -> str | None:
    """The id of the group with this display name (GetGroupId), or None."""
    return _find_id(identitystore.get_group_id, store_id, "displayName", display_name, "GroupId")


# ---------------------------------------------------------------- permission sets and asynchronous writes
# (appended for permission_set and account_assignment)

PERMISSION_SET_NAME = re.compile(r"^[\w+=,.@-]{1,32}$")
ASSIGNMENT_QUOTA = 10  # outstanding CreateAccountAssignment requests per instance (IAM Identity Center quotas)
_FIRST_POLL, _LONGEST_POLL = 0.25, 4.0  # seconds between status rounds: short at first, doubling while none finish


def check_permission_set_reference(value: str, where: str) -> str | None:
    """A permission set is named by its name or its ARN; anything else is refused before any call."""
    if value.startswith("arn:"):
        if PERMISSION_SET_ARN.match(value):
            return None
        return ("{0}: {1!r} is not a permission set ARN (arn:aws:sso:::permissionSet/ssoins-<16 characters>/"
                "ps-<16 characters>).".format(where, value))
    if PERMISSION_SET_NAME.match(value):
        return None
    return ("{0}: {1!r} is neither a permission set name (1 to 32 letters, digits and +=,.@_-) nor a permission set "
            "ARN.".format(where, value))


class PermissionSets:
    """The permission sets of one instance by name and by ARN, read at most once per module run.

    The API has no look-up by name: ListPermissionSets gives ARNs and DescribePermissionSet the name, so
    permission sets are described one by one only until the wanted name turns up, and each is kept.
    """

    def __init__(self, sso_admin, instance_arn: str) -> None:
        self._client = sso_admin
        self._instance_arn = instance_arn
        self._described: dict[str, dict] = {}  # ARN -> DescribePermissionSet's PermissionSet
        self._unread: list[str] | None = None  # listed ARNs not described yet; None until listed

    def by_name(self, name: str) -> dict | None:
        found = self._named(name)
        while found is None and self._unlisted():
            self.by_arn(self._unread[0])
            found = self._named(name)
        return found

    def by_arn(self, arn: str) -> dict | None:
        if arn not in self._described:
            described = self._describe(arn)
            if described is None:
                return None
            self._described[arn] = described
        if self._unread and arn in self._unread:
            self._unread.remove(arn)
        return self._described[arn]

    def resolve(self, reference: str) -> dict | None:
        """The permission set a name or ARN refers to (check_permission_set_reference first), or None."""
        return self.by_arn(reference) if reference.startswith("arn:") else self.by_name(reference)

    def names(self) -> list[str]:
        """Every permission set name of the instance (for an error message: it describes them all)."""
        while self._unlisted():
            self.by_arn(self._unread[0])
        return sorted(item["Name"] for item in self._described.values())

    def _named(self, name: str) -> dict | None:
        return next((item for item in self._described.values() if item["Name"] == name), None)

    def _unlisted(self) -> list[str]:
        if self._unread is None:
            self._unread = [arn for arn in self._list() if arn not in self._described]
        return self._unread

    @IdentityCenterErrorHandler.common_error_handler("list the permission sets")
    def _list(self) -> list[str]:
        return list_all(self._client.list_permission_sets, "PermissionSets", InstanceArn=self._instance_arn)

    @IdentityCenterErrorHandler.list_error_handler("describe a permission set")
    def _describe(self, arn: str) -> dict:
        return self._client.describe_permission_set(aws_retry=True, InstanceArn=self._instance_arn,
                                                    PermissionSetArn=arn)["PermissionSet"]


def run_in_window(jobs: list, *, submit, describe, in_progress=None, timeout: float, limit: int = ASSIGNMENT_QUOTA,
                  clock=time.monotonic, sleep=time.sleep) -> tuple[list[tuple], list[tuple]]:
    """Run asynchronous requests keeping at most `limit` outstanding: a sliding window, where the next request
    goes out as soon as one finishes (CreateAccountAssignment allows 10 outstanding per instance).

    submit(job) and describe(job, request_id) return the request's status ({"RequestId", "Status", ...}).
    in_progress(), when given, returns the ids the service lists IN_PROGRESS: a round then costs one list call
    and describes only the requests that left that list, since every call counts against the same rate limit.
    Returns (finished, unfinished) as (job, last status) pairs; unfinished holds what the deadline caught
    IN_PROGRESS, and (job, None) for a job never submitted.
    """
    deadline = clock() + timeout
    queue = list(jobs)
    outstanding: dict[str, tuple] = {}
    finished: list[tuple] = []
    pause = _FIRST_POLL
    while queue or outstanding:
        while queue and len(outstanding) < limit and clock() < deadline:
            job = queue.pop(0)
            status = submit(job)
            if status.get("Status") in ASYNC_FINAL:
                finished.append((job, status))
            else:
                outstanding[status["RequestId"]] = (job, status)
        remaining = deadline - clock()
        if not outstanding or remaining <= 0:
            break
        sleep(min(pause, remaining))
        done = _poll_window(outstanding, describe, in_progress)
        finished.extend(done)
        pause = _FIRST_POLL if done else min(pause * 2, _LONGEST_POLL)
    return finished, list(outstanding.values()) + [(job, None) for job in queue]


def _poll_window(outstanding: dict[str, tuple], describe, in_progress) -> list[tuple]:
    listed = in_progress() if in_progress is not None else set()
    done = []
    for request_id in [key for key in outstanding if key not in listed]:
        job = outstanding[request_id][0]
        status = describe(job, request_id)
        if status.get("Status") in ASYNC_FINAL:
            done.append((job, status))
            del outstanding[request_id]
        else:
            outstanding[request_id] = (job, status)
    return done


# Every list call these modules use takes MaxResults 1 to 100 (botocore's models), except ListTagsForResource.
MAX_RESULTS = 100


def list_all(method, result_key: str, *, max_results: int | None = MAX_RESULTS, **kwargs) -> list:
    """Every item of a paginated list call, each page through the retrying client (aws_retry=True).

    Not botocore's paginator: amazon.aws's retry wrapper leaves it unwrapped, so a throttled page would fail after
    botocore's own few attempts. max_results=None for a call without MaxResults (ListTagsForResource).
    """
    items: list = []
    token = None
    page_size = {} if max_results is None else {"MaxResults": max_results}
    while True:
        page = method(aws_retry=True, **page_size, **kwargs, **({"NextToken": token} if token else {}))
        items.extend(page.get(result_key, []))
        token = page.get("NextToken")
        if not token:
            return items


def primary_email(emails: list[dict] | None) -> str | None:
    """The address marked primary, else the first one (the one Identity Center shows)."""
    emails = emails or []
    chosen = next((item for item in emails if item.get("Primary")), emails[0] if emails else {})
    return chosen.get("Value")


def with_primary_email(emails: list[dict] | None, address: str) -> list[dict]:
    """The user's address list with the primary (or first) address replaced; the other addresses stay."""
    emails = [dict(item) for item in emails or []]
    if not emails:
        return [{"Value": address, "Type": "work", "Primary": True}]
    index = next((position for position, item in enumerate(emails) if item.get("Primary")), 0)
    emails[index]["Value"] = address
    return emails
