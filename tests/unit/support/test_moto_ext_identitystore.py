# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The local back end's group memberships as identity_store_group relies on them: listed page by page, and
ResourceNotFoundException for an unknown group or membership, as AWS answers (moto lists nothing, or succeeds)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "support"))
from moto_ext.launcher import MotoServer  # noqa: E402  pylint: disable=wrong-import-position

UNKNOWN_ID = "12345678-1234-1234-1234-123456789012"


@pytest.fixture(scope="module")
def aws() -> Any:
    with MotoServer() as server:
        yield server


@pytest.fixture
def ids(aws: MotoServer) -> Any:
    aws.reset()
    return aws.client("identitystore")


@pytest.fixture
def store(aws: MotoServer, ids: Any) -> str:
    return aws.client("sso-admin").list_instances()["Instances"][0]["IdentityStoreId"]


def not_found(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response = caught.value.response
    assert response["Error"]["Code"] == "ResourceNotFoundException"
    return response


def make_user(ids: Any, store: str, user_name: str) -> str:
    name = {"GivenName": "Ada", "FamilyName": "Lovelace"}
    return ids.create_user(IdentityStoreId=store, UserName=user_name, DisplayName=user_name, Name=name)["UserId"]


def test_memberships_are_listed_page_by_page_with_their_arn(ids: Any, store: str) -> None:
    group = ids.create_group(IdentityStoreId=store, DisplayName="ops")["GroupId"]
    users = [make_user(ids, store, "user{0}@example.com".format(index)) for index in range(3)]
    created = {ids.create_group_membership(IdentityStoreId=store, GroupId=group, MemberId={"UserId": user})["MembershipId"] for user in users}
    ids.create_group(IdentityStoreId=store, DisplayName="empty")
    first = ids.list_group_memberships(IdentityStoreId=store, GroupId=group, MaxResults=2)
    second = ids.list_group_memberships(IdentityStoreId=store, GroupId=group, MaxResults=2, NextToken=first["NextToken"])
    listed = first["GroupMemberships"] + second["GroupMemberships"]
    assert "NextToken" not in second and {item["MembershipId"] for item in listed} == created
    assert sorted(item["MemberId"]["UserId"] for item in listed) == sorted(users)
    assert all(item["MembershipArn"] == "arn:aws:identitystore:::membership/" + item["MembershipId"] and item["GroupId"] == group for item in listed)
    paginated = ids.get_paginator("list_group_memberships").paginate(IdentityStoreId=store, GroupId=group, PaginationConfig={"PageSize": 1})
    assert len(paginated.build_full_result()["GroupMemberships"]) == 3


def test_unknown_group_or_membership_is_not_found(ids: Any, store: str) -> None:
    missing_group = not_found(ids.list_group_memberships, IdentityStoreId=store, GroupId=UNKNOWN_ID)
    assert missing_group["ResourceType"] == "GROUP" and missing_group["ResourceId"] == UNKNOWN_ID
    group = ids.create_group(IdentityStoreId=store, DisplayName="ops")["GroupId"]
    user = make_user(ids, store, "ada@example.com")
    membership = ids.create_group_membership(IdentityStoreId=store, GroupId=group, MemberId={"UserId": user})["MembershipId"]
    ids.delete_group_membership(IdentityStoreId=store, MembershipId=membership)
    assert ids.list_group_memberships(IdentityStoreId=store, GroupId=group)["GroupMemberships"] == []
    again = not_found(ids.delete_group_membership, IdentityStoreId=store, MembershipId=membership)
    assert again["ResourceType"] == "GROUP_MEMBERSHIP" and again["ResourceId"] == membership


def test_lookups_tell_an_unknown_store_from_an_unknown_name(ids: Any, store: str) -> None:
    """What the modules' find_user_id/find_group_id rely on: the ResourceType says which one is missing."""
    by_name = {"UniqueAttribute": {"AttributePath": "userName", "AttributeValue": "nobody@example.com"}}
    assert not_found(ids.get_user_id, IdentityStoreId=store, AlternateIdentifier=by_name)["ResourceType"] == "USER"
    assert not_found(ids.get_user_id, IdentityStoreId="d-0000000000", AlternateIdentifier=by_name)["ResourceType"] == "IDENTITY_STORE"
    by_display_name = {"UniqueAttribute": {"AttributePath": "displayName", "AttributeValue": "nobody"}}
    assert not_found(ids.get_group_id, IdentityStoreId=store, AlternateIdentifier=by_display_name)["ResourceType"] == "GROUP"
