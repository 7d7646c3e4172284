# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""account_assignment's checks before any call, and the exclusive scope."""

from __future__ import annotations

import pytest

from ansible_collections.idfed.aws_sso.plugins.modules import account_assignment as module

DEV = "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef"
OPS = "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-fedcba9876543210"


def entry(**values) -> dict:
    return dict({"principal_type": "USER", "principal": "ada@example.com", "permission_set": "Dev", "account_id": "111122223333"}, **values)


def params(assignments, state="present", exclusive=None) -> dict:
    return {"assignments": assignments, "state": state, "exclusive": exclusive}


def test_good_input_passes():
    assert module.check_input(params([entry(), entry(permission_set=DEV), entry(principal_type="GROUP", principal="ops")],
                                     exclusive={"permission_sets": ["Dev"], "account_ids": None})) == []


@pytest.mark.parametrize("values, message", [
    ({"account_id": "11112222333"}, "assignments[0].account_id: '11112222333' is not an AWS account id (12 digits"),
    ({"account_id": "1111-2222-3333"}, "is not an AWS account id"),
    ({"permission_set": "arn:aws:sso:::permissionSet/ps-1"}, "assignments[0].permission_set: 'arn:aws:sso:::permissionSet/ps-1' is not a permission set ARN"),
    ({"permission_set": "Dev Ops"}, "is neither a permission set name"),
    ({"principal": " "}, "assignments[0].principal is empty"),
])
def test_malformed_entries_are_refused(values, message):
    problems = module.check_input(params([entry(**values)]))
    assert len(problems) == 1 and message in problems[0]


def test_a_repeated_entry_is_refused_naming_both():
    problems = module.check_input(params([entry(), entry(account_id="444455556666"), entry()]))
    assert problems == ["assignments[2] repeats assignments[0]; list each assignment once."]


@pytest.mark.parametrize("state, exclusive, message", [
    ("absent", {"permission_sets": ["Dev"], "account_ids": None}, "goes with state: present only"),
    ("present", {"permission_sets": None, "account_ids": []}, "exclusive needs permission_sets, account_ids or both"),
    ("present", {"permission_sets": None, "account_ids": ["123"]}, "exclusive.account_ids[0]: '123' is not an AWS account id"),
    ("present", {"permission_sets": ["arn:aws:sso:::x"], "account_ids": None}, "exclusive.permission_sets[0]"),
])
def test_exclusive_checks(state, exclusive, message):
    problems = module.check_input(params([], state=state, exclusive=exclusive))
    assert len(problems) == 1 and message in problems[0]


@pytest.mark.parametrize("exclusive, scope_arns, inside", [
    ({"permission_sets": ["Dev"], "account_ids": None}, {DEV}, [True, True, False]),
    ({"permission_sets": None, "account_ids": ["111122223333"]}, set(), [True, False, True]),
    ({"permission_sets": ["Dev"], "account_ids": ["111122223333"]}, {DEV}, [True, False, False]),
])
def test_the_exclusive_scope(exclusive, scope_arns, inside):
    keys = [module.Key("111122223333", DEV, "USER", "u"), module.Key("444455556666", DEV, "USER", "u"),
            module.Key("111122223333", OPS, "GROUP", "g")]
    assert [module.in_scope(key, exclusive, scope_arns) for key in keys] == inside


def test_the_failure_message_lists_each_reason():
    failures = [dict(operation="create", principal_type="GROUP", principal="ops", permission_set="Dev", account_id="111122223333",
                     reason="Received a 404 status error: Not supported policy arn:aws:iam::111122223333:policy/Base.")]
    message = module.failure_message(failures, 600)
    assert message.startswith("1 account assignment request(s) did not succeed")
    assert "create GROUP ops -> Dev in 111122223333: Received a 404 status error" in message
