# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The identity store look-ups the identity_store_* modules share: an unknown name is None, an unknown store an
error (never taken for "create it"), and a malformed identity_store_id is refused without a call."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from ansible_collections.idfed.aws_sso.plugins.module_utils._aws.identity_center import (
    IdentityCenterError, find_group_id, find_user_id, identity_store_of)

STORE = "d-93670c4a5b"


def not_found(resource_type: str) -> ClientError:
    return ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "not found"}, "ResourceType": resource_type},
                       "GetUserId")


class Client:
    """get_user_id/get_group_id answering `answer` (a dict, or an exception to raise); calls are recorded."""

    def __init__(self, answer):
        self.answer = answer
        self.calls = []

    def _call(self, **kwargs):
        self.calls.append(kwargs)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    get_user_id = get_group_id = _call


class Module:
    def __init__(self, **params):
        self.params = params


def test_found_ids_and_the_unique_attribute_asked_for():
    users = Client({"UserId": "u-1", "IdentityStoreId": STORE})
    assert find_user_id(users, STORE, "ada@example.com") == "u-1"
    assert users.calls == [{"aws_retry": True, "IdentityStoreId": STORE, "AlternateIdentifier": {
        "UniqueAttribute": {"AttributePath": "userName", "AttributeValue": "ada@example.com"}}}]
    groups = Client({"GroupId": "g-1", "IdentityStoreId": STORE})
    assert find_group_id(groups, STORE, "ops") == "g-1"
    assert groups.calls[0]["AlternateIdentifier"]["UniqueAttribute"] == {"AttributePath": "displayName", "AttributeValue": "ops"}


def test_an_unknown_name_is_none():
    assert find_user_id(Client(not_found("USER")), STORE, "nobody@example.com") is None
    assert find_group_id(Client(not_found("GROUP")), STORE, "nobody") is None


def test_an_unknown_identity_store_is_an_error():
    with pytest.raises(IdentityCenterError) as caught:
        find_user_id(Client(not_found("IDENTITY_STORE")), STORE, "ada@example.com")
    assert caught.value.message == "Failed to look up a user by user name"
    with pytest.raises(IdentityCenterError):
        find_group_id(Client(ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetGroupId")), STORE, "ops")


def test_identity_store_id_given_or_discovered():
    assert identity_store_of(Module(identity_store_id=STORE, instance_arn=None), sso_admin=None) == STORE
    with pytest.raises(IdentityCenterError) as caught:
        identity_store_of(Module(identity_store_id="store-1", instance_arn=None), sso_admin=None)
    assert "'store-1' is not an identity store id" in caught.value.message

    class SsoAdmin:
        @staticmethod
        def list_instances(**_kwargs):
            return {"Instances": [{"InstanceArn": "arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6", "IdentityStoreId": STORE}]}

    assert identity_store_of(Module(identity_store_id=None, instance_arn=None), SsoAdmin) == STORE
