# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The identity_center_federation role's filters: user names before any write, and the AWS CLI profiles."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.idfed.aws_sso.plugins.filter.federation import (
    FilterModule, sso_config_profiles, sso_session_name, user_name_problems)


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"user_name_problems", "sso_config_profiles", "sso_session_name"}


def test_email_user_names_pass():
    users = [{"user_name": "ada.lovelace@example.com", "given_name": "Ada", "family_name": "Lovelace"}]
    groups = [{"display_name": "platform", "members": ["ada.lovelace@example.com"]}, {"display_name": "empty"}]
    assert user_name_problems(users, groups) == []
    assert user_name_problems([], None) == []


def test_every_bad_name_is_named_with_its_place():
    users = [{"user_name": "ada"}, {"user_name": "grace@example.com"}, {"given_name": "NoName"}, "not a mapping"]
    groups = [{"display_name": "platform", "members": ["grace@example.com", "linus"]}, "nope"]
    problems = user_name_problems(users, groups)
    assert len(problems) == 5
    assert problems[0].startswith("users[0]: the user name 'ada' is not an email address")
    assert problems[1].startswith("users[2]: the user name '' is not an email address")
    assert problems[2].startswith("users[3]: must be a mapping")
    assert problems[3].startswith("groups[0] (platform) members[1]: the user name 'linus'")
    assert problems[4].startswith("groups[1]: must be a mapping")


def test_profiles_from_assignments_one_per_account_and_permission_set():
    assignments = [
        {"principal_type": "GROUP", "principal": "platform", "permission_set": "Admin", "account_id": "111122223333"},
        {"principal_type": "USER", "principal": "ada@example.com", "permission_set": "Admin", "account_id": "111122223333"},
        {"principal_type": "GROUP", "principal": "auditors", "permission_set": "Read Only", "account_id": "444455556666"},
    ]
    assert sso_config_profiles(assignments, "corp", "eu-west-1") == [
        {"name": "corp-111122223333-Admin", "account_id": "111122223333", "permission_set": "Admin", "region": "eu-west-1"},
        {"name": "corp-444455556666-Read-Only", "account_id": "444455556666", "permission_set": "Read Only",
         "region": "eu-west-1"},
    ]


def test_explicit_profiles_keep_their_name_and_region():
    profiles = [{"account_id": "111122223333", "permission_set": "Admin", "name": "prod admin", "region": "us-east-1"}]
    assert sso_config_profiles(profiles, "corp") == [
        {"name": "prod-admin", "account_id": "111122223333", "permission_set": "Admin", "region": "us-east-1"}]


@pytest.mark.parametrize("items, message", [
    ([{"account_id": "1234", "permission_set": "Admin"}], "not 12 digits"),
    ([{"account_id": 111122223333, "permission_set": "arn:aws:sso:::permissionSet/ssoins-1/ps-1"}], "name"),
    ([{"account_id": "111122223333", "permission_set": "A", "name": "x"},
      {"account_id": "444455556666", "permission_set": "B", "name": "x"}], "several profiles are named x"),
    (["nope"], "not a mapping"),
])
def test_bad_profiles_are_refused(items, message):
    with pytest.raises(AnsibleFilterError, match=message):
        sso_config_profiles(items, "corp")


def test_session_names():
    assert sso_session_name("corp prod/eu") == "corp-prod-eu"
    assert sso_session_name("test federation") == "test-federation"
    with pytest.raises(AnsibleFilterError):
        sso_session_name(" [] ")
    with pytest.raises(AnsibleFilterError):
        sso_config_profiles([], "")
