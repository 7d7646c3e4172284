#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: identity_store_sync
short_description: Reconcile the IAM Identity Center identity store with lists of users and groups, in one run
version_added: 0.2.0
description:
  - Brings the users, groups and group memberships of the identity store in line with O(users) and O(groups) (or a
    YAML or CSV file, O(src)) in one module run, the bulk form of M(idfed.aws_sso.identity_store_user) and
    M(idfed.aws_sso.identity_store_group) for a whole estate.
  - Reads the store in as few calls as the API allows (C(ListUsers), C(ListGroups), and C(ListGroupMemberships) for
    each listed group that exists, 100 items a page), then writes only what differs, O(max_concurrency) calls at a
    time. A second run sends no write.
  - Users are keyed by user name, groups by display name. Whatever exists is updated in place; a group is never
    deleted and recreated, since account assignments point at its id.
  - Everything that can be checked is checked before the first write, and a problem stops the task with nothing
    written. A user name that is not an email address, a user or group listed twice (user names compared without
    regard to case), a member that is neither listed in the users nor in the store, a purge that would delete a
    listed member.
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
    details: Reads the store and predicts RV(summary) (and the diff), writing nothing.
  diff_mode:
    support: full
    details: The diff lists every user and group that is created, updated or deleted, before and after.
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
  users:
    description:
      - The users the store should hold, added to those of O(src).
    type: list
    elements: dict
    default: []
    suboptions:
      user_name:
        description:
          - The user name, an email address. With an external SAML identity provider, Identity Center signs a user
            in by matching the NameID (format emailAddress) to it.
        type: str
        required: true
      display_name:
        description:
          - The name shown in the AWS access portal. Defaults to C(<given_name> <family_name>).
        type: str
      given_name:
        description:
          - The first name.
        type: str
        required: true
      family_name:
        description:
          - The last name.
        type: str
        required: true
      email:
        description:
          - The primary email address. Defaults to O(users[].user_name).
        type: str
  groups:
    description:
      - The groups the store should hold, added to those of O(src).
    type: list
    elements: dict
    default: []
    suboptions:
      display_name:
        description:
          - The group's name, unique in the store.
        type: str
        required: true
      description:
        description:
          - The description. Left as it is when omitted; an empty string removes it.
        type: str
      members:
        description:
          - User names of the members, each listed in the users or already in the store.
          - Omitted, the group's membership is left as it is (unless O(src) is a CSV that puts users in the group).
            V([]) with O(purge_members=true) empties the group.
        type: list
        elements: str
  src:
    description:
      - A file on the host the module runs on, with more users and groups. A name may not appear both there and in
        O(users) or O(groups).
      - C(.yml), C(.yaml) or C(.json) is a mapping with the keys C(users) and C(groups), each a list shaped as the
        options of the same name.
      - C(.csv) is one user per row, with the header C(user_name,display_name,given_name,family_name,email,groups)
        (C(display_name), C(email) and C(groups) may be left out or empty). C(groups) names the groups the user is a
        member of, separated by C(;). A group named there is created if O(groups) does not list it, and the users
        the CSV puts in a group are added to its O(groups[].members).
    type: path
  purge_users:
    description:
      - Delete the users of the store that are not listed. Off by default; refused with an empty user list, which
        would delete every user.
    type: bool
    default: false
  purge_groups:
    description:
      - Delete the groups of the store that are not listed (their memberships with them, not their members). Off by
        default; refused with an empty group list.
    type: bool
    default: false
  purge_members:
    description:
      - Remove from each listed group the members that its O(groups[].members) does not name, so that the group
        holds exactly those members.
      - On by default, unlike O(idfed.aws_sso.identity_store_group#module:purge_members). A sync mirrors a source of
        truth, and a user taken out of a group at the source must lose the access that the group grants. Removing a
        membership deletes no user or group and no id. To leave the membership of a group alone, omit its
        O(groups[].members).
    type: bool
    default: true
  max_concurrency:
    description:
      - How many write (and membership read) calls run at the same time, 1 to 16.
      - The identity store API is throttled per account; throttled calls are retried with jittered backoff, so a
        higher value beyond what the rate limit allows only adds retries.
    type: int
    default: 4
notes:
  - Identity store calls go to the Region of the Identity Center instance (set O(region)).
  - Users provisioned by SCIM from an identity provider are overwritten by it at its next synchronisation; do not
    manage the same users with both.
  - A user or group cannot be renamed here (the name is its key); a rename is a new object plus, with a purge,
    the deletion of the old one, which loses its id and assignments. Use M(idfed.aws_sso.identity_store_user) or
    the console to rename.
  - If a write fails, the task stops after the calls already running finish and reports what it did; running it
    again completes the work without duplicating anything.
seealso:
  - module: idfed.aws_sso.identity_store_user
  - module: idfed.aws_sso.identity_store_group
  - module: idfed.aws_sso.account_assignment
"""

EXAMPLES = r"""
- name: Reconcile the estate from the lists in the inventory
  idfed.aws_sso.identity_store_sync:
    users:
      - user_name: ada.lovelace@example.com
        given_name: Ada
        family_name: Lovelace
      - user_name: grace.hopper@example.com
        given_name: Grace
        family_name: Hopper
        display_name: Rear Admiral Hopper
    groups:
      - display_name: platform-admins
        description: Administrators of the landing zone
        members: [grace.hopper@example.com]
      - display_name: analysts
        members: [ada.lovelace@example.com, grace.hopper@example.com]
    region: eu-west-1
  register: sync

- name: Show what changed
  ansible.builtin.debug:
    var: sync.summary

# people.csv, kept by the team:
#   user_name,display_name,given_name,family_name,email,groups
#   ada.lovelace@example.com,,Ada,Lovelace,,analysts;platform-admins
#   grace.hopper@example.com,Rear Admiral Hopper,Grace,Hopper,grace@example.com,analysts
- name: Reconcile from the CSV, describing one of its groups, and delete whoever is no longer in it
  idfed.aws_sso.identity_store_sync:
    src: files/people.csv
    groups:
      - display_name: platform-admins
        description: Administrators of the landing zone
    purge_users: true
    region: eu-west-1

# estate.yml:
#   users:
#     - {user_name: ada.lovelace@example.com, given_name: Ada, family_name: Lovelace}
#   groups:
#     - {display_name: analysts, members: [ada.lovelace@example.com]}
- name: Preview a run from a YAML file
  idfed.aws_sso.identity_store_sync:
    src: files/estate.yml
    purge_groups: true
    region: eu-west-1
  check_mode: true
  diff: true
"""

RETURN = r"""
identity_store_id:
  description: The identity store worked in.
  returned: always
  type: str
  sample: d-93670c4a5b
summary:
  description: What the run did (or, in check mode, would do).
  returned: always
  type: dict
  sample:
    users: {created: 3, updated: 1, deleted: 0, unchanged: 46}
    groups: {created: 1, updated: 0, deleted: 0, unchanged: 7}
    memberships: {created: 12, deleted: 2}
  contains:
    users:
      description: Users C(created), C(updated), C(deleted) and C(unchanged).
      type: dict
    groups:
      description: Groups C(created), C(updated) (their description), C(deleted) and C(unchanged).
      type: dict
    memberships:
      description: Group memberships C(created) and C(deleted).
      type: dict
users:
  description:
    - User name -> user id of every listed user (null for a user that check mode predicts to create).
  returned: always
  type: dict
  sample: {ada.lovelace@example.com: 9067a1b2c3-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d}
groups:
  description:
    - Display name -> group id of every listed group (null for a group that check mode predicts to create).
  returned: always
  type: dict
  sample: {analysts: 9067a1b2c3-4f5e6d7c-8b9a-0f1e-2d3c-4b5a69788796}
diff:
  description:
    - In diff mode, C(before) and C(after), each with C(users) (user name -> attributes) and C(groups) (display
      name -> C(description) and C(members)), holding only what the run changes. An object that is created is
      absent from C(before), one that is deleted from C(after).
  returned: in diff mode
  type: dict
failures:
  description: When a write fails, one line per failed call with the error AWS gave; RV(summary) then counts what
    was done.
  returned: on failure after writes began
  type: list
  elements: str
"""

import csv
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.common.yaml import HAS_YAML, yaml_load
from ansible.module_utils.errors import UnsupportedError

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.idfed.aws_sso.plugins.module_utils._aws.identity_center import (
    EMAIL, IDENTITY_STORE_ARGUMENT_SPEC, IdentityCenterError, IdentityCenterErrorHandler, check_email_user_name,
    clients, identity_store_of, list_all, primary_email, with_primary_email)
from ansible_collections.idfed.aws_sso.plugins.module_utils._state import Spec, plan

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # AnsibleAWSModule reports a missing botocore

LIBRARIES = ("boto3", "botocore")

USER_OPTIONS = dict(
    user_name=dict(type="str", required=True),
    display_name=dict(type="str"),
    given_name=dict(type="str", required=True),
    family_name=dict(type="str", required=True),
    email=dict(type="str"),
)
GROUP_OPTIONS = dict(
    display_name=dict(type="str", required=True),
    description=dict(type="str"),
    members=dict(type="list", elements="str"),
)
INPUT_SPEC = dict(
    users=dict(type="list", elements="dict", options=USER_OPTIONS, default=[]),
    groups=dict(type="list", elements="dict", options=GROUP_OPTIONS, default=[]),
)
CSV_COLUMNS = ("user_name", "display_name", "given_name", "family_name", "email", "groups")
CSV_REQUIRED = ("user_name", "given_name", "family_name")
RESERVED_NAMES = ("Administrator", "AWSAdministrators")  # refused by the identity store for users and groups
MAX_CONCURRENCY = 16
USER_SPEC = Spec(read_only=("user_id",))
# option -> UpdateUser attribute path
USER_PATHS = {"display_name": "displayName", "given_name": "name.givenName", "family_name": "name.familyName"}


class InputError(Exception):
    """The input cannot be synchronised; the message lists every problem found."""


# ---------------------------------------------------------------- input


def read_src(path: str) -> tuple[list, list, list, list]:
    """(users, groups, memberships, problems) of a YAML or CSV file: lists of (where, item), of (group, user, where)
    and of the rows that could not be read (the rest is still checked, so that one run names every problem)."""
    extension = os.path.splitext(path)[1].lower()
    if extension not in (".csv", ".yml", ".yaml", ".json"):
        raise InputError("src {0}: the file name must end in .csv, .yml, .yaml or .json (the format).".format(path))
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:  # -sig: spreadsheets write a byte order mark
            if extension == ".csv":
                return read_csv(path, handle)
            return read_yaml(path, handle.read())
    except OSError as exc:
        raise InputError("Cannot read src {0}: {1}.".format(path, exc.strerror or exc)) from None
    except UnicodeDecodeError as exc:
        raise InputError("src {0} is not UTF-8 text: {1}.".format(path, exc)) from None


def validated(data: dict, where: str) -> dict:
    """users/groups checked against the options' own spec, so that a file and the options accept the same."""
    errors = ArgumentSpecValidator(INPUT_SPEC).validate(data)
    if errors.error_messages:
        raise InputError("\n".join(
            "{0}: {1}{2}".format(where, "unsupported parameter " if isinstance(error, UnsupportedError) else "",
                                 to_text(error)) for error in errors.errors.errors))
    return errors.validated_parameters


def read_yaml(path: str, text: str) -> tuple[list, list, list, list]:
    if not HAS_YAML:
        raise InputError("src {0}: reading YAML needs PyYAML on the host the module runs on.".format(path))
    try:
        data = yaml_load(text)
    except Exception as exc:  # pylint: disable=broad-exception-caught  # PyYAML's errors share no public base
        raise InputError("src {0} is not valid YAML: {1}".format(path, exc)) from None
    if not isinstance(data, dict):
        raise InputError("src {0} must be a mapping with the keys users and groups.".format(path))
    data = validated(data, "src " + path)
    return ([("src {0} users[{1}]".format(path, index), item) for index, item in enumerate(data["users"])],
            [("src {0} groups[{1}]".format(path, index), item) for index, item in enumerate(data["groups"])], [], [])


def read_csv(path: str, handle) -> tuple[list, list, list, list]:
    reader = csv.DictReader(handle)
    columns = [name.strip() for name in reader.fieldnames or []]
    unknown = [name for name in columns if name not in CSV_COLUMNS]
    missing = [name for name in CSV_REQUIRED if name not in columns]
    if unknown or missing:
        raise InputError("src {0}: the header must name the columns {1} ({2} optional){3}{4}.".format(
            path, ",".join(CSV_COLUMNS), ", ".join(name for name in CSV_COLUMNS if name not in CSV_REQUIRED),
            "; unknown: " + ", ".join(unknown) if unknown else "", "; missing: " + ", ".join(missing) if missing else ""))
    reader.fieldnames = columns
    users, memberships, problems = [], [], []
    for row in reader:
        where = "src {0} line {1}".format(path, reader.line_num)
        if None in row:
            problems.append("{0}: more cells than the header has columns.".format(where))
            continue
        cells = {name: (value or "").strip() or None for name, value in row.items()}
        groups = cells.pop("groups", None)
        try:
            user = validated({"users": [cells]}, where)["users"][0]
        except InputError as exc:
            problems.append(str(exc))
            continue
        users.append((where, user))
        memberships.extend((name.strip(), user["user_name"], where) for name in (groups or "").split(";") if name.strip())
    return users, [], memberships, problems


def desired_user(user: dict) -> dict:
    return {
        "user_name": user["user_name"],
        "display_name": user["display_name"] or "{0} {1}".format(user["given_name"], user["family_name"]),
        "given_name": user["given_name"],
        "family_name": user["family_name"],
        "email": user["email"] or user["user_name"],
    }


def check_users(users: list) -> tuple[dict, list[str]]:
    """(user name -> desired user, problems)."""
    wanted, seen, problems = {}, {}, []
    for where, user in users:
        problem = check_email_user_name(user["user_name"], where)
        if problem:
            problems.append(problem)
        if user["email"] is not None and not EMAIL.match(user["email"]):
            problems.append("{0}: email {1!r} is not an email address.".format(where, user["email"]))
        empty = [name for name in ("display_name", "given_name", "family_name")
                 if user[name] == "" or (user[name] is None and name != "display_name")]
        if empty:
            problems.append("{0}: {1} cannot be empty (Identity Center requires a value).".format(where, ", ".join(empty)))
        if problem or empty:
            continue
        folded = user["user_name"].lower()
        if folded in seen:
            problems.append("{0}: the user {1} is listed twice (also at {2}); user names are compared without regard "
                            "to case, as email addresses are.".format(where, user["user_name"], seen[folded]))
            continue
        seen[folded] = where
        wanted[user["user_name"]] = desired_user(user)
    return wanted, problems


def check_groups(groups: list, memberships: list) -> tuple[dict, list[str]]:
    """(display name -> desired group, problems); a CSV's memberships join the group's members."""
    wanted, seen, problems = {}, {}, []
    for where, group in groups:
        name = group["display_name"]
        if not name or name in RESERVED_NAMES:
            problems.append("{0}: {1!r} cannot be a group name{2}.".format(
                where, name, " (reserved by Identity Center)" if name else ""))
        if name in seen:
            problems.append("{0}: the group {1} is listed twice (also at {2}).".format(where, name, seen[name]))
            continue
        seen[name] = where
        members = group["members"]
        wanted[name] = {"display_name": name, "description": group["description"],
                        "members": None if members is None else set(members)}
    for group_name, user_name, where in memberships:
        if group_name in RESERVED_NAMES:
            problems.append("{0}: {1!r} cannot be a group name (reserved by Identity Center).".format(where, group_name))
        group = wanted.setdefault(group_name, {"display_name": group_name, "description": None, "members": None})
        group["members"] = (group["members"] or set()) | {user_name}
    return wanted, problems


@dataclass
class Wanted:
    users: dict  # user name -> desired user
    groups: dict  # display name -> desired group; members a set, or None to leave the membership alone


def read_input(params: dict) -> Wanted:
    """The users and groups of the options and src, checked as far as no call is needed."""
    users = [("users[{0}]".format(index), item) for index, item in enumerate(params["users"])]
    groups = [("groups[{0}]".format(index), item) for index, item in enumerate(params["groups"])]
    memberships, problems = [], []
    if params["src"]:
        more_users, more_groups, memberships, problems = read_src(params["src"])
        users += more_users
        groups += more_groups
    wanted_users, user_problems = check_users(users)
    wanted_groups, group_problems = check_groups(groups, memberships)
    problems += user_problems + group_problems
    for option, items in (("purge_users", wanted_users), ("purge_groups", wanted_groups)):
        if params[option] and not items:
            problems.append("{0} with no {1} listed would delete every one in the store; list them, or turn {0} "
                            "off.".format(option, option.split("_")[1]))
    if problems:
        raise InputError("\n".join(problems))
    return Wanted(wanted_users, wanted_groups)


# ---------------------------------------------------------------- the store


def user_view(user: dict) -> dict:
    name = user.get("Name") or {}
    return {
        "user_id": user["UserId"],
        "user_name": user["UserName"],
        "display_name": user.get("DisplayName"),
        "given_name": name.get("GivenName"),
        "family_name": name.get("FamilyName"),
        "email": primary_email(user.get("Emails")),
        "emails": user.get("Emails") or [],  # kept for UpdateUser: only the primary address is replaced
    }


def group_view(group: dict) -> dict:
    return {"group_id": group["GroupId"], "display_name": group["DisplayName"], "description": group.get("Description", "")}


@dataclass
class Store:
    users: dict  # user name -> user_view
    groups: dict  # display name -> group_view
    memberships: dict = field(default_factory=dict)  # display name -> {user name: membership id}, listed groups

    def user_names(self) -> dict:
        return {user["user_id"]: name for name, user in self.users.items()}


class Api:
    """The identity store calls of one run, on the shared client (boto3 clients are thread-safe)."""

    def __init__(self, client, store_id: str) -> None:
        self.client = client
        self.store_id = store_id

    @IdentityCenterErrorHandler.common_error_handler("list the users")
    def list_users(self) -> list:
        return list_all(self.client.list_users, "Users", IdentityStoreId=self.store_id)

    @IdentityCenterErrorHandler.common_error_handler("list the groups")
    def list_groups(self) -> list:
        return list_all(self.client.list_groups, "Groups", IdentityStoreId=self.store_id)

    @IdentityCenterErrorHandler.common_error_handler("list a group's memberships")
    def list_memberships(self, group_id: str) -> dict:
        """user id -> membership id."""
        items = list_all(self.client.list_group_memberships, "GroupMemberships", IdentityStoreId=self.store_id,
                         GroupId=group_id)
        return {item["MemberId"]["UserId"]: item["MembershipId"] for item in items if "UserId" in item.get("MemberId", {})}

    def create_user(self, user: dict) -> str:
        """The new user's id. A user of that name that appeared meanwhile (or a retried create that AWS had
        applied) answers ConflictException: that user is taken over and updated in place, never duplicated."""
        request = {
            "UserName": user["user_name"], "DisplayName": user["display_name"],
            "Name": {"GivenName": user["given_name"], "FamilyName": user["family_name"]},
            "Emails": [{"Value": user["email"], "Type": "work", "Primary": True}],
        }
        try:
            return self.client.create_user(aws_retry=True, IdentityStoreId=self.store_id, **request)["UserId"]
        except is_boto3_error_code("ConflictException"):
            user_id = self._find_id("get_user_id", "userName", user["user_name"], "UserId")
        found = user_view(self.client.describe_user(aws_retry=True, IdentityStoreId=self.store_id, UserId=user_id))
        compared = plan(USER_SPEC, strip_user(found), user)
        if compared.changed:
            self.update_user(found, user, compared.changed_keys)
        return user_id

    def update_user(self, before: dict, after: dict, keys: tuple) -> None:
        operations = [{"AttributePath": USER_PATHS[key], "AttributeValue": after[key]} for key in keys if key in USER_PATHS]
        if "email" in keys:
            operations.append({"AttributePath": "emails", "AttributeValue": with_primary_email(before["emails"], after["email"])})
        self.client.update_user(aws_retry=True, IdentityStoreId=self.store_id, UserId=before["user_id"], Operations=operations)

    def delete_user(self, user_id: str) -> None:
        try:
            self.client.delete_user(aws_retry=True, IdentityStoreId=self.store_id, UserId=user_id)
        except is_boto3_error_code("ResourceNotFoundException"):
            pass  # already gone: what was asked

    def create_group(self, group: dict) -> tuple[str, bool]:
        """(group id, taken over): a group of that name that exists already is taken over, as users are."""
        request = {"DisplayName": group["display_name"]}
        if group["description"]:
            request["Description"] = group["description"]
        try:
            return self.client.create_group(aws_retry=True, IdentityStoreId=self.store_id, **request)["GroupId"], False
        except is_boto3_error_code("ConflictException"):
            group_id = self._find_id("get_group_id", "displayName", group["display_name"], "GroupId")
        found = group_view(self.client.describe_group(aws_retry=True, IdentityStoreId=self.store_id, GroupId=group_id))
        if group["description"] is not None and found["description"] != group["description"]:
            self.update_group(group_id, group["description"])
        return group_id, True

    def update_group(self, group_id: str, description: str) -> None:
        operation = {"AttributePath": "description", "AttributeValue": description or None}  # null removes it
        self.client.update_group(aws_retry=True, IdentityStoreId=self.store_id, GroupId=group_id, Operations=[operation])

    def delete_group(self, group_id: str) -> None:
        try:
            self.client.delete_group(aws_retry=True, IdentityStoreId=self.store_id, GroupId=group_id)
        except is_boto3_error_code("ResourceNotFoundException"):
            pass

    def add_member(self, group_id: str, user_id: str) -> None:
        try:
            self.client.create_group_membership(aws_retry=True, IdentityStoreId=self.store_id, GroupId=group_id,
                                                MemberId={"UserId": user_id})
        except is_boto3_error_code("ConflictException"):
            pass  # "Member and Group relationship already exists": a retried call AWS had applied

    def remove_member(self, membership_id: str) -> None:
        try:
            self.client.delete_group_membership(aws_retry=True, IdentityStoreId=self.store_id, MembershipId=membership_id)
        except is_boto3_error_code("ResourceNotFoundException"):
            pass

    def _find_id(self, method: str, path: str, value: str, key: str) -> str:
        identifier = {"UniqueAttribute": {"AttributePath": path, "AttributeValue": value}}
        return getattr(self.client, method)(aws_retry=True, IdentityStoreId=self.store_id, AlternateIdentifier=identifier)[key]


def strip_user(view: dict) -> dict:
    """A user as it is compared: without the address list kept for updates."""
    return {key: value for key, value in view.items() if key != "emails"}


def read_store(api: Api, pool: ThreadPoolExecutor, wanted: Wanted) -> Store:
    users, groups = pool.submit(api.list_users), pool.submit(api.list_groups)
    store = Store({user["UserName"]: user_view(user) for user in users.result()},
                  {group["DisplayName"]: group_view(group) for group in groups.result()})
    names = store.user_names()
    managed = [name for name, group in wanted.groups.items() if group["members"] is not None and name in store.groups]
    listed = {name: pool.submit(api.list_memberships, store.groups[name]["group_id"]) for name in managed}
    for name, future in listed.items():
        store.memberships[name] = {names.get(user_id, user_id): membership for user_id, membership in future.result().items()}
    return store


# ---------------------------------------------------------------- the plan


@dataclass
class Changes:
    create_users: list = field(default_factory=list)  # desired users
    update_users: list = field(default_factory=list)  # (before view, desired user, changed keys)
    delete_users: list = field(default_factory=list)  # views
    create_groups: list = field(default_factory=list)  # desired groups
    update_groups: list = field(default_factory=list)  # (before view, desired group)
    delete_groups: list = field(default_factory=list)  # views
    add_members: dict = field(default_factory=dict)  # display name -> user names to add
    remove_members: dict = field(default_factory=dict)  # display name -> {user name: membership id}
    unchanged_users: int = 0
    unchanged_groups: int = 0


def member_changes(desired: set | None, current: dict, purge: bool) -> tuple[set, dict]:
    """(user names to add, {user name: membership id} to remove) for one group."""
    if desired is None:
        return set(), {}
    removed = {name: membership for name, membership in current.items() if name not in desired} if purge else {}
    return desired - set(current), removed


def plan_changes(wanted: Wanted, store: Store, params: dict) -> Changes:
    """What to write; raises InputError, before any write, for members nobody can resolve."""
    changes = Changes()
    for name, user in sorted(wanted.users.items()):
        found = store.users.get(name)
        if found is None:
            changes.create_users.append(user)
            continue
        compared = plan(USER_SPEC, strip_user(found), user)
        if compared.changed:
            changes.update_users.append((found, user, compared.changed_keys))
        else:
            changes.unchanged_users += 1
    if params["purge_users"]:
        changes.delete_users = [store.users[name] for name in sorted(store.users) if name not in wanted.users]
    for name, group in sorted(wanted.groups.items()):
        found = store.groups.get(name)
        if found is None:
            changes.create_groups.append(group)
        elif group["description"] is not None and found["description"] != group["description"]:
            changes.update_groups.append((found, group))
        else:
            changes.unchanged_groups += 1
        added, removed = member_changes(group["members"], store.memberships.get(name, {}), params["purge_members"])
        if added:
            changes.add_members[name] = added
        if removed:
            changes.remove_members[name] = removed
    if params["purge_groups"]:
        changes.delete_groups = [store.groups[name] for name in sorted(store.groups) if name not in wanted.groups]
    check_members(wanted, store, changes)
    return changes


def check_members(wanted: Wanted, store: Store, changes: Changes) -> None:
    deleted = {user["user_name"] for user in changes.delete_users}
    problems = []
    for name, group in sorted(wanted.groups.items()):
        for member in sorted(group["members"] or ()):
            if member not in wanted.users and member not in store.users:
                problems.append("group {0}: the member {1} is neither in users nor in the identity store; add it to "
                                "users.".format(name, member))
            elif member in deleted:
                problems.append("group {0}: the member {1} is not in users, and purge_users would delete it; add it "
                                "to users.".format(name, member))
    if problems:
        raise InputError("\n".join(problems))


def summary(changes: Changes) -> dict:
    return {
        "users": {"created": len(changes.create_users), "updated": len(changes.update_users),
                  "deleted": len(changes.delete_users), "unchanged": changes.unchanged_users},
        "groups": {"created": len(changes.create_groups), "updated": len(changes.update_groups),
                   "deleted": len(changes.delete_groups), "unchanged": changes.unchanged_groups},
        "memberships": {"created": sum(map(len, changes.add_members.values())),
                        "deleted": sum(map(len, changes.remove_members.values()))},
    }


def is_changed(changes: Changes) -> bool:
    counts = summary(changes)
    return any(value for kind in counts.values() for key, value in kind.items() if key != "unchanged")


def shown_user(user: dict) -> dict:
    return {key: user[key] for key in ("display_name", "given_name", "family_name", "email")}


def diff(changes: Changes, store: Store, wanted: Wanted) -> dict:
    """before/after of every user and group the run changes (memberships shown on their group)."""
    before = {"users": {}, "groups": {}}
    after = {"users": {}, "groups": {}}
    for user in changes.create_users:
        after["users"][user["user_name"]] = shown_user(user)
    for found, user, _keys in changes.update_users:
        before["users"][user["user_name"]], after["users"][user["user_name"]] = shown_user(found), shown_user(user)
    for found in changes.delete_users:
        before["users"][found["user_name"]] = shown_user(found)
    touched = {group["display_name"] for group in changes.create_groups}
    touched |= {group["display_name"] for _found, group in changes.update_groups}
    touched |= set(changes.add_members) | set(changes.remove_members)
    for name in sorted(touched):
        found, members = store.groups.get(name), set(store.memberships.get(name, {}))
        description = wanted.groups[name]["description"]
        if found is not None:
            before["groups"][name] = {"description": found["description"], "members": sorted(members)}
            description = found["description"] if description is None else description
        final = (members | changes.add_members.get(name, set())) - set(changes.remove_members.get(name, {}))
        after["groups"][name] = {"description": description or "", "members": sorted(final)}
    for found in changes.delete_groups:
        name = found["display_name"]
        before["groups"][name] = {"description": found["description"], "members": sorted(store.memberships.get(name, {}))}
    return {"before": before, "after": after}


# ---------------------------------------------------------------- the writes


@dataclass(frozen=True)
class Call:
    """One write: what it counts as in the summary, its name in a failure message, and the function to run."""

    kind: str  # users, groups or memberships
    outcome: str  # created, updated or deleted
    name: str  # the user name or group display name it writes
    label: str
    function: Callable
    arguments: tuple


class Writer:
    """Runs the changes in three phases (users and groups, memberships, deletions), each call on the pool.

    A phase with a failed call ends the run once the calls already running have finished: memberships need the
    ids of the users and groups of phase one, and nothing is deleted after a failure.
    """

    def __init__(self, api: Api, pool: ThreadPoolExecutor, store: Store) -> None:
        self.api = api
        self.pool = pool
        self.user_ids = {name: user["user_id"] for name, user in store.users.items()}
        self.group_ids = {name: group["group_id"] for name, group in store.groups.items()}
        self.done = {"users": {"created": 0, "updated": 0, "deleted": 0},
                     "groups": {"created": 0, "updated": 0, "deleted": 0},
                     "memberships": {"created": 0, "deleted": 0}}
        self.failures: list[str] = []

    def run(self, calls: list[Call]) -> list[tuple[Call, object]]:
        """(call, result) of the calls that succeeded; the others are added to failures."""
        futures = [(call, self.pool.submit(call.function, *call.arguments)) for call in calls]
        succeeded = []
        for call, future in futures:
            try:
                result = future.result()
            except (ClientError, BotoCoreError) as err:
                self.failures.append("{0}: {1}".format(call.label, error_text(err)))
                continue
            self.done[call.kind][call.outcome] += 1
            succeeded.append((call, result))
        return succeeded

    def write(self, changes: Changes, wanted: Wanted, purge_members: bool) -> None:
        api = self.api
        results = self.run(
            [Call("users", "created", user["user_name"], "create user " + user["user_name"], api.create_user, (user,))
             for user in changes.create_users]
            + [Call("users", "updated", user["user_name"], "update user " + user["user_name"], api.update_user,
                    (found, user, keys)) for found, user, keys in changes.update_users]
            + [Call("groups", "created", group["display_name"], "create group " + group["display_name"],
                    api.create_group, (group,)) for group in changes.create_groups]
            + [Call("groups", "updated", group["display_name"], "update group " + group["display_name"],
                    api.update_group, (found["group_id"], group["description"])) for found, group in changes.update_groups])
        for call, result in results:
            if call.outcome == "created" and call.kind == "users":
                self.user_ids[call.name] = result
            elif call.outcome == "created":
                self.group_ids[call.name], taken_over = result
                if taken_over:
                    self._replan_members(changes, call.name, wanted.groups[call.name]["members"], purge_members)
        if self.failures:
            return
        self.run([Call("memberships", "created", group, "add {0} to group {1}".format(user, group), api.add_member,
                       (self.group_ids[group], self.user_ids[user]))
                  for group, users in sorted(changes.add_members.items()) for user in sorted(users)]
                 + [Call("memberships", "deleted", group, "remove {0} from group {1}".format(user, group),
                         api.remove_member, (membership,))
                    for group, removed in sorted(changes.remove_members.items()) for user, membership in sorted(removed.items())])
        if self.failures:
            return
        self.run([Call("groups", "deleted", group["display_name"], "delete group " + group["display_name"],
                       api.delete_group, (group["group_id"],)) for group in changes.delete_groups]
                 + [Call("users", "deleted", user["user_name"], "delete user " + user["user_name"], api.delete_user,
                         (user["user_id"],)) for user in changes.delete_users])

    def _replan_members(self, changes: Changes, name: str, members: set | None, purge: bool) -> None:
        """A group taken over (it appeared after the store was read) has members of its own: plan from those."""
        names = {user_id: user for user, user_id in self.user_ids.items()}
        current = {names.get(user_id, user_id): membership
                   for user_id, membership in self.api.list_memberships(self.group_ids[name]).items()}
        changes.add_members[name], changes.remove_members[name] = member_changes(members, current, purge)

    def summary(self, predicted: dict) -> dict:
        """What was done, with the unchanged counts of the plan."""
        return {kind: dict(counts, **({"unchanged": predicted[kind]["unchanged"]} if "unchanged" in predicted[kind] else {}))
                for kind, counts in self.done.items()}


def error_text(err) -> str:
    if isinstance(err, ClientError):
        error = err.response.get("Error", {})
        return "{0}: {1}".format(error.get("Code"), error.get("Message"))
    return str(err)


# ---------------------------------------------------------------- the module


def ids_of(wanted: dict, known: dict) -> dict:
    return {name: known.get(name) for name in sorted(wanted)}


def run(module: AnsibleAWSModule) -> dict:
    params = module.params
    try:
        wanted = read_input(params)
    except InputError as exc:
        module.fail_json(msg="Nothing was written. {0}".format(exc))
    sso_admin, identitystore = clients(module)
    store_id = identity_store_of(module, sso_admin)
    api = Api(identitystore, store_id)
    with ThreadPoolExecutor(max_workers=params["max_concurrency"]) as pool:
        store = read_store(api, pool, wanted)
        try:
            changes = plan_changes(wanted, store, params)
        except InputError as exc:
            module.fail_json(msg="Nothing was written. {0}".format(exc), identity_store_id=store_id)
        result = {"changed": is_changed(changes), "identity_store_id": store_id, "summary": summary(changes)}
        if module._diff:  # pylint: disable=protected-access
            result["diff"] = diff(changes, store, wanted)
        writer = Writer(api, pool, store)
        if result["changed"] and not module.check_mode:
            writer.write(changes, wanted, params["purge_members"])
            result["summary"] = writer.summary(result["summary"])
    result.update(users=ids_of(wanted.users, writer.user_ids), groups=ids_of(wanted.groups, writer.group_ids))
    if writer.failures:
        result["changed"] = any(count for counts in writer.done.values() for count in counts.values())
        module.fail_json(msg="{0} of the writes failed; summary counts what was done. Run the task again to finish: "
                             "nothing is duplicated.\n{1}".format(len(writer.failures), "\n".join(writer.failures[:20])),
                         failures=writer.failures, **result)
    return result


def main() -> None:
    argument_spec = dict(
        users=dict(type="list", elements="dict", options=USER_OPTIONS, default=[]),
        groups=dict(type="list", elements="dict", options=GROUP_OPTIONS, default=[]),
        src=dict(type="path"),
        purge_users=dict(type="bool", default=False),
        purge_groups=dict(type="bool", default=False),
        purge_members=dict(type="bool", default=True),
        max_concurrency=dict(type="int", default=4),
        **IDENTITY_STORE_ARGUMENT_SPEC,
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    if not 1 <= module.params["max_concurrency"] <= MAX_CONCURRENCY:
        module.fail_json(msg="max_concurrency must be 1 to {0}, got {1}.".format(MAX_CONCURRENCY, module.params["max_concurrency"]))
    try:
        module.exit_json(**run(module))
    except IdentityCenterError as err:
        module.fail_json_aws_error(err)


if __name__ == "__main__":
    main()
