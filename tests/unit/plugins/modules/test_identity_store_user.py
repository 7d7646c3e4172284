# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""identity_store_user's pure parts: input checks, the view of a DescribeUser answer, the desired user, and the
UpdateUser operations (only what changed; "" removes; the other email addresses stay)."""

from __future__ import annotations

from ansible_collections.idfed.aws_sso.plugins.module_utils._aws import identity_center
from ansible_collections.idfed.aws_sso.plugins.module_utils._state import plan
from ansible_collections.idfed.aws_sso.plugins.modules import identity_store_user as module

OPTIONS = ("user_name", "display_name", "given_name", "family_name", "email", "nickname", "title", "preferred_language",
           "locale", "timezone", "user_type", "profile_url")
DESCRIBED = {
    "IdentityStoreId": "d-93670c4a5b",
    "UserId": "u-1",
    "UserName": "ada@example.com",
    "DisplayName": "Ada Lovelace",
    "Name": {"GivenName": "Ada", "FamilyName": "Lovelace"},
    "Emails": [{"Value": "ada@home.example", "Type": "home"}, {"Value": "ada@example.com", "Type": "work", "Primary": True}],
    "Title": "Analyst",
}


def params(**values):
    return dict({name: None for name in OPTIONS}, **dict({"state": "present"}, **values))


def test_input_checks():
    assert "is not an email address" in module.check_input(params(user_name="ada"))
    assert module.check_input(params(user_name="ada", state="absent")) is None  # old users can be removed
    assert module.check_input(params(user_name="ada@example.com", email="ada")) == "email: 'ada' is not an email address."
    assert module.check_input(params(user_name="ada@example.com", display_name="", family_name="")) == (
        "display_name, family_name cannot be empty: Identity Center requires a value.")
    assert module.check_input(params(user_name="ada@example.com", title="")) is None  # "" removes an optional attribute


def test_view_of_a_described_user():
    view = module.user_view(DESCRIBED)
    assert view["email"] == "ada@example.com"  # the primary address, not the first
    assert view["given_name"] == "Ada" and view["title"] == "Analyst" and view["nickname"] == ""
    assert module.user_view(dict(DESCRIBED, Emails=[]))["email"] == ""


def test_a_new_user_gets_defaults_and_needs_names():
    desired = module.desired_user(params(user_name="ada@example.com", given_name="Ada", family_name="Lovelace"), None)
    assert desired["display_name"] == "Ada Lovelace" and desired["email"] == "ada@example.com" and desired["title"] == ""
    incomplete = module.desired_user(params(user_name="ada@example.com", given_name="Ada"), None)
    assert module.check_creatable(incomplete) == (
        "family_name is required to create the user ada@example.com: Identity Center requires a given and a family name.")


def test_update_operations_cover_only_what_changed():
    before = module.user_view(DESCRIBED)
    desired = module.desired_user(params(user_name="ada@example.com", title="", given_name="Augusta",
                                         email="ada@lovelace.example", locale="en_GB"), before)
    planned = plan(module.SPEC, before, desired)
    assert planned.changed_keys == ("email", "given_name", "locale", "title")
    operations = module.update_operations(planned, DESCRIBED["Emails"])
    assert operations == [
        {"AttributePath": "emails", "AttributeValue": [{"Value": "ada@home.example", "Type": "home"},
                                                       {"Value": "ada@lovelace.example", "Type": "work", "Primary": True}]},
        {"AttributePath": "name.givenName", "AttributeValue": "Augusta"},
        {"AttributePath": "locale", "AttributeValue": "en_GB"},
        {"AttributePath": "title", "AttributeValue": None},
    ]
    assert DESCRIBED["Emails"][1]["Value"] == "ada@example.com"  # the answer is not modified


def test_unchanged_user_needs_no_operation():
    before = module.user_view(DESCRIBED)
    desired = module.desired_user(params(user_name="ada@example.com", email="ada@example.com", title="Analyst"), before)
    assert plan(module.SPEC, before, desired).changed_keys == ()


def test_primary_email_of_a_user_without_one():
    assert identity_center.with_primary_email(None, "a@example.com") == [{"Value": "a@example.com", "Type": "work", "Primary": True}]
    assert identity_center.with_primary_email([{"Value": "old@example.com"}], "a@example.com") == [{"Value": "a@example.com"}]


def test_a_user_found_under_another_spelling_takes_the_tasks():
    before = module.user_view(dict(DESCRIBED, UserName="Ada@Example.com"))
    planned = plan(module.SPEC, before, module.desired_user(params(user_name="ada@example.com", email="ada@example.com"), before))
    assert module.update_operations(planned, DESCRIBED["Emails"]) == [{"AttributePath": "userName", "AttributeValue": "ada@example.com"}]
