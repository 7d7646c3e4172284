# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the identity_center_federation role: what would otherwise be logic in Jinja.

Their documentation is in the YAML files of the same name next to this one (ansible-doc -t filter)."""

from __future__ import annotations

import re
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.idfed.aws_sso.plugins.module_utils._aws.identity_center import check_email_user_name

ACCOUNT_ID = re.compile(r"^\d{12}$")
# What a profile or sso-session name may hold in ~/.aws/config: a section header ends at "]" and the AWS CLI
# splits "profile name" on blanks, so anything else becomes "-".
UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_.@+-]+")


def user_name_problems(users: list[dict] | None, groups: list[dict] | None = None) -> list[str]:
    """One message per user name (listed user or group member) that is not an email address.

    The identity store modules refuse these too, but only when they run; the role checks them before the
    first write of the whole procedure (the IdP application, the artifact) so that bad input writes nothing."""
    problems = []
    for index, user in enumerate(users or []):
        if not isinstance(user, dict):
            problems.append("users[{0}]: must be a mapping with user_name, given_name and family_name.".format(index))
            continue
        problem = check_email_user_name(str(user.get("user_name") or ""), "users[{0}]".format(index))
        if problem:
            problems.append(problem)
    for index, group in enumerate(groups or []):
        if not isinstance(group, dict):
            problems.append("groups[{0}]: must be a mapping with display_name and members.".format(index))
            continue
        for position, member in enumerate(group.get("members") or []):
            problem = check_email_user_name(str(member), "groups[{0}] ({1}) members[{2}]".format(
                index, group.get("display_name"), position))
            if problem:
                problems.append(problem)
    return problems


def _profile_name(session: str, account_id: str, permission_set: str) -> str:
    return UNSAFE_NAME.sub("-", "{0}-{1}-{2}".format(session, account_id, permission_set))


def sso_config_profiles(items: list[dict] | None, session: str, region: str = "") -> list[dict]:
    """The ~/.aws/config profiles for the (account, permission set) pairs of items, in first-seen order.

    items are explicit profiles ({account_id, permission_set, name?, region?}) or account assignments (the same
    keys plus principal_type and principal): one profile per pair, whoever it is assigned to."""
    if not session:
        raise AnsibleFilterError("sso_config_profiles: the sso-session name is empty.")
    profiles: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(items or []):
        if not isinstance(item, dict):
            raise AnsibleFilterError("sso_config_profiles: item {0} is not a mapping.".format(index))
        account_id, permission_set = str(item.get("account_id") or ""), str(item.get("permission_set") or "")
        if not ACCOUNT_ID.match(account_id):
            raise AnsibleFilterError("sso_config_profiles: item {0} has account_id {1!r}, not 12 digits (quote it in "
                                     "YAML so that leading zeros stay).".format(index, account_id))
        if not permission_set or permission_set.startswith("arn:"):
            raise AnsibleFilterError("sso_config_profiles: item {0} needs the permission set's name (the role name "
                                     "the AWS CLI asks for), not {1!r}.".format(index, permission_set))
        if (account_id, permission_set) in seen:
            continue
        seen.add((account_id, permission_set))
        profiles.append({
            "name": UNSAFE_NAME.sub("-", str(item.get("name") or _profile_name(session, account_id, permission_set))),
            "account_id": account_id,
            "permission_set": permission_set,
            "region": str(item.get("region") or region or ""),
        })
    names = [profile["name"] for profile in profiles]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise AnsibleFilterError("sso_config_profiles: several profiles are named {0}.".format(", ".join(duplicates)))
    return profiles


def sso_session_name(value: str) -> str:
    """A name usable as an sso-session (and profile prefix) in ~/.aws/config."""
    name = UNSAFE_NAME.sub("-", str(value or "")).strip("-")
    if not name:
        raise AnsibleFilterError("sso_session_name: {0!r} has no character usable in a section name.".format(value))
    return name


class FilterModule:
    """The identity_center_federation role's filters."""

    def filters(self) -> dict:
        return {
            "user_name_problems": user_name_problems,
            "sso_config_profiles": sso_config_profiles,
            "sso_session_name": sso_session_name,
        }
