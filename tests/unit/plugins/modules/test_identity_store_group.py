# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""identity_store_group's pure parts: input checks and the desired membership with and without purge_members."""

from __future__ import annotations

from ansible_collections.idfed.aws_sso.plugins.module_utils._state import plan
from ansible_collections.idfed.aws_sso.plugins.modules import identity_store_group as module

BEFORE = {"display_name": "ops", "group_id": "g-1", "identity_store_id": "d-93670c4a5b", "description": "",
          "members": ["ada@example.com", "grace@example.com"]}


def params(**values):
    return dict({"display_name": "ops", "description": None, "members": None, "purge_members": False}, **values)


def test_input_checks():
    assert module.check_input(params(members=["a@example.com", "b@example.com", "a@example.com"])) == (
        "members lists a@example.com more than once; list each user once.")
    assert module.check_input(params(display_name="")) == "display_name cannot be empty."
    assert module.check_input(params(members=[""])) == "members holds an empty user name."
    assert module.check_input(params(members=[])) is None


def test_members_are_added_unless_purged():
    added = module.desired_group(params(members=["alan@example.com"]), BEFORE)
    assert added["members"] == ["ada@example.com", "alan@example.com", "grace@example.com"]
    exact = module.desired_group(params(members=["grace@example.com"], purge_members=True), BEFORE)
    assert exact["members"] == ["grace@example.com"]
    emptied = module.desired_group(params(members=[], purge_members=True), BEFORE)
    assert emptied["members"] == []


def test_omitted_members_and_description_are_left_alone():
    desired = module.desired_group(params(), BEFORE)
    assert "members" not in desired and plan(module.SPEC, BEFORE, desired).changed_keys == ()
    reordered = module.desired_group(params(members=["grace@example.com", "ada@example.com"], purge_members=True), BEFORE)
    assert plan(module.SPEC, BEFORE, reordered).changed_keys == ()


def test_a_new_group_is_spelled_as_the_view():
    desired = module.desired_group(params(), None)
    assert desired == {"display_name": "ops", "description": "", "members": []}


class Recorder:
    def __init__(self):
        self.calls = []

    def update_group(self, **kwargs):
        self.calls.append(kwargs)


def test_update_group_sends_only_what_changed():
    desired = module.desired_group(params(display_name="Ops", description=""), dict(BEFORE, description="old"))
    planned = plan(module.SPEC, dict(BEFORE, description="old"), desired)
    client = Recorder()
    module.update_group(client, "d-93670c4a5b", "g-1", planned)
    assert client.calls == [{"aws_retry": True, "IdentityStoreId": "d-93670c4a5b", "GroupId": "g-1", "Operations": [
        {"AttributePath": "description", "AttributeValue": None}, {"AttributePath": "displayName", "AttributeValue": "Ops"}]}]
