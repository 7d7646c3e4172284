#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: account_assignment
short_description: Assign IAM Identity Center users and groups to AWS accounts through permission sets, in bulk
version_added: 0.2.0
description:
  - Makes a list of account assignments (a user or group, a permission set, an AWS account) present or absent in
    one module run, and with O(exclusive) removes every assignment of a scope that the list does not hold.
  - Every name is resolved and every entry checked before anything is written; an unknown user, group or
    permission set, a malformed ARN or account id, or the same assignment listed twice fails the task with
    nothing changed.
  - The existing assignments are read per account and permission set (C(ListAccountAssignments)), so only what
    differs is written and a second run sends no write.
  - The API is asynchronous. The module keeps at most 10 requests outstanding (the Identity Center quota for
    assignment creation), sending the next one as soon as one finishes, follows each one to C(SUCCEEDED) or
    C(FAILED), and reports every failure with the reason AWS gives. C(ThrottlingException) and
    C(ConflictException) (another operation on the same assignment or permission set in progress) are retried
    with jittered backoff.
  - Creations run before deletions, so replacing one assignment with another never leaves a gap in access.
author:
  - idfed.aws_sso maintainers (@idfed)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - idfed.aws_sso._identity_center
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads and resolves everything, writes nothing; RV(created) and RV(deleted) are what would be done.
  diff_mode:
    support: full
    details: The set of assignments read, before and after.
  platform:
    platforms: posix
requirements:
  - python >= 3.10
  - boto3 >= 1.34.0
  - botocore >= 1.34.0
options:
  assignments:
    description:
      - The account assignments to make present or absent. Each one is unique; listing the same assignment twice
        (also once by name and once by id) is an error.
    type: list
    elements: dict
    default: []
    suboptions:
      principal_type:
        description: Whether O(assignments[].principal) is a user or a group.
        type: str
        choices: [USER, GROUP]
        required: true
      principal:
        description:
          - The user (by user name) or group (by display name) in the instance's identity store, or its id.
        type: str
        required: true
      permission_set:
        description: Name or ARN of a permission set of the instance.
        type: str
        required: true
      account_id:
        description: The AWS account, 12 digits. Quote it in YAML, or an id with leading zeros loses them.
        type: str
        required: true
  state:
    description:
      - V(present) creates the listed assignments that do not exist yet.
      - V(absent) deletes the listed assignments that exist.
    type: str
    choices: [present, absent]
    default: present
  exclusive:
    description:
      - With O(state=present), a scope in which the list is the whole truth. Every existing assignment inside the
        scope that O(assignments) does not list is deleted. Listed assignments outside the scope are created as
        usual, and nothing outside the scope is deleted.
      - The scope is every assignment whose permission set is one of O(exclusive.permission_sets) (when given)
        and whose account is one of O(exclusive.account_ids) (when given); at least one of the two is required.
      - With O(exclusive.permission_sets) alone, the scope covers every account those permission sets are
        provisioned to (C(ListAccountsForProvisionedPermissionSet)); with O(exclusive.account_ids) alone, every
        permission set provisioned to those accounts (C(ListPermissionSetsProvisionedToAccount)).
      - An empty O(assignments) with a scope removes every assignment in it.
    type: dict
    suboptions:
      permission_sets:
        description: Names or ARNs of permission sets.
        type: list
        elements: str
      account_ids:
        description: AWS account ids, 12 digits each.
        type: list
        elements: str
  wait_timeout:
    description:
      - Seconds to wait for all requests to finish. Requests still in progress then, or not yet sent, are reported
        in RV(failures) and fail the task; a re-run picks up from what AWS then holds.
    type: int
    default: 600
notes:
  - Account ids are checked for their form only; an account outside the organization makes the request fail,
    with the reason AWS gives.
  - Permission sets are found by listing the instance's permission sets and describing them until every name
    given is found (the API has no look-up by name); users and groups with C(GetUserId) and C(GetGroupId).
seealso:
  - module: idfed.aws_sso.permission_set
  - name: Account assignments
    description: IAM Identity Center user guide, single sign-on access to AWS accounts.
    link: https://docs.aws.amazon.com/singlesignon/latest/userguide/useraccess.html
"""

EXAMPLES = r"""
- name: Give the platform team admin access and the auditors read-only access to two accounts
  idfed.aws_sso.account_assignment:
    assignments:
      - {principal_type: GROUP, principal: platform, permission_set: Admin, account_id: "111122223333"}
      - {principal_type: GROUP, principal: platform, permission_set: Admin, account_id: "444455556666"}
      - {principal_type: GROUP, principal: auditors, permission_set: Auditor, account_id: "111122223333"}
      - {principal_type: GROUP, principal: auditors, permission_set: Auditor, account_id: "444455556666"}
      - {principal_type: USER, principal: ada@example.com, permission_set: Admin, account_id: "111122223333"}
  register: granted

- name: The access matrix kept in a YAML file next to the playbook (a list of the same four keys)
  idfed.aws_sso.account_assignment:
    assignments: "{{ lookup('ansible.builtin.file', 'access/assignments.yml') | from_yaml }}"

- name: Admin is granted exactly as listed; every other Admin assignment, in any account, is removed
  idfed.aws_sso.account_assignment:
    assignments:
      - {principal_type: GROUP, principal: platform, permission_set: Admin, account_id: "111122223333"}
    exclusive:
      permission_sets: [Admin]

- name: The sandbox account holds only what is listed here, whatever the permission set
  idfed.aws_sso.account_assignment:
    assignments:
      - {principal_type: GROUP, principal: developers, permission_set: Developer, account_id: "777788889999"}
    exclusive:
      account_ids: ["777788889999"]

- name: Remove every assignment of a permission set before deleting it
  idfed.aws_sso.account_assignment:
    assignments: []
    exclusive:
      permission_sets: [Legacy]

- name: Revoke one user's access
  idfed.aws_sso.account_assignment:
    state: absent
    assignments:
      - {principal_type: USER, principal: leaver@example.com, permission_set: Admin, account_id: "111122223333"}
"""

RETURN = r"""
created:
  description: The assignments created (in check mode, that would be created).
  returned: always
  type: list
  elements: dict
  contains:
    account_id:
      description: The AWS account.
      type: str
    permission_set:
      description: Name of the permission set.
      type: str
    permission_set_arn:
      description: ARN of the permission set.
      type: str
    principal_type:
      description: C(USER) or C(GROUP).
      type: str
    principal:
      description: User name or group display name; the id for a principal the task had no reason to look up.
      type: str
    principal_id:
      description: Id of the user or group in the identity store.
      type: str
    request_id:
      description: Id of the creation request (not in check mode).
      type: str
  sample:
    - account_id: "111122223333"
      permission_set: Admin
      permission_set_arn: arn:aws:sso:::permissionSet/ssoins-72230ea0bc8a4b9c/ps-2f3c4d5e6a7b8c9d
      principal_type: GROUP
      principal: platform
      principal_id: 94482488-3041-7026-18f3-be45837cd0e4
      request_id: 6e1f4a2b-7c3d-4e5f-8a9b-0c1d2e3f4a5b
deleted:
  description: The assignments deleted (in check mode, that would be deleted), with the keys of RV(created).
  returned: always
  type: list
  elements: dict
failures:
  description:
    - The requests that failed, with the keys of RV(created), the C(operation) (C(create) or C(delete)) and the
      C(reason) AWS gave (or that the request was still in progress at O(wait_timeout)). The task fails when this
      is not empty.
  returned: always
  type: list
  elements: dict
  sample:
    - operation: create
      account_id: "111122223333"
      permission_set: Developer
      permission_set_arn: arn:aws:sso:::permissionSet/ssoins-72230ea0bc8a4b9c/ps-3a4b5c6d7e8f9a0b
      principal_type: GROUP
      principal: developers
      principal_id: 94482488-3041-7026-18f3-be45837cd0e4
      request_id: 6e1f4a2b-7c3d-4e5f-8a9b-0c1d2e3f4a5b
      reason: "Received a 404 status error: Not supported policy arn:aws:iam::111122223333:policy/DeveloperBase."
counts:
  description: How many assignments were created, deleted, failed, and were already as asked (unchanged).
  returned: always
  type: dict
  sample: {created: 4, deleted: 1, failed: 0, unchanged: 21}
outcome:
  description: C(updated) when an assignment was created or deleted, else C(unchanged).
  returned: always
  type: str
  sample: updated
before:
  description:
    - Under the key C(assignments), the existing assignments of every account and permission set pair that
      O(assignments) and the O(exclusive) scope cover, sorted, each with the keys of RV(created) but C(request_id).
  returned: always
  type: dict
after:
  description: The same set after the task (predicted in check mode).
  returned: always
  type: dict
diff:
  description: RV(before) and RV(after).
  returned: in diff mode
  type: dict
"""

from dataclasses import dataclass

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError
except ImportError:
    pass  # AnsibleAWSModule reports the missing library

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.idfed.aws_sso.plugins.module_utils._aws.identity_center import INSTANCE_ARGUMENT_SPEC
from ansible_collections.idfed.aws_sso.plugins.module_utils._aws.identity_center import PRINCIPAL_ID
from ansible_collections.idfed.aws_sso.plugins.module_utils._aws.identity_center import IdentityCenterError
from ansible_collections.idfed.aws_sso.plugins.module_utils._aws.identity_center import IdentityCenterErrorHandler
from ansible_collections.idfed.aws_sso.plugins.module_utils._aws.identity_center import PermissionSets
from ansible_collections.idfed.aws_sso.plugins.module_utils._aws.identity_center import check_account_id
from ansible_collections.idfed.aws_sso.plugins.module_utils._aws.identity_center import check_permission_set_reference
from ansible_collections.idfed.aws_sso.plugins.module_utils._aws.identity_center import find_group_id
from ansible_collections.idfed.aws_sso.plugins.module_utils._aws.identity_center import find_instance
from ansible_collections.idfed.aws_sso.plugins.module_utils._aws.identity_center import find_user_id
from ansible_collections.idfed.aws_sso.plugins.module_utils._aws.identity_center import list_all
from ansible_collections.idfed.aws_sso.plugins.module_utils._aws.identity_center import run_in_window
from ansible_collections.idfed.aws_sso.plugins.module_utils._aws.identity_center import clients
from ansible_collections.idfed.aws_sso.plugins.module_utils._state import Spec
from ansible_collections.idfed.aws_sso.plugins.module_utils._state import plan
from ansible_collections.idfed.aws_sso.plugins.module_utils._state import report

LIBRARIES = ("boto3", "botocore")

SPEC = Spec(sets=("assignments",))
CREATE = "create"
DELETE = "delete"


@dataclass(frozen=True, order=True)
class Key:
    """One account assignment as the API knows it."""

    account_id: str
    permission_set_arn: str
    principal_type: str
    principal_id: str


# ---------------------------------------------------------------- input checks (no call)


def check_input(params: dict) -> list[str]:
    """Every problem the options show without asking AWS."""
    problems = []
    seen: dict[tuple, int] = {}
    for index, item in enumerate(params["assignments"]):
        where = "assignments[{0}]".format(index)
        problems.extend(filter(None, (check_account_id(item["account_id"], where + ".account_id"),
                                      check_permission_set_reference(item["permission_set"], where + ".permission_set"))))
        if not item["principal"].strip():
            problems.append("{0}.principal is empty.".format(where))
        literal = (item["principal_type"], item["principal"], item["permission_set"], item["account_id"])
        if literal in seen:
            problems.append("{0} repeats assignments[{1}]; list each assignment once.".format(where, seen[literal]))
        seen.setdefault(literal, index)
    exclusive = params["exclusive"]
    if exclusive is not None:
        problems.extend(_scope_problems(exclusive, params["state"]))
    return problems


def _scope_problems(exclusive: dict, state: str) -> list[str]:
    problems = []
    if state != "present":
        problems.append("exclusive removes what is not listed, so it goes with state: present only.")
    if not exclusive["permission_sets"] and not exclusive["account_ids"]:
        problems.append("exclusive needs permission_sets, account_ids or both: they bound what it may delete.")
    for index, account in enumerate(exclusive["account_ids"] or []):
        problems.extend(filter(None, [check_account_id(account, "exclusive.account_ids[{0}]".format(index))]))
    for index, reference in enumerate(exclusive["permission_sets"] or []):
        problems.extend(filter(None, [check_permission_set_reference(reference, "exclusive.permission_sets[{0}]".format(index))]))
    return problems


# ---------------------------------------------------------------- names and ids


class Directory:
    """Names to ids and back, each looked up once: permission sets, users and groups."""

    def __init__(self, sso_admin, identitystore, instance: dict) -> None:
        self.permission_sets = PermissionSets(sso_admin, instance["InstanceArn"])
        self.identitystore = identitystore
        self.store_id = instance["IdentityStoreId"]
        self.principal_names: dict[tuple[str, str], str] = {}  # (type, id) -> user name or display name
        self._principal_ids: dict[tuple[str, str], str | None] = {}  # (type, name or id) -> id

    def permission_set_arn(self, reference: str) -> str | None:
        found = self.permission_sets.resolve(reference)
        return found["PermissionSetArn"] if found else None

    def permission_set_name(self, arn: str) -> str:
        found = self.permission_sets.by_arn(arn)
        return found["Name"] if found else arn

    def principal_id(self, principal_type: str, reference: str) -> str | None:
        key = (principal_type, reference)
        if key not in self._principal_ids:
            self._principal_ids[key] = self._look_up(principal_type, reference)
        return self._principal_ids[key]

    def principal_name(self, principal_type: str, principal_id: str) -> str:
        """The name to show for a principal found in AWS (described when no entry named it)."""
        if (principal_type, principal_id) not in self.principal_names:
            self._describe(principal_type, principal_id)
        return self.principal_names.get((principal_type, principal_id), principal_id)

    def _look_up(self, principal_type: str, reference: str) -> str | None:
        if PRINCIPAL_ID.match(reference):
            return reference if self._describe(principal_type, reference) else None
        finder = find_user_id if principal_type == "USER" else find_group_id
        found = finder(self.identitystore, self.store_id, reference)
        if found:
            self.principal_names[(principal_type, found)] = reference
        return found

    @IdentityCenterErrorHandler.common_error_handler("describe a user or group")
    def _describe(self, principal_type: str, principal_id: str) -> dict | None:
        try:
            if principal_type == "USER":
                described = self.identitystore.describe_user(aws_retry=True, IdentityStoreId=self.store_id, UserId=principal_id)
            else:
                described = self.identitystore.describe_group(aws_retry=True, IdentityStoreId=self.store_id, GroupId=principal_id)
        except is_boto3_error_code("ResourceNotFoundException"):
            return None
        self.principal_names[(principal_type, principal_id)] = described["UserName" if principal_type == "USER" else "DisplayName"]
        return described

    def shown(self, key: Key) -> dict:
        return {
            "account_id": key.account_id,
            "permission_set": self.permission_set_name(key.permission_set_arn),
            "permission_set_arn": key.permission_set_arn,
            "principal_type": key.principal_type,
            "principal": self.principal_names.get((key.principal_type, key.principal_id), key.principal_id),
            "principal_id": key.principal_id,
        }


def resolve(params: dict, directory: Directory) -> tuple[list[Key], set[str], list[str]]:
    """The listed assignments and the exclusive scope's permission set ARNs, or every name that resolves to nothing."""
    problems, keys, first = [], [], {}
    for index, item in enumerate(params["assignments"]):
        where = "assignments[{0}]".format(index)
        arn = directory.permission_set_arn(item["permission_set"])
        principal_id = directory.principal_id(item["principal_type"], item["principal"])
        if arn is None:
            problems.append(_unknown_permission_set(directory, item["permission_set"], where + ".permission_set"))
        if principal_id is None:
            problems.append("{0}.principal: no {1} {2!r} in identity store {3}.".format(
                where, "user" if item["principal_type"] == "USER" else "group", item["principal"], directory.store_id))
        if arn is None or principal_id is None:
            continue
        key = Key(item["account_id"], arn, item["principal_type"], principal_id)
        if key in first:
            problems.append("{0} and assignments[{1}] are the same assignment (one names the principal or permission set "
                            "by id, the other by name); list it once.".format(where, first[key]))
        first.setdefault(key, index)
        keys.append(key)
    scope_arns = set()
    for index, reference in enumerate((params["exclusive"] or {}).get("permission_sets") or []):
        arn = directory.permission_set_arn(reference)
        if arn is None:
            problems.append(_unknown_permission_set(directory, reference, "exclusive.permission_sets[{0}]".format(index)))
        scope_arns.add(arn)
    return keys, scope_arns, problems


def _unknown_permission_set(directory: Directory, reference: str, where: str) -> str:
    if reference.startswith("arn:"):
        return "{0}: no permission set {1} in this instance.".format(where, reference)
    return "{0}: no permission set named {1!r} (the instance has: {2}).".format(
        where, reference, ", ".join(directory.permission_sets.names()) or "none")


# ---------------------------------------------------------------- what AWS holds


class Reader:
    """The existing assignments of each (account, permission set) pair, read once."""

    def __init__(self, sso_admin, instance_arn: str) -> None:
        self.client = sso_admin
        self.instance_arn = instance_arn
        self.pairs: dict[tuple[str, str], set[Key]] = {}

    @IdentityCenterErrorHandler.common_error_handler("list account assignments")
    def read(self, pairs: set[tuple[str, str]]) -> set[Key]:
        for account, arn in sorted(pairs - set(self.pairs)):
            self.pairs[(account, arn)] = {
                Key(item["AccountId"], item["PermissionSetArn"], item["PrincipalType"], item["PrincipalId"])
                for item in list_all(self.client.list_account_assignments, "AccountAssignments",
                                     InstanceArn=self.instance_arn, AccountId=account, PermissionSetArn=arn)}
        return set().union(*self.pairs.values())

    @IdentityCenterErrorHandler.common_error_handler("list where permission sets are provisioned")
    def scope_pairs(self, scope_arns: set[str], accounts: set[str]) -> set[tuple[str, str]]:
        """The (account, permission set) pairs the exclusive scope covers."""
        if scope_arns and accounts:
            return {(account, arn) for account in accounts for arn in scope_arns}
        if scope_arns:
            return {(account, arn) for arn in scope_arns for account in list_all(
                self.client.list_accounts_for_provisioned_permission_set, "AccountIds",
                InstanceArn=self.instance_arn, PermissionSetArn=arn)}
        return {(account, arn) for account in accounts for arn in list_all(
            self.client.list_permission_sets_provisioned_to_account, "PermissionSets",
            InstanceArn=self.instance_arn, AccountId=account)}


def in_scope(key: Key, exclusive: dict, scope_arns: set[str]) -> bool:
    return ((not scope_arns or key.permission_set_arn in scope_arns)
            and (not exclusive["account_ids"] or key.account_id in exclusive["account_ids"]))


# ---------------------------------------------------------------- writing


class Writer:
    """Creation and deletion requests through the sliding window, each followed to its end."""

    _CALLS = {
        CREATE: ("create_account_assignment", "describe_account_assignment_creation_status",
                 "list_account_assignment_creation_status", "AccountAssignmentCreationStatus",
                 "AccountAssignmentCreationRequestId", "AccountAssignmentsCreationStatus"),
        DELETE: ("delete_account_assignment", "describe_account_assignment_deletion_status",
                 "list_account_assignment_deletion_status", "AccountAssignmentDeletionStatus",
                 "AccountAssignmentDeletionRequestId", "AccountAssignmentsDeletionStatus"),
    }

    def __init__(self, sso_admin, instance_arn: str) -> None:
        self.client = sso_admin
        self.instance_arn = instance_arn

    @IdentityCenterErrorHandler.common_error_handler("follow the account assignment requests")
    def run(self, operation: str, keys: list[Key], timeout: float) -> tuple[list[tuple], list[tuple]]:
        """(finished, unfinished) (key, status) pairs, as run_in_window returns them."""
        write, describe, listing, status_key, id_argument, list_key = self._CALLS[operation]

        def submit(key: Key) -> dict:
            try:
                return getattr(self.client, write)(
                    aws_retry=True, InstanceArn=self.instance_arn, TargetId=key.account_id, TargetType="AWS_ACCOUNT",
                    PermissionSetArn=key.permission_set_arn, PrincipalType=key.principal_type,
                    PrincipalId=key.principal_id)[status_key]
            except (BotoCoreError, ClientError) as err:  # refused outright: reported like a request that FAILED
                return {"Status": "FAILED", "FailureReason": _error_text(err)}

        def follow(_key: Key, request_id: str) -> dict:
            return getattr(self.client, describe)(aws_retry=True, InstanceArn=self.instance_arn,
                                                  **{id_argument: request_id})[status_key]

        def in_progress() -> set[str]:
            return {item["RequestId"] for item in list_all(getattr(self.client, listing), list_key,
                                                           InstanceArn=self.instance_arn, Filter={"Status": "IN_PROGRESS"})}

        return run_in_window(keys, submit=submit, describe=follow, in_progress=in_progress, timeout=timeout)


def _error_text(err) -> str:
    if isinstance(err, ClientError):
        error = err.response.get("Error", {})
        return "{0}: {1}".format(error.get("Code", "Error"), error.get("Message", ""))
    return str(err)


# ---------------------------------------------------------------- the task


def main() -> None:
    argument_spec = dict(
        assignments=dict(type="list", elements="dict", default=[], options=dict(
            principal_type=dict(type="str", choices=["USER", "GROUP"], required=True),
            principal=dict(type="str", required=True),
            permission_set=dict(type="str", required=True),
            account_id=dict(type="str", required=True),
        )),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        exclusive=dict(type="dict", options=dict(permission_sets=dict(type="list", elements="str"),
                                                 account_ids=dict(type="list", elements="str"))),
        wait_timeout=dict(type="int", default=600),
        **INSTANCE_ARGUMENT_SPEC,
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    problems = check_input(module.params)
    if problems:
        module.fail_json(msg="Invalid assignments, nothing was changed: " + " ".join(problems))
    try:
        run(module)
    except IdentityCenterError as err:
        module.fail_json_aws_error(err)


def run(module: AnsibleAWSModule) -> None:
    params = module.params
    sso_admin, identitystore = clients(module)
    instance = find_instance(sso_admin, params["instance_arn"])
    directory = Directory(sso_admin, identitystore, instance)
    wanted, scope_arns, problems = resolve(params, directory)
    if problems:
        module.fail_json(msg="Nothing was changed: " + " ".join(problems))

    reader = Reader(sso_admin, instance["InstanceArn"])
    exclusive = params["exclusive"]
    pairs = {(key.account_id, key.permission_set_arn) for key in wanted}
    if exclusive:
        pairs |= reader.scope_pairs(scope_arns, set(exclusive["account_ids"] or []))
    existing = reader.read(pairs)
    if params["state"] == "present":
        to_create = [key for key in wanted if key not in existing]
        to_delete = sorted(key for key in existing if exclusive and in_scope(key, exclusive, scope_arns) and key not in wanted)
    else:
        to_create, to_delete = [], [key for key in wanted if key in existing]
    for key in to_delete:
        directory.principal_name(key.principal_type, key.principal_id)

    planned = plan(SPEC, shown_set(directory, existing), shown_set(directory, (existing - set(to_delete)) | set(to_create)))
    if module.check_mode:
        result = dict(report(module, SPEC, planned).as_dict(),
                      created=[directory.shown(key) for key in to_create], deleted=[directory.shown(key) for key in to_delete],
                      failures=[])
    else:
        writer = Writer(sso_admin, instance["InstanceArn"])
        result = write(module, writer, directory, existing, to_create, to_delete)
    done_already = len(wanted) - len(to_create if params["state"] == "present" else to_delete)
    result["counts"] = dict(created=len(result["created"]), deleted=len(result["deleted"]), failed=len(result["failures"]),
                            unchanged=done_already)
    if result["failures"]:
        module.fail_json(msg=failure_message(result["failures"], params["wait_timeout"]), **result)
    module.exit_json(**result)


def shown_set(directory: Directory, keys) -> dict:
    return {"assignments": [directory.shown(key) for key in sorted(keys)]}


def write(module: AnsibleAWSModule, writer: Writer, directory: Directory, existing: set[Key], to_create: list[Key],
          to_delete: list[Key]) -> dict:
    """Send the requests; the result keys with what AWS now holds (a failed request changes nothing)."""
    timeout = module.params["wait_timeout"]
    done: dict[str, list[dict]] = {CREATE: [], DELETE: []}
    failures: list[dict] = []
    for operation, keys in ((CREATE, to_create), (DELETE, to_delete)):
        if not keys:
            continue
        finished, unfinished = writer.run(operation, keys, timeout)
        for key, status in finished:
            entry = dict(directory.shown(key), request_id=status.get("RequestId"))
            if status["Status"] == "SUCCEEDED":
                done[operation].append(entry)
            else:
                failures.append(dict(entry, operation=operation, reason=status.get("FailureReason", "no reason given")))
        failures.extend(dict(directory.shown(key), operation=operation, request_id=(status or {}).get("RequestId"),
                             reason="still in progress when wait_timeout passed" if status else "not sent before wait_timeout passed")
                        for key, status in unfinished)
    created = {_key_of(entry) for entry in done[CREATE]}
    deleted = {_key_of(entry) for entry in done[DELETE]}
    actual = plan(SPEC, shown_set(directory, existing), shown_set(directory, (existing - deleted) | created))
    return dict(report(module, SPEC, actual).as_dict(), created=done[CREATE], deleted=done[DELETE], failures=failures)


def _key_of(entry: dict) -> Key:
    return Key(entry["account_id"], entry["permission_set_arn"], entry["principal_type"], entry["principal_id"])


def failure_message(failures: list[dict], timeout: int) -> str:
    lines = ["{operation} {principal_type} {principal} -> {permission_set} in {account_id}: {reason}".format(**item)
             for item in failures]
    return ("{0} account assignment request(s) did not succeed (see failures; wait_timeout is {1} s). Fix the cause and "
            "re-run: what succeeded is kept, and only what is missing is sent again. {2}".format(
                len(failures), timeout, "; ".join(lines)))


if __name__ == "__main__":
    main()
