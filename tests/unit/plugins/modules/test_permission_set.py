# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""permission_set's pure parts: the option checks, the desired state and how it compares."""

from __future__ import annotations

import re

import pytest

from ansible_collections.idfed.aws_sso.plugins.module_utils._state import plan
from ansible_collections.idfed.aws_sso.plugins.modules import permission_set as module

POLICY = {"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                                                  "Resource": "*"}]}


def options(**values) -> dict:
    defaults = {
        "name": "Auditor", "state": "present", "description": None, "session_duration": None, "relay_state": None,
        "inline_policy": None, "managed_policies": None, "purge_managed_policies": True, "customer_managed_policies": None,
        "purge_customer_managed_policies": True, "permissions_boundary": None, "tags": None, "purge_tags": True,
    }
    return dict(defaults, **values)


def existing(**values) -> dict:
    found = {
        "name": "Auditor", "arn": "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef",
        "description": "", "session_duration": "PT1H", "relay_state": "", "inline_policy": POLICY,
        "managed_policies": ["arn:aws:iam::aws:policy/ReadOnlyAccess"], "customer_managed_policies": [],
        "permissions_boundary": [], "tags": [{"key": "aws:cloudformation:stack-name", "value": "s"}, {"key": "team", "value": "sec"}],
        "provisioned_accounts": ["111122223333"], "outdated_accounts": [],
    }
    return dict(found, **values)


@pytest.mark.parametrize("text, seconds", [("PT1H", 3600), ("PT90M", 5400), ("PT2H30M", 9000), ("PT43200S", 43200),
                                           ("PT1H0M0S", 3600), ("P1D", None), ("PT", None), ("pt1h", None), ("PT1.5H", None)])
def test_session_seconds(text, seconds):
    assert module.session_seconds(text) == seconds


@pytest.mark.parametrize("duration, refused", [("PT1H", False), ("PT12H", False), ("PT720M", False), ("PT59M", True),
                                               ("PT13H", True), ("PT12H1S", True), ("8h", True)])
def test_session_duration_range_names_the_accepted_forms(duration, refused):
    problems = module.check_options(options(session_duration=duration))
    assert bool(problems) == refused
    if refused:
        assert "from 1 to 12 hours" in problems[0] and "PT1H, PT90M, PT2H30M or PT12H" in problems[0]


def test_a_policy_string_that_is_not_json_names_where_it_fails():
    with pytest.raises(ValueError, match=r"inline_policy is not JSON: Expecting ',' delimiter: line 2 column 5 \(char 20\)"):
        module.parse_inline_policy('{"Version": "x"\n    "Statement": []}')


@pytest.mark.parametrize("value, expected", [(None, None), ("", {}), ("  ", {}), ({}, {}), (POLICY, POLICY),
                                             ('{"Statement": []}', {"Statement": []}), ("{" + " " * 40000 + "}", {})])
def test_inline_policy_forms(value, expected):
    assert module.parse_inline_policy(value) == expected


@pytest.mark.parametrize("value, message", [("[1, 2]", "must be a policy document (a dictionary or a JSON object), not a list"),
                                            (3, "not a int"),
                                            ({"Sid": "x" * 32768}, "is 32778 characters as compact JSON; Identity Center takes at most 32768")])
def test_inline_policy_refusals(value, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        module.parse_inline_policy(value)


@pytest.mark.parametrize("values, message", [
    ({"name": "has space"}, "is not a permission set name"),
    ({"name": "x" * 33}, "is not a permission set name"),
    ({"description": ""}, "the API cannot remove a description"),
    ({"relay_state": "https://example.com/<script>"}, "relay_state must be a URL"),
    ({"managed_policies": ["arn:aws:iam::123456789012:policy/Mine"]}, "is not an AWS managed policy ARN"),
    ({"managed_policies": ["arn:aws:iam::aws:policy/A", "arn:aws:iam::aws:policy/A"]}, "is listed twice"),
    ({"customer_managed_policies": [{"name": "Base", "path": "/x"}]}, "customer_managed_policies[0].path '/x' is not an IAM path"),
    ({"customer_managed_policies": [{"name": "B", "path": "/"}, {"name": "B", "path": "/"}]}, "customer_managed_policies: /B is listed twice"),
    ({"permissions_boundary": {"managed_policy_arn": "arn:aws:iam::aws:policy", "customer_managed_policy": None}},
     "permissions_boundary.managed_policy_arn"),
    ({"permissions_boundary": {"managed_policy_arn": None, "customer_managed_policy": {"name": "b b", "path": "/"}}},
     "permissions_boundary.customer_managed_policy.name"),
    ({"tags": {"AWS:owner": "me"}}, "which AWS reserves"),
    ({"inline_policy": "{nope"}, "inline_policy is not JSON"),
])
def test_option_checks(values, message):
    problems = module.check_options(options(**values))
    assert len(problems) == 1 and message in problems[0]


def test_valid_options_pass():
    assert module.check_options(options(
        description="Read only", session_duration="PT8H", relay_state="https://console.aws.amazon.com/s3/home?region=eu-west-1#",
        inline_policy=POLICY, managed_policies=["arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"],
        customer_managed_policies=[{"name": "Base", "path": "/org/team/"}],
        permissions_boundary={"managed_policy_arn": None, "customer_managed_policy": {"name": "Boundary", "path": "/"}},
        tags={"team": "sec"})) == []


def test_unset_options_leave_everything_as_it_is():
    before = existing()
    assert plan(module.SPEC, before, module.desired_state(options(), before)).outcome == "unchanged"


def test_a_reformatted_policy_and_an_equal_duration_are_no_change():
    before = existing(session_duration="PT2H")
    reordered = '{"Statement": {"Resource": ["*"], "Action": ["S3:ListBucket", "s3:GetObject"], "Effect": "Allow", "Sid": "Read"},' \
                ' "Version": "2012-10-17"}'
    desired = module.desired_state(options(inline_policy=reordered, session_duration="PT120M"), before)
    assert desired["session_duration"] == "PT2H"
    assert plan(module.SPEC, before, desired).outcome == "unchanged"


def test_purging_managed_policies_and_tags_is_a_change_that_keeps_aws_tags():
    before = existing()
    desired = module.desired_state(options(managed_policies=["arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"],
                                           tags={"env": "prod"}), before)
    planned = plan(module.SPEC, before, desired)
    assert planned.changed_keys == ("managed_policies", "tags")
    assert planned.after["managed_policies"] == ["arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"]
    assert module.shown(planned.after)["tags"] == {"aws:cloudformation:stack-name": "s", "env": "prod"}


def test_without_purge_the_lists_and_tags_grow():
    before = existing()
    desired = module.desired_state(options(managed_policies=["arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"],
                                           purge_managed_policies=False, tags={"env": "prod"}, purge_tags=False), before)
    after = plan(module.SPEC, before, desired).after
    assert sorted(after["managed_policies"]) == ["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"]
    assert module.shown(after)["tags"] == {"aws:cloudformation:stack-name": "s", "env": "prod", "team": "sec"}


def test_the_boundary_switches_kind_and_is_removed_with_an_empty_dict():
    before = existing(permissions_boundary=[{"managed_policy_arn": "arn:aws:iam::aws:policy/PowerUserAccess"}])
    switch = {"managed_policy_arn": None, "customer_managed_policy": {"name": "Boundary", "path": "/"}}
    after = plan(module.SPEC, before, module.desired_state(options(permissions_boundary=switch), before)).after
    assert module.shown(after)["permissions_boundary"] == {"customer_managed_policy": {"name": "Boundary", "path": "/"}}
    removal = {"managed_policy_arn": None, "customer_managed_policy": None}
    planned = plan(module.SPEC, before, module.desired_state(options(permissions_boundary=removal), before))
    assert planned.changed_keys == ("permissions_boundary",) and module.shown(planned.after)["permissions_boundary"] == {}


def test_outdated_accounts_are_a_change_to_make():
    before = existing(outdated_accounts=["111122223333"])
    planned = plan(module.SPEC, before, module.desired_state(options(), before))
    assert planned.changed_keys == ("outdated_accounts",) and planned.after["outdated_accounts"] == []


def test_relay_state_removal_and_no_relay_state():
    assert plan(module.SPEC, existing(), module.desired_state(options(relay_state=""), existing())).outcome == "unchanged"
    before = existing(relay_state="https://example.com/")
    assert plan(module.SPEC, before, module.desired_state(options(relay_state=""), before)).changed_keys == ("relay_state",)


def test_a_creation_predicts_what_was_asked():
    desired = module.desired_state(options(inline_policy="", managed_policies=[], tags={"a": "b"},
                                           permissions_boundary={"managed_policy_arn": None, "customer_managed_policy": None}), None)
    planned = plan(module.SPEC, None, desired)
    assert planned.outcome == "created"
    assert module.shown(planned.after) == {"name": "Auditor", "inline_policy": {}, "managed_policies": [], "tags": {"a": "b"},
                                           "permissions_boundary": {}, "outdated_accounts": []}
