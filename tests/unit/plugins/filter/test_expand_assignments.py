# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""expand_assignments: both entry forms, the set semantics, and every problem named before anything is written."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.idfed.aws_sso.plugins.filter.expand_assignments import FilterModule
from ansible_collections.idfed.aws_sso.plugins.filter.expand_assignments import expand_assignments

A, B, C = "111122223333", "444455556666", "012345678901"
PS_ARN = "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef"


def flat(principal_type: str, principal: str, permission_set: str, account_id: str) -> dict:
    return {"principal_type": principal_type, "principal": principal, "permission_set": permission_set,
            "account_id": account_id}


def refused(entries, name: str = "assignments") -> str:
    with pytest.raises(AnsibleFilterError) as caught:
        expand_assignments(entries, name=name)
    return str(caught.value)


def test_registered_under_its_name():
    assert FilterModule().filters()["expand_assignments"] is expand_assignments


def test_flat_entries_pass_through_unchanged():
    entries = [flat("GROUP", "ops", "Admin", A), flat("USER", "ada@example.com", PS_ARN, B)]
    assert expand_assignments(entries) == entries


def test_compact_entry_is_every_account_times_every_principal_groups_first():
    entries = [{"permission_set": "Auditor", "accounts": [A, B], "groups": ["auditors"], "users": ["ada@example.com"]}]
    assert expand_assignments(entries) == [
        flat("GROUP", "auditors", "Auditor", A), flat("USER", "ada@example.com", "Auditor", A),
        flat("GROUP", "auditors", "Auditor", B), flat("USER", "ada@example.com", "Auditor", B),
    ]


def test_users_only_and_groups_only():
    assert expand_assignments([{"permission_set": "Dev", "accounts": [A], "users": ["u@example.com"]}]) == [
        flat("USER", "u@example.com", "Dev", A)]
    assert expand_assignments([{"permission_set": "Dev", "accounts": [A], "groups": ["dev"], "users": []}]) == [
        flat("GROUP", "dev", "Dev", A)]


def test_duplicates_are_dropped_keeping_the_first_place():
    entries = [
        {"permission_set": "Dev", "accounts": [A, B], "groups": ["dev"]},
        flat("GROUP", "dev", "Dev", B),
        flat("USER", "u@example.com", "Dev", A),
        {"permission_set": "Dev", "accounts": [A], "groups": ["dev"], "users": ["u@example.com"]},
    ]
    assert expand_assignments(entries) == [flat("GROUP", "dev", "Dev", A), flat("GROUP", "dev", "Dev", B),
                                           flat("USER", "u@example.com", "Dev", A)]


def test_integer_account_ids_become_strings_when_they_still_have_12_digits():
    assert expand_assignments([{"permission_set": "Dev", "accounts": [111122223333], "groups": ["dev"]}]) == [
        flat("GROUP", "dev", "Dev", A)]
    # 012345678901 unquoted in YAML is the integer 12345678901: its leading zero is gone.
    message = refused([{"permission_set": "Dev", "accounts": [12345678901], "groups": ["dev"]}])
    assert "assignments[0].accounts[0]: '12345678901' is not an AWS account id (12 digits" in message


def test_leading_zero_account_as_a_string_is_kept():
    assert expand_assignments([flat("USER", "u@example.com", "Dev", C)]) == [flat("USER", "u@example.com", "Dev", C)]


def test_empty_and_none_input():
    assert expand_assignments([]) == []
    assert expand_assignments(None) == []


@pytest.mark.parametrize("entry, says", [
    (flat("USER", "u@example.com", "Dev", "11112222333"), "assignments[0].account_id: '11112222333' is not an AWS account id"),
    (flat("ROLE", "u@example.com", "Dev", A), "assignments[0].principal_type: 'ROLE' is neither USER nor GROUP"),
    (flat("USER", " ", "Dev", A), "assignments[0].principal: a user name, group name or id must be a non-empty string"),
    (flat("USER", "u@example.com", "Dev Ops", A), "assignments[0].permission_set: 'Dev Ops' is neither a permission set name"),
    (flat("USER", "u@example.com", "arn:aws:sso:::permissionSet/ps-1", A), "is not a permission set ARN"),
    ({"principal_type": "USER", "principal": "u@example.com", "permission_set": "Dev"}, "assignments[0] lacks account_id"),
    ({"permission_set": "Dev", "accounts": [A], "groups": ["dev"], "account": A}, "assignments[0] has unknown keys account"),
    ({"permission_set": "Dev", "accounts": [A], "principal": "dev"}, "mixes the flat form (principal) and the compact form (accounts)"),
    ({"permission_set": "Dev", "accounts": [], "groups": ["dev"]}, "assignments[0].accounts is missing or empty"),
    ({"permission_set": "Dev", "accounts": [A]}, "assignments[0] gives the permission set to nobody"),
    ({"accounts": [A], "groups": ["dev"]}, "assignments[0] lacks permission_set"),
    ({"permission_set": "Dev", "accounts": A, "groups": ["dev"]}, "assignments[0].accounts must be a list"),
    ({"permission_set": "Dev", "accounts": [A], "groups": [""]}, "assignments[0].groups[0]: a name or id must be a non-empty string"),
    ({"permission_set": "Dev", "accounts": [True], "groups": ["dev"]}, "assignments[0].accounts[0]: True is not an AWS account id"),
    ("Dev", "assignments[0] must be a dictionary"),
])
def test_each_problem_is_named(entry, says):
    assert says in refused([entry])


def test_every_problem_is_reported_at_once_with_the_name_given():
    message = refused([
        flat("USER", "u@example.com", "Dev", A),
        {"permission_set": "Dev", "accounts": [A, "1234"], "groups": ["dev"]},
        flat("USER", "u@example.com", "Dev", "abc"),
    ], name="identity_center_access_assignments")
    assert message.startswith("2 problem(s) in identity_center_access_assignments:")
    assert "identity_center_access_assignments[1].accounts[1]: '1234'" in message
    assert "identity_center_access_assignments[2].account_id: 'abc'" in message


def test_input_that_is_not_a_list_is_refused():
    assert "must be a list of access entries" in refused({"permission_set": "Dev"})
    assert "must be a list of access entries" in refused("Dev")
