#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: permission_set
short_description: Manage an IAM Identity Center permission set, and keep the accounts it is provisioned to current
version_added: 0.2.0
description:
  - Creates, updates in place or deletes one permission set of an IAM Identity Center instance, found by its O(name)
    (unique within the instance). A permission set is never deleted and recreated to change it, since its ARN is
    what account assignments point at.
  - Manages its description, session duration, relay state, inline policy, AWS managed policies, customer managed
    policy references, permissions boundary and tags. An option left unset leaves that part as it is.
  - When a change reaches a permission set that is provisioned to accounts, the module re-provisions it to all of
    them (C(ProvisionPermissionSet) to C(ALL_PROVISIONED_ACCOUNTS)) and waits for the result, since Identity Center
    leaves the accounts on the old version until then. An account still on an older version (a change made
    elsewhere, or an earlier provisioning that failed) is re-provisioned the same way, so a re-run converges.
  - Every option is checked before any call to AWS; a permission set that still has account assignments is not
    deleted (see O(state)).
author:
  - idfed.aws_sso maintainers (@idfed)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - amazon.aws.tags
  - idfed.aws_sso._identity_center
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads only; RV(after) is the predicted permission set.
  diff_mode:
    support: full
  platform:
    platforms: posix
requirements:
  - python >= 3.10
  - boto3 >= 1.34.0
  - botocore >= 1.34.0
options:
  name:
    description:
      - Name of the permission set, 1 to 32 letters, digits and C(+=,.@_-). It identifies the permission set
        (another name is another permission set).
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the permission set.
      - V(absent) deletes it. Identity Center refuses to delete a permission set that accounts are assigned
        through, and so does this module, before any write, naming the accounts and how many assignments each
        holds; remove them first with M(idfed.aws_sso.account_assignment).
    type: str
    choices: [present, absent]
    default: present
  description:
    description:
      - Description, 1 to 700 characters (tab, newline and the Latin-1 printable characters).
      - The API cannot remove a description once set; it can only be replaced.
    type: str
  session_duration:
    description:
      - How long a user's session in an account lasts, an ISO 8601 duration from 1 to 12 hours written with hours,
        minutes and seconds after C(PT), for example V(PT1H), V(PT90M), V(PT2H30M) or V(PT12H).
      - Compared by length, so V(PT60M) equals V(PT1H). Identity Center uses V(PT1H) when it is never set.
    type: str
  relay_state:
    description:
      - URL users land on in the account's console after signing in, up to 240 characters.
      - V("") removes it.
    type: str
  inline_policy:
    description:
      - The inline IAM policy, as a dictionary or a JSON string (up to 32,768 characters).
      - Compared by meaning, not as text; reformatted JSON or reordered statements and values are not a change.
      - V({}) or V("") removes the inline policy. A string that is not JSON is refused, naming where it fails.
    type: raw
  managed_policies:
    description:
      - ARNs of AWS managed policies to attach, for example C(arn:aws:iam::aws:policy/ReadOnlyAccess).
      - With O(purge_managed_policies=true) policies attached but not listed are detached.
    type: list
    elements: str
    aliases: [managed_policy_arns]
  purge_managed_policies:
    description:
      - Detach the AWS managed policies missing from O(managed_policies). Ignored when O(managed_policies) is unset.
    type: bool
    default: true
  customer_managed_policies:
    description:
      - Customer managed policies to reference. Each must exist, with this name and path, in every account the
        permission set is provisioned to, or provisioning fails there (the failure reason is reported).
      - With O(purge_customer_managed_policies=true) references not listed are removed.
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the IAM policy in the accounts.
        type: str
        required: true
      path:
        description: Path of the IAM policy, starting and ending with C(/).
        type: str
        default: /
  purge_customer_managed_policies:
    description:
      - Remove the customer managed policy references missing from O(customer_managed_policies). Ignored when
        O(customer_managed_policies) is unset.
    type: bool
    default: true
  permissions_boundary:
    description:
      - The permissions boundary of the roles the permission set creates in the accounts, either an AWS managed
        policy (O(permissions_boundary.managed_policy_arn)) or a customer managed policy that must exist in each
        account (O(permissions_boundary.customer_managed_policy)).
      - V({}) removes the boundary; leaving the option unset leaves the boundary as it is.
    type: dict
    suboptions:
      managed_policy_arn:
        description: ARN of an AWS managed policy, for example C(arn:aws:iam::aws:policy/PowerUserAccess).
        type: str
      customer_managed_policy:
        description: A customer managed policy by name and path.
        type: dict
        suboptions:
          name:
            description: Name of the IAM policy in the accounts.
            type: str
            required: true
          path:
            description: Path of the IAM policy, starting and ending with C(/).
            type: str
            default: /
  wait:
    description:
      - Wait until the re-provisioning the module starts has finished, and fail with the reason AWS gives when it
        fails. With V(false) the module returns at once and RV(provisioning) names the requests to follow.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for provisioning with O(wait=true); the module fails when it is still in progress then.
    type: int
    default: 600
notes:
  - Tags follow amazon.aws conventions; tag keys starting with C(aws:) are kept when O(purge_tags) removes others.
  - The permission set ARN is found by listing the instance's permission sets and describing them until the name
    matches (the API has no look-up by name).
seealso:
  - module: idfed.aws_sso.account_assignment
  - name: Permission sets
    description: IAM Identity Center user guide.
    link: https://docs.aws.amazon.com/singlesignon/latest/userguide/permissionsetsconcept.html
"""

EXAMPLES = r"""
- name: Read-only access for auditors, eight hours, with an inline deny and a boundary
  idfed.aws_sso.permission_set:
    name: Auditor
    description: Read-only access for the audit team
    session_duration: PT8H
    relay_state: https://console.aws.amazon.com/cloudtrail/home
    managed_policies:
      - arn:aws:iam::aws:policy/ReadOnlyAccess
      - arn:aws:iam::aws:policy/job-function/ViewOnlyAccess
    inline_policy:
      Version: "2012-10-17"
      Statement:
        - Sid: NoSecrets
          Effect: Deny
          Action: secretsmanager:GetSecretValue
          Resource: "*"
    permissions_boundary:
      managed_policy_arn: arn:aws:iam::aws:policy/ReadOnlyAccess
    tags:
      team: security
  register: auditor

- name: A policy kept in a file, and a customer managed policy that exists in every account
  idfed.aws_sso.permission_set:
    name: Developer
    inline_policy: "{{ lookup('ansible.builtin.file', 'policies/developer.json') }}"
    customer_managed_policies:
      - name: DeveloperBase
        path: /org/

- name: Add a managed policy without detaching the others; remove the boundary
  idfed.aws_sso.permission_set:
    name: Developer
    managed_policies:
      - arn:aws:iam::aws:policy/AWSCodeCommitPowerUser
    purge_managed_policies: false
    permissions_boundary: {}

- name: Change it, start re-provisioning, and do not wait
  idfed.aws_sso.permission_set:
    name: Developer
    session_duration: PT4H
    wait: false
  register: developer

- name: Follow the provisioning later
  ansible.builtin.command:
    argv: [aws, sso-admin, describe-permission-set-provisioning-status, --instance-arn, "{{ instance_arn }}",
           --provision-permission-set-request-id, "{{ developer.provisioning[0].request_id }}"]
  when: developer.provisioning | length > 0
  changed_when: false

- name: Delete a permission set that nothing is assigned through any more
  idfed.aws_sso.permission_set:
    name: Legacy
    state: absent
"""

RETURN = r"""
arn:
  description: ARN of the permission set; null when it does not exist (after O(state=absent), or a creation in check mode).
  returned: always
  type: str
  sample: arn:aws:sso:::permissionSet/ssoins-72230ea0bc8a4b9c/ps-2f3c4d5e6a7b8c9d
outcome:
  description: C(created), C(updated), C(deleted) or C(unchanged).
  returned: always
  type: str
  sample: updated
before:
  description: The permission set before the task, C({}) when it did not exist.
  returned: always
  type: dict
  sample: {}
after:
  description:
    - The permission set after the task (predicted in check mode), C({}) when it no longer exists.
  returned: always
  type: dict
  contains:
    name:
      description: Name of the permission set.
      type: str
    arn:
      description: ARN of the permission set (absent in a check-mode creation).
      type: str
    description:
      description: Description, C("") when there is none.
      type: str
    session_duration:
      description: Session duration, ISO 8601.
      type: str
    relay_state:
      description: Relay state URL, C("") when there is none.
      type: str
    inline_policy:
      description: The inline policy document, C({}) when there is none.
      type: dict
    managed_policies:
      description: ARNs of the attached AWS managed policies.
      type: list
      elements: str
    customer_managed_policies:
      description: Customer managed policy references (C(name), C(path)).
      type: list
      elements: dict
    permissions_boundary:
      description: C(managed_policy_arn) or C(customer_managed_policy) (C(name), C(path)); C({}) when there is none.
      type: dict
    tags:
      description: Tags.
      type: dict
    provisioned_accounts:
      description: Accounts the permission set is provisioned to (read only).
      type: list
      elements: str
    outdated_accounts:
      description: Accounts that run an older version of the permission set; the module re-provisions them.
      type: list
      elements: str
  sample:
    name: Auditor
    arn: arn:aws:sso:::permissionSet/ssoins-72230ea0bc8a4b9c/ps-2f3c4d5e6a7b8c9d
    description: Read-only access for the audit team
    session_duration: PT8H
    relay_state: ""
    inline_policy: {}
    managed_policies: [arn:aws:iam::aws:policy/ReadOnlyAccess]
    customer_managed_policies: []
    permissions_boundary: {}
    tags: {team: security}
    provisioned_accounts: ["111122223333"]
    outdated_accounts: []
diff:
  description: O(state) before and after, as RV(before) and RV(after).
  returned: in diff mode
  type: dict
provisioning:
  description:
    - The provisioning requests the task started, with their last known status. With O(wait=false) they are
      still C(IN_PROGRESS); follow them with C(DescribePermissionSetProvisioningStatus).
  returned: always
  type: list
  elements: dict
  contains:
    request_id:
      description: Request id for C(DescribePermissionSetProvisioningStatus).
      type: str
    status:
      description: C(IN_PROGRESS), C(SUCCEEDED) or C(FAILED).
      type: str
    failure_reason:
      description: Why provisioning failed, as AWS says it.
      type: str
      returned: when the status is C(FAILED)
  sample:
    - request_id: 0d3f4b1c-8a7e-4c52-9a1b-5e6f7a8b9c0d
      status: SUCCEEDED
"""

import json
import re

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags
from ansible_collections.amazon.aws.plugins.module_utils.transformation import camel_dict_to_snake_dict

from ansible_collections.idfed.aws_sso.plugins.module_utils._aws.identity_center import INSTANCE_ARGUMENT_SPEC
from ansible_collections.idfed.aws_sso.plugins.module_utils._aws.identity_center import PERMISSION_SET_NAME
from ansible_collections.idfed.aws_sso.plugins.module_utils._aws.identity_center import IdentityCenterError
from ansible_collections.idfed.aws_sso.plugins.module_utils._aws.identity_center import IdentityCenterErrorHandler
from ansible_collections.idfed.aws_sso.plugins.module_utils._aws.identity_center import PermissionSets
from ansible_collections.idfed.aws_sso.plugins.module_utils._aws.identity_center import find_instance
from ansible_collections.idfed.aws_sso.plugins.module_utils._aws.identity_center import list_all
from ansible_collections.idfed.aws_sso.plugins.module_utils._aws.identity_center import clients
from ansible_collections.idfed.aws_sso.plugins.module_utils._aws.identity_center import wait_for_requests
from ansible_collections.idfed.aws_sso.plugins.module_utils._state import Spec
from ansible_collections.idfed.aws_sso.plugins.module_utils._state import ensure

LIBRARIES = ("boto3", "botocore")

# Tags and the boundary are compared as sets (of {key, value}, of at most one reference): _state merges a dict
# key by key, which could neither drop a purged tag nor switch a boundary's kind. They are shown as dicts.
SPEC = Spec(
    sets=("managed_policies", "customer_managed_policies", "permissions_boundary", "tags", "outdated_accounts"),
    policies=("inline_policy",),
    read_only=("arn", "provisioned_accounts"),
)
ATTRIBUTES = ("description", "session_duration", "relay_state")  # what UpdatePermissionSet sets
NOT_PROVISIONED = "LATEST_PERMISSION_SET_NOT_PROVISIONED"
DEFAULT_SESSION = "PT1H"  # what Identity Center uses when CreatePermissionSet has no SessionDuration

# Patterns and limits of botocore's sso-admin model (2020-07-20).
DESCRIPTION = re.compile("^[\t\n\r\x20-\x7e\xa1-\xff]{1,700}$")
RELAY_STATE = re.compile(r"""^[a-zA-Z0-9&$@#\\/%?=~\-_'"|!:,.;*+\[\] (){}]{1,240}$""")
MANAGED_POLICY_ARN = re.compile(r"^arn:aws(-[a-z]{1,5}){0,3}:iam::aws:policy((/[A-Za-z0-9.,+@=_-]+)*)/([A-Za-z0-9.,+=@_-]+)$")
POLICY_NAME = re.compile(r"^[\w+=,.@-]{1,128}$")
POLICY_PATH = re.compile(r"^((/[A-Za-z0-9.,+@=_-]+)*)/$")
SESSION = re.compile(r"^PT(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$")
MAX_INLINE_POLICY = 32768
MIN_SESSION = 3600  # PT1H
MAX_SESSION = 43200  # PT12H


# ---------------------------------------------------------------- input checks (no call)


def session_seconds(text: str) -> int | None:
    """The length of a PT...H...M...S duration, or None for another form."""
    match = SESSION.match(text)
    if not match:
        return None
    hours, minutes, seconds = (int(group or 0) for group in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def parse_inline_policy(value) -> dict | None:
    """The inline_policy option as a document; {} means none. Raises ValueError naming where a string fails."""
    if value is None:
        return None
    if isinstance(value, str):
        if not value.strip():
            return {}
        try:
            value = json.loads(value)
        except ValueError as err:
            raise ValueError("inline_policy is not JSON: {0}.".format(err)) from None
    if not isinstance(value, dict):
        raise ValueError("inline_policy must be a policy document (a dictionary or a JSON object), not a {0}."
                         .format(type(value).__name__))
    size = len(compact_json(value))
    if size > MAX_INLINE_POLICY:
        raise ValueError("inline_policy is {0} characters as compact JSON; Identity Center takes at most {1}."
                         .format(size, MAX_INLINE_POLICY))
    return value


def compact_json(document: dict) -> str:
    """The inline policy as the module sends it."""
    return json.dumps(document, separators=(",", ":"))


def check_options(params: dict) -> list[str]:
    """Every problem with the options, before any call to AWS."""
    problems = []
    if not PERMISSION_SET_NAME.match(params["name"]):
        problems.append("name {0!r} is not a permission set name (1 to 32 letters, digits and +=,.@_-).".format(params["name"]))
    if params["description"] is not None and not DESCRIPTION.match(params["description"]):
        problems.append("description must be 1 to 700 characters (tab, newline and Latin-1 printable characters); "
                        "the API cannot remove a description, only replace it.")
    duration = params["session_duration"]
    if duration is not None and not MIN_SESSION <= (session_seconds(duration) or 0) <= MAX_SESSION:
        problems.append("session_duration {0!r} is not an ISO 8601 duration from 1 to 12 hours: write hours, minutes and "
                        "seconds after PT, for example PT1H, PT90M, PT2H30M or PT12H.".format(duration))
    if params["relay_state"] and not RELAY_STATE.match(params["relay_state"]):
        problems.append("relay_state must be a URL of at most 240 characters (letters, digits and &$@#\\/%?=~-_'\"|!:,.;*+[] (){}).")
    problems.extend(_policy_problems(params))
    problems.extend("tags: the key {0!r} starts with aws:, which AWS reserves.".format(key)
                    for key in params["tags"] or {} if str(key).lower().startswith("aws:"))
    return problems


def _policy_problems(params: dict) -> list[str]:
    problems = []
    try:
        parse_inline_policy(params["inline_policy"])
    except ValueError as err:
        problems.append(str(err))
    managed = params["managed_policies"] or []
    problems.extend("managed_policies: {0!r} is not an AWS managed policy ARN (arn:aws:iam::aws:policy/...).".format(arn)
                    for arn in managed if not MANAGED_POLICY_ARN.match(arn))
    problems.extend("managed_policies: {0} is listed twice.".format(arn) for arn in _duplicates(managed))
    customer = params["customer_managed_policies"] or []
    for index, reference in enumerate(customer):
        problems.extend(_reference_problems(reference, "customer_managed_policies[{0}]".format(index)))
    problems.extend("customer_managed_policies: {0}{1} is listed twice.".format(path, name)
                    for path, name in _duplicates([(item["path"], item["name"]) for item in customer]))
    boundary = params["permissions_boundary"] or {}
    if boundary.get("managed_policy_arn") is not None and not MANAGED_POLICY_ARN.match(boundary["managed_policy_arn"]):
        problems.append("permissions_boundary.managed_policy_arn: {0!r} is not an AWS managed policy ARN "
                        "(arn:aws:iam::aws:policy/...).".format(boundary["managed_policy_arn"]))
    if boundary.get("customer_managed_policy") is not None:
        problems.extend(_reference_problems(boundary["customer_managed_policy"], "permissions_boundary.customer_managed_policy"))
    return problems


def _reference_problems(reference: dict, where: str) -> list[str]:
    problems = []
    if not POLICY_NAME.match(reference["name"]):
        problems.append("{0}.name {1!r} is not an IAM policy name (1 to 128 letters, digits and +=,.@_-).".format(where, reference["name"]))
    if not POLICY_PATH.match(reference["path"]) or len(reference["path"]) > 512:
        problems.append("{0}.path {1!r} is not an IAM path (/ or /a/b/, at most 512 characters).".format(where, reference["path"]))
    return problems


def _duplicates(items: list) -> list:
    seen, repeated = set(), []
    for item in items:
        if item in seen and item not in repeated:
            repeated.append(item)
        seen.add(item)
    return repeated


# ---------------------------------------------------------------- the permission set as the comparison sees it


def _reference(item: dict) -> dict:
    return {"name": item["Name"], "path": item.get("Path", "/")}


def _boundary(boundary: dict | None) -> list[dict]:
    if not boundary:
        return []
    if boundary.get("ManagedPolicyArn"):
        return [{"managed_policy_arn": boundary["ManagedPolicyArn"]}]
    return [{"customer_managed_policy": _reference(boundary["CustomerManagedPolicyReference"])}]


def _wanted_boundary(option: dict) -> list[dict]:
    if option.get("managed_policy_arn"):
        return [{"managed_policy_arn": option["managed_policy_arn"]}]
    if option.get("customer_managed_policy"):
        return [{"customer_managed_policy": dict(option["customer_managed_policy"])}]
    return []


def _tag_list(tags: dict) -> list[dict]:
    return [{"key": key, "value": tags[key]} for key in sorted(tags)]


def _tag_dict(items: list[dict]) -> dict:
    return {item["key"]: item["value"] for item in items}


class Api:
    """The sso-admin calls of one permission set, each raising IdentityCenterError with what failed."""

    def __init__(self, sso_admin, instance_arn: str) -> None:
        self.client = sso_admin
        self.instance_arn = instance_arn

    def _call(self, method: str, **kwargs) -> dict:
        return getattr(self.client, method)(aws_retry=True, InstanceArn=self.instance_arn, **kwargs)

    def _list(self, method: str, key: str, **kwargs) -> list:
        return list_all(getattr(self.client, method), key, InstanceArn=self.instance_arn, **kwargs)

    @IdentityCenterErrorHandler.common_error_handler("read the permission set")
    def read(self, described: dict) -> dict:
        """The permission set as the comparison sees it (snake_case, absent parts as empty values)."""
        arn = described["PermissionSetArn"]
        inline = self._call("get_inline_policy_for_permission_set", PermissionSetArn=arn).get("InlinePolicy")
        provisioned = self._list("list_accounts_for_provisioned_permission_set", "AccountIds", PermissionSetArn=arn)
        return {
            "name": described["Name"],
            "arn": arn,
            "description": described.get("Description", ""),
            "session_duration": described.get("SessionDuration", DEFAULT_SESSION),
            "relay_state": described.get("RelayState", ""),
            "inline_policy": json.loads(inline) if inline else {},
            "managed_policies": sorted(item["Arn"] for item in self._list(
                "list_managed_policies_in_permission_set", "AttachedManagedPolicies", PermissionSetArn=arn)),
            "customer_managed_policies": [_reference(item) for item in self._list(
                "list_customer_managed_policy_references_in_permission_set", "CustomerManagedPolicyReferences",
                PermissionSetArn=arn)],
            "permissions_boundary": _boundary(self._boundary(arn)),
            "tags": _tag_list(boto3_tag_list_to_ansible_dict(list_all(
                self.client.list_tags_for_resource, "Tags", max_results=None, InstanceArn=self.instance_arn,
                ResourceArn=arn))),
            "provisioned_accounts": sorted(provisioned),
            "outdated_accounts": self.outdated(arn) if provisioned else [],
        }

    def _boundary(self, arn: str) -> dict | None:
        try:
            return self._call("get_permissions_boundary_for_permission_set", PermissionSetArn=arn)["PermissionsBoundary"]
        except is_boto3_error_code("ResourceNotFoundException"):
            return None

    @IdentityCenterErrorHandler.common_error_handler("list the accounts on an older version of the permission set")
    def outdated(self, arn: str) -> list[str]:
        return sorted(self._list("list_accounts_for_provisioned_permission_set", "AccountIds", PermissionSetArn=arn,
                                 ProvisioningStatus=NOT_PROVISIONED))

    @IdentityCenterErrorHandler.common_error_handler("read the account assignments of the permission set")
    def assignment_counts(self, arn: str, accounts: list[str]) -> dict[str, int]:
        counts = {account: len(self._list("list_account_assignments", "AccountAssignments", AccountId=account,
                                          PermissionSetArn=arn)) for account in accounts}
        return {account: count for account, count in counts.items() if count}

    @IdentityCenterErrorHandler.common_error_handler("create the permission set")
    def create(self, after: dict) -> str:
        extra = {key: value for key, value in (("Description", after.get("description")),
                                               ("SessionDuration", after.get("session_duration")),
                                               ("RelayState", after.get("relay_state"))) if value}
        if after.get("tags"):
            extra["Tags"] = ansible_dict_to_boto3_tag_list(_tag_dict(after["tags"]))
        return self._call("create_permission_set", Name=after["name"], **extra)["PermissionSet"]["PermissionSetArn"]

    @IdentityCenterErrorHandler.common_error_handler("update the permission set")
    def update(self, arn: str, before: dict, after: dict, keys: set) -> None:
        """Write what differs between before and after (keys: the top-level keys that changed)."""
        if keys & set(ATTRIBUTES):
            # UpdatePermissionSet clears the relay state when the request leaves it out.
            extra = {key: value for key, value in (("Description", after.get("description")),
                                                   ("RelayState", after.get("relay_state"))) if value}
            self._call("update_permission_set", PermissionSetArn=arn, SessionDuration=after["session_duration"], **extra)
        if "inline_policy" in keys:
            self._write_inline_policy(arn, after["inline_policy"])
        if "managed_policies" in keys:
            self._write_managed_policies(arn, before["managed_policies"], after["managed_policies"])
        if "customer_managed_policies" in keys:
            self._write_references(arn, before["customer_managed_policies"], after["customer_managed_policies"])
        if "permissions_boundary" in keys:
            self._write_boundary(arn, after["permissions_boundary"])
        if "tags" in keys:
            self._write_tags(arn, _tag_dict(before["tags"]), _tag_dict(after["tags"]))

    def _write_inline_policy(self, arn: str, document: dict) -> None:
        if document:
            self._call("put_inline_policy_to_permission_set", PermissionSetArn=arn, InlinePolicy=compact_json(document))
        else:
            self._call("delete_inline_policy_from_permission_set", PermissionSetArn=arn)

    def _write_managed_policies(self, arn: str, have: list[str], want: list[str]) -> None:
        for policy in sorted(set(want) - set(have)):
            self._call("attach_managed_policy_to_permission_set", PermissionSetArn=arn, ManagedPolicyArn=policy)
        for policy in sorted(set(have) - set(want)):
            self._call("detach_managed_policy_from_permission_set", PermissionSetArn=arn, ManagedPolicyArn=policy)

    def _write_references(self, arn: str, have: list[dict], want: list[dict]) -> None:
        have_keys, want_keys = {(i["path"], i["name"]) for i in have}, {(i["path"], i["name"]) for i in want}
        for path, name in sorted(want_keys - have_keys):
            self._call("attach_customer_managed_policy_reference_to_permission_set", PermissionSetArn=arn,
                       CustomerManagedPolicyReference={"Name": name, "Path": path})
        for path, name in sorted(have_keys - want_keys):
            self._call("detach_customer_managed_policy_reference_from_permission_set", PermissionSetArn=arn,
                       CustomerManagedPolicyReference={"Name": name, "Path": path})

    def _write_boundary(self, arn: str, boundary: list[dict]) -> None:
        if not boundary:
            self._call("delete_permissions_boundary_from_permission_set", PermissionSetArn=arn)
        elif "managed_policy_arn" in boundary[0]:
            self._call("put_permissions_boundary_to_permission_set", PermissionSetArn=arn,
                       PermissionsBoundary={"ManagedPolicyArn": boundary[0]["managed_policy_arn"]})
        else:
            reference = boundary[0]["customer_managed_policy"]
            self._call("put_permissions_boundary_to_permission_set", PermissionSetArn=arn, PermissionsBoundary={
                "CustomerManagedPolicyReference": {"Name": reference["name"], "Path": reference["path"]}})

    def _write_tags(self, arn: str, have: dict, want: dict) -> None:
        to_set, to_unset = compare_aws_tags(have, want, purge_tags=True)
        if to_unset:
            self._call("untag_resource", ResourceArn=arn, TagKeys=to_unset)
        if to_set:
            self._call("tag_resource", ResourceArn=arn, Tags=ansible_dict_to_boto3_tag_list(to_set))

    @IdentityCenterErrorHandler.common_error_handler("provision the permission set to its accounts")
    def provision(self, arn: str, wait: bool, timeout: int) -> dict:
        status = self._call("provision_permission_set", PermissionSetArn=arn,
                            TargetType="ALL_PROVISIONED_ACCOUNTS")["PermissionSetProvisioningStatus"]
        if not wait:
            return status
        request_id = status["RequestId"]
        return wait_for_requests(self.client.describe_permission_set_provisioning_status, [request_id],
                                 status_key="PermissionSetProvisioningStatus", id_argument="ProvisionPermissionSetRequestId",
                                 timeout=timeout, describe_kwargs={"InstanceArn": self.instance_arn})[request_id]

    @IdentityCenterErrorHandler.common_error_handler("delete the permission set")
    def delete(self, arn: str) -> None:
        self._call("delete_permission_set", PermissionSetArn=arn)


# ---------------------------------------------------------------- desired state


def desired_state(params: dict, before: dict | None) -> dict:
    """The permission set the options ask for; None where an option is unset (leave as is)."""
    have = before or {"managed_policies": [], "customer_managed_policies": [], "tags": []}
    desired = {
        "name": params["name"],
        "description": params["description"],
        "session_duration": _session_spelling(params["session_duration"], before),
        "relay_state": params["relay_state"],
        "inline_policy": parse_inline_policy(params["inline_policy"]),
        "managed_policies": _purged(have["managed_policies"], params["managed_policies"], params["purge_managed_policies"]),
        "customer_managed_policies": _purged(have["customer_managed_policies"], params["customer_managed_policies"],
                                             params["purge_customer_managed_policies"]),
        "permissions_boundary": None if params["permissions_boundary"] is None else _wanted_boundary(params["permissions_boundary"]),
        "tags": None if params["tags"] is None else _tag_list(_wanted_tags(_tag_dict(have["tags"]), params)),
        "outdated_accounts": [],  # every account the permission set is provisioned to runs its latest version
    }
    return desired


def _session_spelling(duration: str | None, before: dict | None) -> str | None:
    """The duration as the API spells it when both mean the same length (PT60M is PT1H)."""
    if duration is not None and before and session_seconds(before["session_duration"]) == session_seconds(duration):
        return before["session_duration"]
    return duration


def _purged(have: list, wanted: list | None, purge: bool) -> list | None:
    if wanted is None:
        return None
    wanted = [dict(item) if isinstance(item, dict) else item for item in wanted]
    return wanted if purge else have + [item for item in wanted if item not in have]


def _wanted_tags(have: dict, params: dict) -> dict:
    wanted = {str(key): str(value) for key, value in params["tags"].items()}
    to_set, to_unset = compare_aws_tags(have, wanted, purge_tags=params["purge_tags"])
    return dict({key: value for key, value in have.items() if key not in to_unset}, **to_set)


def shown(values: dict) -> dict:
    """The comparison's form as amazon.aws modules show it: tags and the boundary as dicts."""
    if not values:
        return values
    values = dict(values)
    if "tags" in values:
        values["tags"] = _tag_dict(values["tags"])
    if "permissions_boundary" in values:
        values["permissions_boundary"] = (values["permissions_boundary"] or [{}])[0]
    return values


# ---------------------------------------------------------------- the task


class Task:
    """The writers ensure() calls, and what they leave for the result."""

    def __init__(self, module: AnsibleAWSModule, api: Api) -> None:
        self.module = module
        self.api = api
        self.provisioning: list[dict] = []

    def create(self, plan) -> dict:
        after = dict(plan.after)
        arn = self.api.create(after)
        empty = {"managed_policies": [], "customer_managed_policies": [], "tags": after.get("tags", [])}
        parts = ("inline_policy", "managed_policies", "customer_managed_policies", "permissions_boundary")
        self.api.update(arn, empty, after, {key for key in parts if after.get(key)})
        return dict(after, arn=arn)

    def update(self, plan) -> dict:
        arn, keys = plan.before["arn"], set(plan.changed_keys)
        self.api.update(arn, plan.before, plan.after, keys)
        if plan.before["provisioned_accounts"] and keys - {"tags"} and self._provision(arn) != "SUCCEEDED":
            return dict(plan.after, outdated_accounts=self.api.outdated(arn))  # until provisioning succeeds
        return plan.after

    def delete(self, plan) -> None:
        self.api.delete(plan.before["arn"])

    def _provision(self, arn: str) -> str:
        params = self.module.params
        status = camel_dict_to_snake_dict(self.api.provision(arn, params["wait"], params["wait_timeout"]))
        self.provisioning.append({key: status[key] for key in ("request_id", "status", "failure_reason") if key in status})
        return status["status"]


def refuse_deleting_assigned(module: AnsibleAWSModule, api: Api, before: dict) -> None:
    """Identity Center refuses (ConflictException) to delete a permission set accounts are assigned through;
    say so before any write, with the way out."""
    counts = api.assignment_counts(before["arn"], before["provisioned_accounts"])
    if counts:
        where = ", ".join("{0} in {1}".format(count, account) for account, count in sorted(counts.items()))
        module.fail_json(msg="The permission set {0} still has account assignments ({1}); Identity Center does not delete it "
                             "until they are removed. Remove them first, for example with idfed.aws_sso.account_assignment "
                             "and exclusive: {{permission_sets: [{0}]}} listing no assignments, then re-run."
                             .format(before["name"], where))


def main() -> None:
    policy_reference = dict(name=dict(type="str", required=True), path=dict(type="str", default="/"))
    boundary_options = dict(managed_policy_arn=dict(type="str"), customer_managed_policy=dict(type="dict", options=policy_reference))
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        description=dict(type="str"),
        session_duration=dict(type="str"),
        relay_state=dict(type="str"),
        inline_policy=dict(type="raw"),
        managed_policies=dict(type="list", elements="str", aliases=["managed_policy_arns"]),
        purge_managed_policies=dict(type="bool", default=True),
        customer_managed_policies=dict(type="list", elements="dict", options=policy_reference),
        purge_customer_managed_policies=dict(type="bool", default=True),
        permissions_boundary=dict(type="dict", options=boundary_options,
                                  mutually_exclusive=[("managed_policy_arn", "customer_managed_policy")]),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=600),
        **INSTANCE_ARGUMENT_SPEC,
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    problems = check_options(module.params)
    if problems:
        module.fail_json(msg="Invalid options, nothing was changed: " + " ".join(problems))
    try:
        run(module)
    except IdentityCenterError as err:
        module.fail_json_aws_error(err)


def run(module: AnsibleAWSModule) -> None:
    params = module.params
    sso_admin = clients(module)[0]
    instance_arn = find_instance(sso_admin, params["instance_arn"])["InstanceArn"]
    api = Api(sso_admin, instance_arn)
    found = PermissionSets(sso_admin, instance_arn).by_name(params["name"])
    before = api.read(found) if found else None
    if params["state"] == "absent" and before:
        refuse_deleting_assigned(module, api, before)
    task = Task(module, api)
    result = ensure(module, SPEC, before, desired_state(params, before), state=params["state"],
                    create=task.create, update=task.update, delete=task.delete).as_dict()
    for side in ("before", "after"):
        result[side] = shown(result[side])
        if "diff" in result:
            result["diff"][side] = shown(result["diff"][side])
    result.update(arn=result["after"].get("arn"), provisioning=task.provisioning)
    failed = [item for item in task.provisioning if item["status"] != "SUCCEEDED" and params["wait"]]
    if failed:
        module.fail_json(msg=provisioning_failure(failed[0], params["wait_timeout"]), **result)
    module.exit_json(**result)


def provisioning_failure(status: dict, timeout: int) -> str:
    if status["status"] == "FAILED":
        return ("The permission set was changed, but provisioning it to its accounts failed: {0} Fix the cause (for "
                "example create the customer managed policy in that account) and re-run: the module re-provisions every "
                "account still on an older version.".format(status.get("failure_reason", "no reason given.")))
    return ("The permission set was changed, but provisioning it to its accounts was still in progress after {0} "
            "seconds (request {1}). Raise wait_timeout, or follow the request with "
            "DescribePermissionSetProvisioningStatus.".format(timeout, status["request_id"]))


if __name__ == "__main__":
    main()
