# -*- coding: utf-8 -*-
"""The before/desired/after comparison: normalisation, outcomes, check and diff mode, masking, immutables."""

from __future__ import annotations

import json

import pytest

from ansible_collections.idfed.aws_sso.plugins.module_utils._state import (
    ALWAYS, CREATED, DELETED, MASK, MASK_CHANGED, UNCHANGED, UPDATED, Spec, StateError, ensure, plan)

SECRET = "s3cr3t-client-secret-value"
NEW_SECRET = "n3w-client-secret-value"
RETURN_KEYS = {"changed", "outcome", "before", "after"}


class Failed(Exception):
    """What AnsibleModule.fail_json does (it exits); the kwargs are kept for the assertions."""


class FakeModule:
    def __init__(self, check_mode=False, diff=False, no_log_values=()):
        self.check_mode = check_mode
        self._diff = diff
        self.no_log_values = set(no_log_values)

    def fail_json(self, **kwargs):
        raise Failed(kwargs)


class Writers:
    """Records every call; each writer returns `returns` (None: keep the prediction)."""

    def __init__(self, returns=None):
        self.calls = []
        self.returns = returns

    def _record(self, name, planned):
        self.calls.append((name, planned))
        return self.returns

    def create(self, planned):
        return self._record("create", planned)

    def update(self, planned):
        return self._record("update", planned)

    def delete(self, planned):
        return self._record("delete", planned)

    def kwargs(self):
        return {"create": self.create, "update": self.update, "delete": self.delete}

    @property
    def names(self):
        return [name for name, _planned in self.calls]


APP = Spec(sets={"acs_urls"}, read_only={"id", "created", "etag", "attributes.id"}, secrets={"client_secret"},
           immutable={"name": "Delete it with state: absent and create it again, or pick another name."})


def run(before, desired, *, spec=APP, state="present", module=None, writers=None, **kwargs):
    module = module or FakeModule()
    writers = writers or Writers()
    result = ensure(module, spec, before, desired, state=state, **writers.kwargs(), **kwargs)
    return result, writers


def outcome(spec, before, desired, **kwargs):
    return plan(spec, before, desired, **kwargs).outcome


# Normalisation -----------------------------------------------------------------------------------------------

def test_a_declared_set_ignores_order_and_duplicates():
    before = {"acs_urls": ["https://a", "https://b"]}
    assert outcome(APP, before, {"acs_urls": ["https://b", "https://a", "https://b"]}) == UNCHANGED
    assert outcome(APP, before, {"acs_urls": ["https://b", "https://a", "https://c"]}) == UPDATED
    assert outcome(APP, before, {"acs_urls": ["https://a"]}) == UPDATED


def test_a_multiset_ignores_order_but_counts_duplicates():
    spec = Spec(multisets={"values"})
    assert outcome(spec, {"values": ["x", "y", "x"]}, {"values": ["x", "x", "y"]}) == UNCHANGED
    assert outcome(spec, {"values": ["x", "y", "x"]}, {"values": ["x", "y"]}) == UPDATED


def test_an_undeclared_list_is_ordered():
    assert outcome(APP, {"redirects": ["a", "b"]}, {"redirects": ["b", "a"]}) == UPDATED


def test_unordered_dicts_pair_with_the_elements_they_describe():
    """Wanted elements name fewer keys than the API returns; vendor extras and read-only ids do not count."""
    spec = Spec(sets={"attributes"}, read_only={"attributes.id"})
    before = {"attributes": [{"name": "b", "format": "basic", "id": 1}, {"name": "a", "format": "uri", "id": 2}]}
    unchanged = plan(spec, before, {"attributes": [{"name": "a"}, {"name": "b", "format": "basic", "id": 9}]})
    assert unchanged.outcome == UNCHANGED
    changed = plan(spec, before, {"attributes": [{"name": "a", "format": "basic"}, {"name": "b"}]})
    assert changed.outcome == UPDATED
    # The element that matched keeps the API's fields; the changed one is what the task asks for.
    assert changed.after["attributes"] == [{"name": "a", "format": "basic"}, {"name": "b", "format": "basic", "id": 1}]


def test_unordered_dicts_use_a_maximum_matching_not_a_greedy_one():
    """{"name": "a"} fits both; a greedy pass would take the element the second one needs."""
    spec = Spec(sets={"attributes"})
    before = {"attributes": [{"name": "a", "format": "x", "extra": 1}, {"name": "a", "format": "y", "extra": 2}]}
    assert outcome(spec, before, {"attributes": [{"name": "a"}, {"name": "a", "format": "x"}]}) == UNCHANGED


def test_an_extra_element_on_the_api_side_is_a_change():
    spec = Spec(sets={"attributes"})
    before = {"attributes": [{"name": "a"}, {"name": "b"}]}
    assert outcome(spec, before, {"attributes": [{"name": "a"}]}) == UPDATED


POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
         "Resource": ["arn:aws:s3:::bucket", "arn:aws:s3:::bucket/*"]},
        {"Effect": "Deny", "NotAction": ["iam:*"], "NotResource": ["arn:aws:iam::*:role/keep"],
         "Principal": {"AWS": ["arn:aws:iam::123456789012:root"]},
         "Condition": {"Bool": {"aws:MultiFactorAuthPresent": [False]}}},
    ],
}
SAME_POLICY = [
    pytest.param(json.dumps(POLICY, indent=4), id="a JSON string, any spacing"),
    pytest.param(json.dumps(dict(reversed(list(POLICY.items())))), id="key order"),
    pytest.param(dict(POLICY, Statement=list(reversed(POLICY["Statement"]))), id="statement order"),
    pytest.param(dict(POLICY, Statement=[
        dict(POLICY["Statement"][0], Action=["s3:ListBucket", "s3:GetObject"]), POLICY["Statement"][1]]),
        id="action order"),
    pytest.param(dict(POLICY, Statement=[
        dict(POLICY["Statement"][0], Action=["S3:getobject", "s3:listbucket"]), POLICY["Statement"][1]]),
        id="action names are case-insensitive"),
    pytest.param(dict(POLICY, Statement=[POLICY["Statement"][0], dict(
        POLICY["Statement"][1], NotAction="iam:*", NotResource="arn:aws:iam::*:role/keep",
        Principal={"AWS": "123456789012"}, Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}})]),
        id="scalars for one-element lists, account id for root ARN, 'false' for False"),
]


@pytest.mark.parametrize("desired", SAME_POLICY)
def test_a_policy_compares_by_meaning(desired):
    spec = Spec(policies={"inline_policy"})
    planned = plan(spec, {"inline_policy": json.dumps(POLICY)}, {"inline_policy": desired})
    assert planned.outcome == UNCHANGED
    assert planned.after == {"inline_policy": json.dumps(POLICY)}  # the API's spelling is kept


def test_policy_statement_as_a_dict_equals_a_one_element_list():
    spec = Spec(policies={"trust"})
    statement = {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRoleWithSAML", "Resource": "*"}
    before = {"trust": {"Version": "2012-10-17", "Statement": [dict(statement, Principal={"AWS": ["*"]})]}}
    assert outcome(spec, before, {"trust": {"Version": "2012-10-17", "Statement": statement}}) == UNCHANGED


def test_policy_version_is_compared_and_absent_means_the_oldest_grammar():
    spec = Spec(policies={"inline_policy"})
    statement = [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]
    newer, older = {"Version": "2012-10-17", "Statement": statement}, {"Version": "2008-10-17", "Statement": statement}
    assert outcome(spec, {"inline_policy": newer}, {"inline_policy": older}) == UPDATED
    assert outcome(spec, {"inline_policy": older}, {"inline_policy": {"Statement": statement}}) == UNCHANGED


def test_a_policy_that_means_something_else_is_a_change():
    spec = Spec(policies={"inline_policy"})
    for changed in (dict(POLICY["Statement"][0], Effect="Deny"), dict(POLICY["Statement"][0], Action="s3:*")):
        desired = dict(POLICY, Statement=[changed, POLICY["Statement"][1]])
        assert outcome(spec, {"inline_policy": POLICY}, {"inline_policy": desired}) == UPDATED
    assert outcome(spec, {"inline_policy": ""}, {"inline_policy": POLICY}) == UPDATED
    assert outcome(spec, {"inline_policy": POLICY}, {"inline_policy": ""}) == UPDATED


def test_a_malformed_policy_fails_the_module_naming_the_field():
    writers = Writers()
    with pytest.raises(Failed) as caught:
        run({"inline_policy": "{}"}, {"inline_policy": "{not json"}, spec=Spec(policies={"inline_policy"}),
            writers=writers)
    assert caught.value.args[0]["msg"].startswith("inline_policy is not a JSON policy document")
    assert writers.calls == []


def test_read_only_fields_are_not_compared_but_are_shown():
    before = {"id": "app-1", "created": "2024-01-01", "etag": "e1", "name": "aws"}
    planned = plan(APP, before, {"name": "aws", "id": "someone-else", "etag": "e2"})
    assert planned.outcome == UNCHANGED
    assert planned.after == before


def test_unset_options_leave_the_object_as_it_is():
    before = {"id": "1", "name": "aws", "description": "kept", "enabled": True, "settings": {"a": 1}}
    assert outcome(APP, before, {"name": "aws", "description": None, "enabled": None, "settings": None}) == UNCHANGED
    planned = plan(APP, before, {"name": "aws", "enabled": False, "description": None})
    assert planned.after == dict(before, enabled=False)
    assert planned.changed_keys == ("enabled",)


def test_a_missing_key_and_a_null_mean_the_same():
    assert outcome(APP, {"name": "aws", "description": None}, {"name": "aws"}) == UNCHANGED


def test_nested_dicts_merge_desired_over_before():
    before = {"name": "aws", "saml": {"entity_id": "urn:amazon:webservices", "sign": True, "nameid": {"format": "email"}}}
    planned = plan(APP, before, {"saml": {"sign": False, "nameid": {"format": "email", "source": None}}})
    assert planned.outcome == UPDATED
    assert planned.after == {"name": "aws", "saml": {
        "entity_id": "urn:amazon:webservices", "sign": False, "nameid": {"format": "email"}}}
    assert planned.changed_keys == ("saml",)


# Outcomes ----------------------------------------------------------------------------------------------------

def test_create_when_absent_with_the_desired_object():
    result, writers = run(None, {"name": "aws", "acs_urls": ["https://a"], "description": None})
    assert writers.names == ["create"]
    assert writers.calls[0][1].after == {"name": "aws", "acs_urls": ["https://a"]}
    assert (result.changed, result.outcome, result.before) == (True, CREATED, {})
    assert result.after == {"acs_urls": ["https://a"], "name": "aws"}


def test_update_in_place_never_recreates():
    before = {"id": "app-1", "name": "aws", "acs_urls": ["https://a"]}
    result, writers = run(before, {"name": "aws", "acs_urls": ["https://a", "https://b"]})
    assert writers.names == ["update"]
    planned = writers.calls[0][1]
    assert planned.before == before
    assert planned.after == {"id": "app-1", "name": "aws", "acs_urls": ["https://a", "https://b"]}
    assert planned.changed_keys == ("acs_urls",)
    assert (result.changed, result.outcome) == (True, UPDATED)


def test_no_write_when_nothing_differs():
    before = {"id": "app-1", "name": "aws", "acs_urls": ["https://a", "https://b"]}
    result, writers = run(before, {"name": "aws", "acs_urls": ["https://b", "https://a"]})
    assert writers.calls == []
    assert (result.changed, result.outcome, result.after) == (False, UNCHANGED, result.before)


def test_absent_deletes_what_exists():
    before = {"id": "app-1", "name": "aws"}
    result, writers = run(before, None, state="absent")
    assert writers.names == ["delete"]
    assert writers.calls[0][1].before == before
    assert (result.changed, result.outcome, result.before, result.after) == (True, DELETED, before, {})


def test_absent_is_a_no_op_when_nothing_exists():
    result, writers = run(None, None, state="absent")
    assert writers.calls == []
    assert (result.changed, result.outcome, result.before, result.after) == (False, UNCHANGED, {}, {})


def test_the_object_a_writer_returns_becomes_after():
    returned = {"id": "app-9", "created": "2024-05-01", "name": "aws", "acs_urls": ["https://a"]}
    result, _writers = run(None, {"name": "aws", "acs_urls": ["https://a"]}, writers=Writers(returns=returned))
    assert result.after == returned
    result, _writers = run({"id": "app-9", "name": "x"}, None, state="absent", writers=Writers(returns={"id": "gone"}))
    assert result.after == {}


@pytest.mark.parametrize("before, desired, state, expected", [
    (None, {"name": "aws", "acs_urls": ["https://a"]}, "present", {"name": "aws", "acs_urls": ["https://a"]}),
    ({"id": "1", "name": "aws"}, {"acs_urls": ["https://a"]}, "present",
     {"id": "1", "name": "aws", "acs_urls": ["https://a"]}),
    ({"id": "1", "name": "aws"}, None, "absent", {}),
])
def test_check_mode_calls_no_writer_and_predicts_after(before, desired, state, expected):
    result, writers = run(before, desired, state=state, module=FakeModule(check_mode=True))
    assert writers.calls == []
    assert result.changed is True
    assert result.after == expected


def test_every_outcome_returns_the_same_keys():
    cases = [(None, {"name": "a"}, "present"), ({"name": "a"}, {"name": "a", "x": 1}, "present"),
             ({"name": "a"}, {"name": "a"}, "present"), ({"name": "a"}, None, "absent")]
    for before, desired, state in cases:
        result, _writers = run(before, desired, state=state)
        assert set(result.as_dict()) == RETURN_KEYS
        result, _writers = run(before, desired, state=state, module=FakeModule(diff=True))
        assert set(result.as_dict()) == RETURN_KEYS | {"diff"}


# Diff mode ---------------------------------------------------------------------------------------------------

def _keys_sorted(value):
    if isinstance(value, dict):
        return list(value) == sorted(value) and all(_keys_sorted(item) for item in value.values())
    if isinstance(value, list):
        return all(_keys_sorted(item) for item in value)
    return True


def test_diff_has_before_and_after_with_sorted_keys():
    before = {"name": "aws", "id": "1", "saml": {"z": 1, "a": 2}}
    result, _writers = run(before, {"saml": {"z": 3}}, module=FakeModule(diff=True))
    assert result.diff == {"before": {"id": "1", "name": "aws", "saml": {"a": 2, "z": 1}},
                           "after": {"id": "1", "name": "aws", "saml": {"a": 2, "z": 3}}}
    assert set(result.diff) == {"before", "after"}
    assert _keys_sorted(result.diff["before"]) and _keys_sorted(result.diff["after"])


@pytest.mark.parametrize("before, desired, state, side", [
    (None, {"name": "aws"}, "present", "before"), ({"name": "aws"}, None, "absent", "after")])
def test_diff_shows_an_absent_side_as_an_empty_dict(before, desired, state, side):
    result, _writers = run(before, desired, state=state, module=FakeModule(diff=True, check_mode=True))
    assert result.diff[side] == {}


def test_no_diff_unless_asked():
    result, _writers = run(None, {"name": "aws"})
    assert result.diff is None
    assert "diff" not in result.as_dict()


# Secrets -----------------------------------------------------------------------------------------------------

def _leaks(result, *secrets):
    text = json.dumps(result.as_dict())
    return [secret for secret in secrets if secret in text]


def test_a_secret_is_set_on_create_and_masked_in_everything_returned():
    module = FakeModule(diff=True)
    result, writers = run(None, {"name": "aws", "client_secret": SECRET}, module=module)
    assert writers.calls[0][1].after["client_secret"] == SECRET  # the writer gets the real value
    assert result.after["client_secret"] == MASK
    assert result.diff["after"]["client_secret"] == MASK
    assert _leaks(result, SECRET) == []


def test_a_secret_the_api_returns_is_compared_by_value():
    before = {"id": "1", "name": "aws", "client_secret": SECRET}
    module = FakeModule(diff=True)
    result, writers = run(before, {"name": "aws", "client_secret": SECRET}, module=module)
    assert (result.outcome, writers.calls) == (UNCHANGED, [])
    assert result.before["client_secret"] == result.after["client_secret"] == MASK
    result, writers = run(before, {"name": "aws", "client_secret": NEW_SECRET}, module=module)
    assert (result.outcome, writers.names) == (UPDATED, ["update"])
    assert result.diff == {"before": {"client_secret": MASK, "id": "1", "name": "aws"},
                           "after": {"client_secret": MASK_CHANGED, "id": "1", "name": "aws"}}
    assert _leaks(result, SECRET, NEW_SECRET) == []


def test_a_secret_the_api_does_not_return_is_set_on_create_only_unless_always():
    before = {"id": "1", "name": "aws"}
    planned = plan(APP, before, {"name": "aws", "client_secret": SECRET})
    assert planned.outcome == UNCHANGED
    assert "client_secret" not in planned.after
    result, writers = run(before, {"name": "aws", "client_secret": SECRET}, update_secrets=ALWAYS,
                          module=FakeModule(diff=True))
    assert (result.outcome, writers.names) == (UPDATED, ["update"])
    assert writers.calls[0][1].after["client_secret"] == SECRET
    assert result.diff["after"]["client_secret"] == MASK
    assert _leaks(result, SECRET) == []


def test_secrets_are_masked_in_nested_paths_list_elements_and_writer_returns():
    spec = Spec(secrets={"credentials.private_key", "tokens.value"})
    returned = {"id": "1", "credentials": {"private_key": SECRET}, "tokens": [{"name": "scim", "value": NEW_SECRET}]}
    result, _writers = run(None, {"credentials": {"private_key": SECRET}}, spec=spec,
                           writers=Writers(returns=returned), module=FakeModule(diff=True))
    assert result.after == {"credentials": {"private_key": MASK}, "id": "1", "tokens": [{"name": "scim", "value": MASK}]}
    assert _leaks(result, SECRET, NEW_SECRET) == []


def test_no_log_values_are_scrubbed_from_any_field():
    """A vendor echoing a no_log option into an unrelated field (a URL, a message) still leaks nothing."""
    before = {"id": "1", "name": "aws", "login_url": "https://idp/login?token=" + SECRET}
    result, _writers = run(before, {"name": "aws", "note": "x"}, module=FakeModule(diff=True, no_log_values={SECRET}))
    assert result.before["login_url"] == "https://idp/login?token=" + MASK
    assert _leaks(result, SECRET) == []


def test_the_secret_policy_is_checked():
    with pytest.raises(ValueError, match="update_secrets"):
        plan(APP, None, {"name": "aws"}, update_secrets="sometimes")
    with pytest.raises(ValueError, match="state"):
        plan(APP, None, {"name": "aws"}, state="gone")


# Immutable fields --------------------------------------------------------------------------------------------

def test_changing_an_immutable_field_is_a_clear_error_and_writes_nothing():
    writers = Writers()
    with pytest.raises(Failed) as caught:
        run({"id": "1", "name": "aws"}, {"name": "aws-2"}, writers=writers)
    assert writers.calls == []
    assert caught.value.args[0]["msg"] == (
        'name cannot be changed in place: it is "aws" and the task asks for "aws-2". '
        "Delete it with state: absent and create it again, or pick another name.")


def test_an_immutable_field_left_unset_or_equal_or_new_is_fine():
    assert outcome(APP, {"id": "1", "name": "aws"}, {"name": "aws"}) == UNCHANGED
    assert outcome(APP, {"id": "1", "name": "aws"}, {"description": "x"}) == UPDATED
    assert outcome(APP, None, {"name": "aws"}) == CREATED


def test_an_immutable_secret_is_not_shown_in_the_error():
    spec = Spec(secrets={"signing.private_key"}, immutable={"signing.private_key": "Create a new signing key."})
    with pytest.raises(Failed) as caught:
        run({"signing": {"private_key": SECRET}}, {"signing": {"private_key": NEW_SECRET}}, spec=spec,
            module=FakeModule(no_log_values={NEW_SECRET}))
    message = caught.value.args[0]["msg"]
    assert message.startswith("signing.private_key cannot be changed in place")
    assert SECRET not in message and NEW_SECRET not in message


def test_immutable_failure_via_plan_raises_state_error():
    with pytest.raises(StateError, match="^name cannot be changed in place"):
        plan(APP, {"name": "aws"}, {"name": "other"})
