# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: expand_assignments
short_description: Expand a compact IAM Identity Center access matrix into account assignments, checking each entry
version_added: 0.2.0
author:
  - idfed.aws_sso contributors
description:
  - Turns a list of access entries into the flat list of assignments that M(idfed.aws_sso.account_assignment)
    takes, each with C(principal_type), C(principal), C(permission_set) and C(account_id).
  - An entry is either one assignment in that flat form, or a compact entry that gives one permission set to
    every group in C(groups) and every user in C(users), in every account of C(accounts).
  - Every entry is checked without calling AWS, and every problem is reported at once, naming the entry (for example
    C(assignments[3].accounts[1])). An account id that is not 12 digits, an unknown key, an entry that mixes both
    forms or gives no principal, or a malformed permission set name or ARN fails the template, so a role that
    expands its input first stops before anything is written.
  - The result is a set. An assignment that several entries produce appears once, at its first place.
  - Account ids given as YAML integers are turned into strings; one that lost its leading zeros is refused as
    not being 12 digits (quote account ids in YAML).
positional: _input
options:
  _input:
    description:
      - The access entries. Each is a dictionary in one of two forms.
      - "Flat: C(principal_type) (C(USER) or C(GROUP)), C(principal) (a user name, a group display name, or an id),
        C(permission_set) (a name or an ARN) and C(account_id) (12 digits)."
      - "Compact: C(permission_set), C(accounts) (a list of account ids) and at least one of C(groups) (group
        display names or ids) and C(users) (user names or ids)."
    type: list
    elements: dict
    required: true
  name:
    description:
      - What to call the input in messages, for example the variable it comes from.
    type: str
    default: assignments
seealso:
  - module: idfed.aws_sso.account_assignment
  - ref: idfed.aws_sso.identity_center_access role <ansible_collections.idfed.aws_sso.identity_center_access_role>
    description: The role that applies the expanded list.
"""

EXAMPLES = r"""
- name: Give the platform team Admin in two accounts and the auditors Auditor in three, plus one user
  idfed.aws_sso.account_assignment:
    assignments: "{{ access | idfed.aws_sso.expand_assignments(name='access') }}"
  vars:
    access:
      - permission_set: Admin
        accounts: ["111122223333", "444455556666"]
        groups: [platform]
      - permission_set: Auditor
        accounts: ["111122223333", "444455556666", "777788889999"]
        groups: [auditors]
        users: [ada@example.com]
      - {principal_type: USER, principal: grace@example.com, permission_set: Admin, account_id: "777788889999"}
"""

RETURN = r"""
_value:
  description:
    - The assignments, each a dictionary with C(principal_type), C(principal), C(permission_set) and C(account_id),
      in the order of the entries (within a compact entry, account by account, groups before users), without
      duplicates.
  type: list
  elements: dict
"""

from collections.abc import Mapping
from collections.abc import Sequence

from ansible.errors import AnsibleFilterError

from ansible_collections.idfed.aws_sso.plugins.module_utils._aws.identity_center import check_account_id
from ansible_collections.idfed.aws_sso.plugins.module_utils._aws.identity_center import check_permission_set_reference

FLAT_KEYS = ("principal_type", "principal", "permission_set", "account_id")
COMPACT_KEYS = ("permission_set", "accounts", "groups", "users")
PRINCIPAL_TYPES = ("USER", "GROUP")


class Problems(list):
    """Every problem of the input, so that one run names them all."""

    def add(self, message: str | None) -> None:
        if message:
            self.append(message)


def _account(value, where: str, problems: Problems) -> str | None:
    # A YAML integer is an account id only if it still has 12 digits; bool is an int to Python, never an id.
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        problems.add("{0}: {1!r} is not an AWS account id (12 digits, quoted in YAML).".format(where, value))
        return None
    text = str(value)
    problem = check_account_id(text, where)
    problems.add(problem)
    return None if problem else text


def _name(value, where: str, what: str, problems: Problems) -> str | None:
    if not isinstance(value, str) or not value.strip():
        problems.add("{0}: {1} must be a non-empty string, not {2!r}.".format(where, what, value))
        return None
    return value


def _permission_set(entry: Mapping, where: str, problems: Problems) -> str | None:
    value = _name(entry.get("permission_set"), where + ".permission_set", "a permission set name or ARN", problems)
    if value is None:
        return None
    problem = check_permission_set_reference(value, where + ".permission_set")
    problems.add(problem)
    return None if problem else value


def _list(entry: Mapping, key: str, where: str, problems: Problems) -> list:
    value = entry.get(key)
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        problems.add("{0}.{1} must be a list, not {2!r}.".format(where, key, value))
        return []
    return list(value)


def _flat(entry: Mapping, where: str, problems: Problems) -> list[dict]:
    missing = [key for key in FLAT_KEYS if key not in entry]
    if missing:
        problems.add("{0} lacks {1}: a flat entry needs {2}.".format(where, ", ".join(missing), ", ".join(FLAT_KEYS)))
        return []
    principal_type = entry["principal_type"]
    if principal_type not in PRINCIPAL_TYPES:
        problems.add("{0}.principal_type: {1!r} is neither USER nor GROUP.".format(where, principal_type))
    principal = _name(entry["principal"], where + ".principal", "a user name, group name or id", problems)
    permission_set = _permission_set(entry, where, problems)
    account = _account(entry["account_id"], where + ".account_id", problems)
    if None in (principal, permission_set, account) or principal_type not in PRINCIPAL_TYPES:
        return []
    return [{"principal_type": principal_type, "principal": principal, "permission_set": permission_set,
             "account_id": account}]


def _compact(entry: Mapping, where: str, problems: Problems) -> list[dict]:
    permission_set = _permission_set(entry, where, problems) if "permission_set" in entry else None
    if "permission_set" not in entry:
        problems.add("{0} lacks permission_set.".format(where))
    accounts = [_account(value, "{0}.accounts[{1}]".format(where, index), problems)
                for index, value in enumerate(_list(entry, "accounts", where, problems))]
    if not accounts:
        problems.add("{0}.accounts is missing or empty: a compact entry needs at least one account id.".format(where))
    principals = []
    for key, principal_type in (("groups", "GROUP"), ("users", "USER")):
        for index, value in enumerate(_list(entry, key, where, problems)):
            name = _name(value, "{0}.{1}[{2}]".format(where, key, index), "a name or id", problems)
            principals.append((principal_type, name))
    if not principals:
        problems.add("{0} gives the permission set to nobody: list groups, users or both.".format(where))
    if permission_set is None or None in accounts or any(principal[1] is None for principal in principals):
        return []
    return [{"principal_type": principal_type, "principal": name, "permission_set": permission_set, "account_id": account}
            for account in accounts for principal_type, name in principals]


def _entry(entry, where: str, problems: Problems) -> list[dict]:
    if not isinstance(entry, Mapping):
        problems.add("{0} must be a dictionary, not {1!r}.".format(where, entry))
        return []
    unknown = sorted(set(entry) - set(FLAT_KEYS) - set(COMPACT_KEYS))
    if unknown:
        problems.add("{0} has unknown keys {1}: an entry takes either {2}, or {3}.".format(
            where, ", ".join(map(str, unknown)), ", ".join(FLAT_KEYS), ", ".join(COMPACT_KEYS)))
        return []
    flat = set(entry) & {"principal_type", "principal", "account_id"}
    compact = set(entry) & {"accounts", "groups", "users"}
    if flat and compact:
        problems.add("{0} mixes the flat form ({1}) and the compact form ({2}); use one per entry.".format(
            where, ", ".join(sorted(flat)), ", ".join(sorted(compact))))
        return []
    return _compact(entry, where, problems) if compact else _flat(entry, where, problems)


def expand_assignments(entries, name: str = "assignments") -> list[dict]:
    """The flat, duplicate-free assignments of the entries; AnsibleFilterError naming every problem."""
    if entries is None:
        return []
    if isinstance(entries, (str, bytes, Mapping)) or not isinstance(entries, Sequence):
        raise AnsibleFilterError("{0} must be a list of access entries, not {1!r}.".format(name, entries))
    problems = Problems()
    result: list[dict] = []
    seen: set[tuple] = set()
    for index, entry in enumerate(entries):
        for assignment in _entry(entry, "{0}[{1}]".format(name, index), problems):
            key = tuple(assignment[field] for field in FLAT_KEYS)
            if key not in seen:
                seen.add(key)
                result.append(assignment)
    if problems:
        raise AnsibleFilterError("{0} problem(s) in {1}: {2}".format(
            len(problems), name, " ".join(problems)))
    return result


class FilterModule:
    """Filters of idfed.aws_sso."""

    def filters(self) -> dict:
        return {"expand_assignments": expand_assignments}
