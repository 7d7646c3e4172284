# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""identity_store_sync: reading and checking the input, the plan, the diff, and the calls against the local back end."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.idfed.aws_sso.plugins.module_utils._aws import identity_center
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper

from ansible_collections.idfed.aws_sso.plugins.module_utils._aws.identity_center import IDENTITY_STORE_RETRY
from ansible_collections.idfed.aws_sso.plugins.modules import identity_store_sync as sync

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "support"))
from moto_ext.launcher import MotoServer  # noqa: E402  pylint: disable=wrong-import-position


def params(**overrides: Any) -> dict:
    values = dict(users=[], groups=[], src=None, purge_users=False, purge_groups=False, purge_members=True)
    values.update(overrides)
    return values


def user(name: str, **attributes: Any) -> dict:
    return dict(dict(user_name=name, display_name=None, given_name="Given", family_name="Family", email=None), **attributes)


def group(name: str, members: list | None = None, description: str | None = None) -> dict:
    return dict(display_name=name, description=description, members=members)


def problems_of(**overrides: Any) -> str:
    with pytest.raises(sync.InputError) as caught:
        sync.read_input(params(**overrides))
    return str(caught.value)


# ---------------------------------------------------------------- input


def test_defaults_for_display_name_and_email() -> None:
    wanted = sync.read_input(params(users=[user("ada@example.com", given_name="Ada", family_name="Lovelace")]))
    assert wanted.users["ada@example.com"] == {"user_name": "ada@example.com", "display_name": "Ada Lovelace",
                                               "given_name": "Ada", "family_name": "Lovelace", "email": "ada@example.com"}


def test_every_problem_is_named_at_once() -> None:
    message = problems_of(
        users=[user("jdoe"), user("Ada@example.com"), user("ada@EXAMPLE.com"), user("x@example.com", email="nope")],
        groups=[group("team"), group("team"), group("Administrator")], purge_groups=False)
    assert "users[0]: the user name 'jdoe' is not an email address" in message
    assert "users[2]: the user ada@EXAMPLE.com is listed twice (also at users[1])" in message
    assert "users[3]: email 'nope' is not an email address" in message
    assert "groups[1]: the group team is listed twice" in message
    assert "'Administrator' cannot be a group name (reserved" in message


@pytest.mark.parametrize("option, listed", [("purge_users", "groups"), ("purge_groups", "users")])
def test_a_purge_with_nothing_listed_is_refused(option: str, listed: str) -> None:
    values = {"groups": [group("team")]} if listed == "groups" else {"users": [user("a@example.com")]}
    assert "would delete every one" in problems_of(**values, **{option: True})


def test_yaml_src_joins_the_options(tmp_path: Path) -> None:
    src = tmp_path / "estate.yml"
    src.write_text("users:\n  - {user_name: b@example.com, given_name: B, family_name: Bee}\n"
                   "groups:\n  - {display_name: team, members: [a@example.com, b@example.com]}\n")
    wanted = sync.read_input(params(users=[user("a@example.com")], src=str(src)))
    assert sorted(wanted.users) == ["a@example.com", "b@example.com"]
    assert wanted.groups["team"]["members"] == {"a@example.com", "b@example.com"}


def test_yaml_src_is_checked_like_the_options(tmp_path: Path) -> None:
    src = tmp_path / "estate.yaml"
    src.write_text("users:\n  - {user_name: b@example.com, family_name: Bee, colour: blue}\nteams: []\n")
    message = problems_of(src=str(src))
    assert "missing required arguments: given_name" in message
    assert "unsupported parameter" in message and "colour" in message and "teams" in message


def test_csv_src_with_memberships_joining_the_groups_option(tmp_path: Path) -> None:
    src = tmp_path / "people.csv"
    src.write_text("\ufeffuser_name, given_name ,family_name,groups\n"
                   "a@example.com,A,Ay,analysts; admins\n"
                   "b@example.com,B,Bee,analysts\n"
                   "\n"
                   "c@example.com,C,Cee,\n", encoding="utf-8")
    wanted = sync.read_input(params(src=str(src), groups=[group("admins", description="Admins", members=["c@example.com"])]))
    assert sorted(wanted.users) == ["a@example.com", "b@example.com", "c@example.com"]
    assert wanted.groups["analysts"] == {"display_name": "analysts", "description": None,
                                         "members": {"a@example.com", "b@example.com"}}
    assert wanted.groups["admins"] == {"display_name": "admins", "description": "Admins",
                                       "members": {"a@example.com", "c@example.com"}}


def test_csv_problems_name_their_lines(tmp_path: Path) -> None:
    src = tmp_path / "people.csv"
    src.write_text("user_name,given_name,family_name\nok@example.com,O,K\nbad,B,D\nx@example.com,,D\ny@example.com,Y,Y,extra\n"
                   ",No,Name\n")
    message = problems_of(src=str(src))
    assert "line 3: the user name 'bad'" in message
    assert "line 4: given_name cannot be empty" in message
    assert "line 5: more cells than the header" in message
    assert "line 6: the user name '' is not an email address" in message


def test_a_csv_header_with_unknown_or_missing_columns(tmp_path: Path) -> None:
    src = tmp_path / "people.csv"
    src.write_text("user_name,given,family_name\n")
    message = problems_of(src=str(src))
    assert "unknown: given" in message and "missing: given_name" in message


def test_src_must_name_its_format(tmp_path: Path) -> None:
    src = tmp_path / "people.txt"
    src.write_text("")
    assert "must end in .csv, .yml, .yaml or .json" in problems_of(src=str(src))


# ---------------------------------------------------------------- the plan


def store() -> sync.Store:
    users = {name: {"user_id": "id-" + name, "user_name": name, "display_name": "Given Family", "given_name": "Given",
                    "family_name": "Family", "email": name, "emails": [{"Value": name, "Primary": True}]}
             for name in ("a@example.com", "b@example.com", "old@example.com")}
    groups = {name: {"group_id": "gid-" + name, "display_name": name, "description": ""} for name in ("team", "old-team")}
    return sync.Store(users, groups, {"team": {"a@example.com": "m-a", "old@example.com": "m-old"}})


def test_the_plan_writes_only_what_differs() -> None:
    wanted = sync.read_input(params(
        users=[user("a@example.com"), user("b@example.com", display_name="Bee"), user("new@example.com")],
        groups=[group("team", ["a@example.com", "b@example.com"], description="The team"), group("fresh", ["new@example.com"])]))
    changes = sync.plan_changes(wanted, store(), params())
    assert [item["user_name"] for item in changes.create_users] == ["new@example.com"]
    assert [(before["user_name"], keys) for before, _after, keys in changes.update_users] == [("b@example.com", ("display_name",))]
    assert changes.delete_users == [] and changes.delete_groups == []
    assert [item["display_name"] for item in changes.create_groups] == ["fresh"]
    assert [after["description"] for _before, after in changes.update_groups] == ["The team"]
    assert changes.add_members == {"team": {"b@example.com"}, "fresh": {"new@example.com"}}
    assert changes.remove_members == {"team": {"old@example.com": "m-old"}}
    assert sync.summary(changes) == {
        "users": {"created": 1, "updated": 1, "deleted": 0, "unchanged": 1},
        "groups": {"created": 1, "updated": 1, "deleted": 0, "unchanged": 0},
        "memberships": {"created": 2, "deleted": 1}}


def test_purges_and_members_left_alone() -> None:
    wanted = sync.read_input(params(users=[user("a@example.com"), user("b@example.com")], groups=[group("team", ["b@example.com"])]))
    changes = sync.plan_changes(wanted, store(), params(purge_users=True, purge_groups=True, purge_members=False))
    assert [item["user_name"] for item in changes.delete_users] == ["old@example.com"]
    assert [item["display_name"] for item in changes.delete_groups] == ["old-team"]
    assert changes.add_members == {"team": {"b@example.com"}} and changes.remove_members == {}
    unmanaged = sync.read_input(params(groups=[group("team")]))
    assert sync.plan_changes(unmanaged, store(), params()).remove_members == {}


def test_members_nobody_can_resolve_or_a_purge_would_delete_are_refused() -> None:
    wanted = sync.read_input(params(users=[user("a@example.com")], groups=[group("team", ["old@example.com", "ghost@example.com"])]))
    with pytest.raises(sync.InputError) as caught:
        sync.plan_changes(wanted, store(), params(purge_users=True))
    assert "ghost@example.com is neither in users nor in the identity store" in str(caught.value)
    assert "old@example.com is not in users, and purge_users would delete it" in str(caught.value)


def test_the_diff_shows_only_what_changes() -> None:
    wanted = sync.read_input(params(users=[user("a@example.com"), user("b@example.com", display_name="Bee")],
                                    groups=[group("team", ["a@example.com", "b@example.com"])]))
    shown = sync.diff(sync.plan_changes(wanted, store(), params()), store(), wanted)
    assert list(shown["before"]["users"]) == ["b@example.com"]
    assert shown["after"]["users"]["b@example.com"]["display_name"] == "Bee"
    assert shown["before"]["groups"]["team"]["members"] == ["a@example.com", "old@example.com"]
    assert shown["after"]["groups"]["team"] == {"description": "", "members": ["a@example.com", "b@example.com"]}


def test_only_the_primary_address_is_replaced() -> None:
    emails = [{"Value": "old@example.com", "Type": "work", "Primary": True}, {"Value": "home@example.com", "Type": "home"}]
    assert identity_center.with_primary_email(emails, "new@example.com") == [
        {"Value": "new@example.com", "Type": "work", "Primary": True}, {"Value": "home@example.com", "Type": "home"}]
    assert identity_center.with_primary_email([], "a@example.com") == [{"Value": "a@example.com", "Type": "work", "Primary": True}]


# ---------------------------------------------------------------- the calls, against the local back end


@pytest.fixture(scope="module")
def aws() -> Any:
    with MotoServer() as server:
        yield server


@pytest.fixture
def api(aws: MotoServer) -> sync.Api:
    aws.reset()
    store_id = aws.client("sso-admin").list_instances()["Instances"][0]["IdentityStoreId"]
    return sync.Api(RetryingBotoClientWrapper(aws.client("identitystore"), IDENTITY_STORE_RETRY), store_id)


def desired(name: str, display_name: str = "Given Family") -> dict:
    return {"user_name": name, "display_name": display_name, "given_name": "Given", "family_name": "Family", "email": name}


def test_lists_page_at_the_api_maximum(aws: MotoServer, api: sync.Api) -> None:
    for index in range(120):
        api.create_user(desired("user{0:03d}@example.com".format(index)))
    aws.clear_log()
    assert len(api.list_users()) == 120
    assert [entry["operation"] for entry in aws.log()] == ["ListUsers", "ListUsers"]  # 100 + 20


def test_a_user_or_group_that_appears_meanwhile_is_taken_over_not_duplicated(aws: MotoServer, api: sync.Api) -> None:
    existing = api.create_user(desired("ada@example.com"))
    assert api.create_user(desired("ada@example.com", display_name="Countess")) == existing
    users = api.list_users()
    assert len(users) == 1 and users[0]["DisplayName"] == "Countess"
    group_id, taken_over = api.create_group({"display_name": "team", "description": None})
    assert not taken_over
    assert api.create_group({"display_name": "team", "description": "The team"}) == (group_id, True)
    assert api.list_groups()[0]["Description"] == "The team"


def test_repeated_membership_and_deletion_calls_are_harmless(aws: MotoServer, api: sync.Api) -> None:
    user_id = api.create_user(desired("ada@example.com"))
    group_id, _taken_over = api.create_group({"display_name": "team", "description": None})
    api.add_member(group_id, user_id)
    api.add_member(group_id, user_id)  # ConflictException "already exists": done already
    assert list(api.list_memberships(group_id)) == [user_id]
    api.delete_group(group_id)
    api.delete_group(group_id)
    api.delete_user(user_id)
    api.delete_user(user_id)
    assert api.list_users() == [] and api.list_groups() == []


def test_throttling_is_retried(aws: MotoServer, api: sync.Api) -> None:
    aws.set_faults([{"service": "identitystore", "operation": "ListUsers", "every": 2}])
    api.create_user(desired("ada@example.com"))
    assert len(api.list_users()) == 1 and len(api.list_users()) == 1  # the second call is throttled once, then retried
    assert [entry["error"] for entry in aws.log() if entry["operation"] == "ListUsers"] == [None, "ThrottlingException", None]


def test_the_writer_runs_the_plan_on_a_pool(aws: MotoServer, api: sync.Api) -> None:
    wanted = sync.read_input(params(users=[user("a@example.com"), user("b@example.com")],
                                    groups=[group("team", ["a@example.com", "b@example.com"])]))
    with ThreadPoolExecutor(max_workers=4) as pool:
        found = sync.read_store(api, pool, wanted)
        changes = sync.plan_changes(wanted, found, params())
        writer = sync.Writer(api, pool, found)
        writer.write(changes, wanted, True)
        again = sync.plan_changes(wanted, sync.read_store(api, pool, wanted), params())
    assert writer.failures == []
    assert writer.summary(sync.summary(changes))["memberships"] == {"created": 2, "deleted": 0}
    assert not sync.is_changed(again)
