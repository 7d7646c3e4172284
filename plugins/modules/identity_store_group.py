#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: identity_store_group
short_description: Create, update or delete a group and its members in the IAM Identity Center identity store
version_added: 0.2.0
description:
  - Manages one group of the IAM Identity Center identity store, keyed by its O(display_name), with its description
    and its members (users, by user name).
  - The group is looked up by display name (C(GetGroupId)) before anything is created, so a second run changes
    nothing and sends no write. A group that exists is changed in place (C(UpdateGroup), group memberships
    added and removed one by one); it is never deleted and created again, because its group id is what account
    assignments point at.
  - Every user named in O(members) is looked up before anything is written; an unknown user name fails the task
    with nothing changed.
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
  diff_mode:
    support: full
    details: The diff shows the group before and after, members by user name, as in RV(before) and RV(after).
  platform:
    platforms: posix
requirements:
  - python >= 3.10
  - boto3 >= 1.34.0
  - botocore >= 1.34.0
options:
  identity_store_id:
    description:
      - The identity store, C(d-) and ten hex digits (the C(IdentityStoreId) of the Identity Center instance).
      - When omitted, the identity store of the instance (see O(instance_arn)) is used. When set, O(instance_arn) is
        not used and no C(sso-admin) call is made.
    type: str
  display_name:
    description:
      - The group's name, unique in the identity store; the key the group is found by. A group cannot be renamed
        by this module.
    type: str
    required: true
  description:
    description:
      - The group's description. Leave out to keep the one the group has; an empty string removes it.
    type: str
  members:
    description:
      - User names of the users who should be members. Each must exist in the identity store (create them with
        M(idfed.aws_sso.identity_store_user) first); a name listed twice is refused.
      - Leave out to leave the membership as it is. With O(purge_members=false) the listed users are added and
        other members stay; with O(purge_members=true) the group ends up with exactly these members.
      - Not used with O(state=absent).
    type: list
    elements: str
  purge_members:
    description:
      - Remove members that O(members) does not list. Off by default, as O(amazon.aws.iam_group#module:purge_users)
        is, so that members added elsewhere (by SCIM, by another task, in the console) keep their access unless the
        task says otherwise.
      - Has no effect when O(members) is omitted. O(members=[]) with O(purge_members=true) empties the group.
    type: bool
    default: false
  state:
    description:
      - V(present) creates the group or updates it in place; V(absent) deletes it and its memberships (not its
        members).
    type: str
    choices: [present, absent]
    default: present
notes:
  - Identity store calls go to the Region of the Identity Center instance (set O(region)).
  - Account assignments made to a deleted group stay in Identity Center until they are removed
    (M(idfed.aws_sso.account_assignment) with O(state=absent)).
  - For many groups at once, M(idfed.aws_sso.identity_store_sync) reads and writes in fewer calls.
seealso:
  - module: idfed.aws_sso.identity_store_user
  - module: amazon.aws.iam_group
    description: The IAM group module whose O(amazon.aws.iam_group#module:purge_users) default this module follows.
"""

EXAMPLES = r"""
- name: A group with two members (other members, if any, stay)
  idfed.aws_sso.identity_store_group:
    display_name: platform-admins
    description: Administrators of the platform accounts
    members:
      - ada.lovelace@example.com
      - grace.hopper@example.com
    region: eu-west-1

- name: Make the membership exactly this list
  idfed.aws_sso.identity_store_group:
    identity_store_id: d-93670c4a5b
    display_name: platform-admins
    members:
      - grace.hopper@example.com
    purge_members: true
    region: eu-west-1

- name: Change only the description
  idfed.aws_sso.identity_store_group:
    display_name: platform-admins
    description: Break-glass administrators
    region: eu-west-1

- name: Delete the group
  idfed.aws_sso.identity_store_group:
    display_name: legacy-operators
    state: absent
    region: eu-west-1
"""

RETURN = r"""
outcome:
  description: What the task did (or would do in check mode).
  returned: always
  type: str
  choices: [created, updated, deleted, unchanged]
  sample: updated
identity_store_id:
  description: The identity store worked in (given, or discovered from the instance).
  returned: always
  type: str
  sample: d-93670c4a5b
before:
  description: The group before the task, C({}) when it did not exist. Same keys as RV(after).
  returned: always
  type: dict
  sample:
    display_name: platform-admins
    group_id: 9067a1b2c3-0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d
    identity_store_id: d-93670c4a5b
    description: Administrators of the platform accounts
    members:
      - ada.lovelace@example.com
after:
  description: The group after the task (predicted in check mode), C({}) when it is absent.
  returned: always
  type: dict
  contains:
    display_name:
      description: The group's name.
      type: str
    group_id:
      description: The group id, what account assignments refer to. Unknown (absent) when check mode predicts a
        creation.
      type: str
    identity_store_id:
      description: The identity store holding the group.
      type: str
    description:
      description: The description, an empty string when there is none.
      type: str
    members:
      description: The members' user names, sorted. A member whose user could not be read is shown by user id.
      type: list
      elements: str
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.idfed.aws_sso.plugins.module_utils._aws.identity_center import (
    IDENTITY_STORE_ARGUMENT_SPEC, IdentityCenterError, IdentityCenterErrorHandler, clients, find_group_id,
    find_user_id, identity_store_of, list_all)
from ansible_collections.idfed.aws_sso.plugins.module_utils._state import Plan, Spec, ensure

LIBRARIES = ("boto3", "botocore")

SPEC = Spec(sets={"members"}, read_only={"group_id", "identity_store_id"})


class Group:
    """The group as the API has it: what before/after show, and the ids the writers need."""

    def __init__(self, described: dict, memberships: dict[str, str], names: dict[str, str]) -> None:
        self.group_id = described["GroupId"]
        self.memberships = memberships  # user id -> membership id
        self.member_names = {user_id: names.get(user_id, user_id) for user_id in memberships}
        self.view = {
            "display_name": described["DisplayName"],
            "group_id": described["GroupId"],
            "identity_store_id": described["IdentityStoreId"],
            "description": described.get("Description", ""),
            "members": sorted(self.member_names.values()),
        }


def check_input(params: dict) -> str | None:
    """What can be refused before any call."""
    if not params["display_name"]:
        return "display_name cannot be empty."
    members = params["members"] or []
    duplicates = sorted({name for name in members if members.count(name) > 1})
    if duplicates:
        return "members lists {0} more than once; list each user once.".format(", ".join(duplicates))
    if "" in members:
        return "members holds an empty user name."
    return None


def resolve_members(identitystore, store_id: str, names: list[str]) -> tuple[dict[str, str], list[str]]:
    """(user name -> user id, unknown user names), one GetUserId per name."""
    found, unknown = {}, []
    for name in names:
        user_id = find_user_id(identitystore, store_id, name)
        if user_id is None:
            unknown.append(name)
        else:
            found[name] = user_id
    return found, unknown


@IdentityCenterErrorHandler.list_error_handler("describe the group")
def describe_group(identitystore, store_id: str, group_id: str) -> dict | None:
    return identitystore.describe_group(aws_retry=True, IdentityStoreId=store_id, GroupId=group_id)


@IdentityCenterErrorHandler.common_error_handler("list the group's memberships")
def list_memberships(identitystore, store_id: str, group_id: str) -> dict[str, str]:
    """user id -> membership id (members that are groups do not exist in Identity Center)."""
    items = list_all(identitystore.list_group_memberships, "GroupMemberships", IdentityStoreId=store_id,
                     GroupId=group_id)
    return {item["MemberId"]["UserId"]: item["MembershipId"] for item in items if "UserId" in item.get("MemberId", {})}


@IdentityCenterErrorHandler.list_error_handler("read a member's user name")
def user_name_of(identitystore, store_id: str, user_id: str) -> str | None:
    return identitystore.describe_user(aws_retry=True, IdentityStoreId=store_id, UserId=user_id)["UserName"]


def read_group(identitystore, store_id: str, display_name: str, known: dict[str, str]) -> Group | None:
    """The group with its members' names; `known` (user id -> name) spares a DescribeUser per listed member."""
    group_id = find_group_id(identitystore, store_id, display_name)
    described = describe_group(identitystore, store_id, group_id) if group_id else None
    if described is None:
        return None
    memberships = list_memberships(identitystore, store_id, group_id)
    names = dict(known)
    for user_id in memberships:
        if user_id not in names:
            names[user_id] = user_name_of(identitystore, store_id, user_id) or user_id
    return Group(described, memberships, names)


def desired_group(params: dict, before: dict | None) -> dict:
    desired = {"display_name": params["display_name"], "description": params["description"]}
    if params["members"] is not None:
        kept = [] if params["purge_members"] or before is None else before["members"]
        desired["members"] = sorted(set(kept) | set(params["members"]))
    if before is None:  # spelled as the view spells an unset attribute
        desired.setdefault("members", [])
        desired["description"] = desired["description"] or ""
    return desired


@IdentityCenterErrorHandler.common_error_handler("create the group")
def create_group(identitystore, store_id: str, display_name: str, description: str) -> str:
    arguments = {"IdentityStoreId": store_id, "DisplayName": display_name}
    if description:
        arguments["Description"] = description
    return identitystore.create_group(aws_retry=True, **arguments)["GroupId"]


@IdentityCenterErrorHandler.common_error_handler("update the group")
def update_group(identitystore, store_id: str, group_id: str, planned: Plan) -> None:
    """UpdateGroup with what changed: the description ("" removes it), or the display name of a group found
    under another spelling (a case-insensitive match), which takes the task's."""
    paths = {"display_name": "displayName", "description": "description"}
    operations = [{"AttributePath": paths[key], "AttributeValue": planned.after[key] or None}
                  for key in planned.changed_keys if key in paths]
    identitystore.update_group(aws_retry=True, IdentityStoreId=store_id, GroupId=group_id, Operations=operations)


@IdentityCenterErrorHandler.common_error_handler("add a member")
def add_member(identitystore, store_id: str, group_id: str, user_id: str) -> None:
    identitystore.create_group_membership(aws_retry=True, IdentityStoreId=store_id, GroupId=group_id,
                                          MemberId={"UserId": user_id})


@IdentityCenterErrorHandler.deletion_error_handler("remove a member")
def remove_member(identitystore, store_id: str, membership_id: str) -> None:
    identitystore.delete_group_membership(aws_retry=True, IdentityStoreId=store_id, MembershipId=membership_id)


@IdentityCenterErrorHandler.deletion_error_handler("delete the group")
def delete_group(identitystore, store_id: str, group_id: str) -> None:
    identitystore.delete_group(aws_retry=True, IdentityStoreId=store_id, GroupId=group_id)


def run(module: AnsibleAWSModule) -> dict:
    params = module.params
    sso_admin, identitystore = clients(module)
    store_id = identity_store_of(module, sso_admin)
    user_ids: dict[str, str] = {}
    if params["state"] == "present" and params["members"]:
        user_ids, unknown = resolve_members(identitystore, store_id, params["members"])
        if unknown:
            module.fail_json(msg="No user named {0} in the identity store {1}: create the users first "
                                 "(idfed.aws_sso.identity_store_user). Nothing was changed."
                                 .format(", ".join(unknown), store_id), unknown_members=unknown)
    names_by_id = {user_id: name for name, user_id in user_ids.items()}
    group = read_group(identitystore, store_id, params["display_name"], names_by_id)
    before = group.view if group else None
    desired = desired_group(params, before) if params["state"] == "present" else None

    def write_members(planned: Plan) -> None:
        wanted = set(planned.after["members"])
        for name in sorted(wanted):
            user_id = user_ids.get(name)  # None for a member kept as it is
            if user_id is not None and user_id not in group.memberships:
                add_member(identitystore, store_id, group.group_id, user_id)
        for user_id, membership_id in sorted(group.memberships.items()):
            if group.member_names[user_id] not in wanted:
                remove_member(identitystore, store_id, membership_id)

    def create(planned: Plan) -> dict:
        group_id = create_group(identitystore, store_id, planned.after["display_name"], planned.after["description"])
        for name in planned.after["members"]:
            add_member(identitystore, store_id, group_id, user_ids[name])
        return dict(planned.after, group_id=group_id, identity_store_id=store_id)

    def update(planned: Plan) -> None:
        if {"description", "display_name"} & set(planned.changed_keys):
            update_group(identitystore, store_id, group.group_id, planned)
        if "members" in planned.changed_keys:
            write_members(planned)

    def delete(_planned: Plan) -> None:
        delete_group(identitystore, store_id, group.group_id)

    result = ensure(module, SPEC, before, desired, state=params["state"], create=create, update=update, delete=delete)
    return dict(result.as_dict(), identity_store_id=store_id)


def main() -> None:
    argument_spec = dict(
        display_name=dict(type="str", required=True),
        description=dict(type="str"),
        members=dict(type="list", elements="str"),
        purge_members=dict(type="bool", default=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        **IDENTITY_STORE_ARGUMENT_SPEC,
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    problem = check_input(module.params)
    if problem:
        module.fail_json(msg=problem)
    try:
        module.exit_json(**run(module))
    except IdentityCenterError as error:
        module.fail_json_aws_error(error)


if __name__ == "__main__":
    main()
