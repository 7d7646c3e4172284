# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The local AWS back end (moto server + the idfed plug-in) against boto3, as the modules' tests will use it."""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "support"))
from moto_ext.launcher import MotoServer  # noqa: E402  pylint: disable=wrong-import-position

OTHER_ACCOUNT = "111122223333"
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]})


@pytest.fixture(scope="module")
def aws() -> Any:
    with MotoServer() as server:
        yield server


@pytest.fixture(autouse=True)
def fresh(aws: MotoServer) -> None:
    aws.reset()
    aws.set_config(async_delay=0.05)


@pytest.fixture
def sso(aws: MotoServer) -> Any:
    return aws.client("sso-admin")


@pytest.fixture
def ids(aws: MotoServer) -> Any:
    return aws.client("identitystore")


@pytest.fixture
def instance(sso: Any) -> dict[str, Any]:
    return sso.list_instances()["Instances"][0]


def error_of(call: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response


def code_of(call: Callable[..., Any], **kwargs: Any) -> str:
    return error_of(call, **kwargs)["Error"]["Code"]


def settled(describe: Callable[[], dict[str, Any]], timeout: float = 5.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status = describe()
        if status["Status"] != "IN_PROGRESS" or time.monotonic() > deadline:
            return status
        time.sleep(0.02)


def raw_call(aws: MotoServer, target: str, body: Any, signing_name: str = "sso") -> tuple[int, dict[str, Any]]:
    """A JSON 1.1 call botocore would refuse to send (unknown members, wrong types)."""
    request = urllib.request.Request(f"{aws.endpoint_url}/", data=json.dumps(body).encode(), method="POST")
    request.add_header("X-Amz-Target", target)
    request.add_header("Content-Type", "application/x-amz-json-1.1")
    request.add_header("Authorization", f"AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{signing_name}/aws4_request, SignedHeaders=host, Signature=0")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as failed:
        return failed.code, json.load(failed)


def make_user(ids: Any, store: str, user_name: str, **extra: Any) -> str:
    name = {"GivenName": "Ada", "FamilyName": "Lovelace"}
    return ids.create_user(IdentityStoreId=store, UserName=user_name, DisplayName=user_name, Name=name, **extra)["UserId"]


def make_permission_set(sso: Any, instance: dict[str, Any], name: str = "Admin", **extra: Any) -> str:
    return sso.create_permission_set(InstanceArn=instance["InstanceArn"], Name=name, **extra)["PermissionSet"]["PermissionSetArn"]


def assign(sso: Any, instance: dict[str, Any], arn: str, principal: str, account: str = "123456789012", principal_type: str = "USER") -> dict[str, Any]:
    return sso.create_account_assignment(
        InstanceArn=instance["InstanceArn"],
        TargetId=account,
        TargetType="AWS_ACCOUNT",
        PermissionSetArn=arn,
        PrincipalType=principal_type,
        PrincipalId=principal,
    )["AccountAssignmentCreationStatus"]


def creation(sso: Any, instance: dict[str, Any], request_id: str) -> dict[str, Any]:
    return settled(
        lambda: sso.describe_account_assignment_creation_status(InstanceArn=instance["InstanceArn"], AccountAssignmentCreationRequestId=request_id)[
            "AccountAssignmentCreationStatus"
        ]
    )


def provision(sso: Any, instance: dict[str, Any], arn: str, account: str | None = None) -> dict[str, Any]:
    target = {"TargetType": "AWS_ACCOUNT", "TargetId": account} if account else {"TargetType": "ALL_PROVISIONED_ACCOUNTS"}
    return sso.provision_permission_set(InstanceArn=instance["InstanceArn"], PermissionSetArn=arn, **target)["PermissionSetProvisioningStatus"]


def provisioning(sso: Any, instance: dict[str, Any], request_id: str) -> dict[str, Any]:
    return settled(
        lambda: sso.describe_permission_set_provisioning_status(InstanceArn=instance["InstanceArn"], ProvisionPermissionSetRequestId=request_id)[
            "PermissionSetProvisioningStatus"
        ]
    )


# ---------------------------------------------------------------- instance and Regions


def test_describe_instance(sso: Any, instance: dict[str, Any]) -> None:
    described = sso.describe_instance(InstanceArn=instance["InstanceArn"])
    assert described["InstanceArn"].startswith("arn:aws:sso:::instance/ssoins-")
    assert described["IdentityStoreId"] == instance["IdentityStoreId"] and described["IdentityStoreId"].startswith("d-")
    assert described["OwnerAccountId"] == "123456789012" and described["Status"] == "ACTIVE"
    assert "CreatedDate" in described and "StatusReason" not in described and "Name" not in described
    sso.update_instance(InstanceArn=instance["InstanceArn"], Name="corp")
    assert sso.describe_instance(InstanceArn=instance["InstanceArn"])["Name"] == "corp"
    unknown = "arn:aws:sso:::instance/ssoins-0000000000000000"
    assert code_of(sso.describe_instance, InstanceArn=unknown) == "AccessDeniedException"  # its model lists no ResourceNotFoundException
    assert code_of(sso.list_permission_sets, InstanceArn=unknown) == "ResourceNotFoundException"  # moto would list nothing
    not_implemented = error_of(sso.add_region, InstanceArn=instance["InstanceArn"], RegionName="eu-west-1")
    assert not_implemented["Error"]["Code"] == "NotImplemented" and not_implemented["ResponseMetadata"]["HTTPStatusCode"] == 501


def test_regions(aws: MotoServer, sso: Any, instance: dict[str, Any]) -> None:
    arn = instance["InstanceArn"]
    assert [(item["RegionName"], item["IsPrimaryRegion"]) for item in sso.list_regions(InstanceArn=arn)["Regions"]] == [("us-east-1", True)]
    aws.set_regions(arn, [{"RegionName": "eu-west-1", "Status": "ACTIVE"}, {"RegionName": "eu-central-1", "Status": "ADDING"}])
    regions = sso.list_regions(InstanceArn=arn)["Regions"]
    assert [(item["RegionName"], item["Status"], item["IsPrimaryRegion"]) for item in regions] == [
        ("us-east-1", "ACTIVE", True),
        ("eu-west-1", "ACTIVE", False),
        ("eu-central-1", "ADDING", False),
    ]
    page = sso.list_regions(InstanceArn=arn, MaxResults=2)
    assert len(page["Regions"]) == 2 and len(sso.list_regions(InstanceArn=arn, NextToken=page["NextToken"])["Regions"]) == 1
    assert sso.describe_region(InstanceArn=arn, RegionName="eu-central-1")["Status"] == "ADDING"
    assert code_of(sso.describe_region, InstanceArn=arn, RegionName="ap-south-1") == "ResourceNotFoundException"
    assert sso.describe_instance(InstanceArn=arn)["PrimaryRegion"] == "us-east-1"
    # An ACTIVE added Region serves the same instance and identity store; one still ADDING does not.
    user = make_user(aws.client("identitystore"), instance["IdentityStoreId"], "ada")
    assert aws.client("sso-admin", region="eu-west-1").list_instances()["Instances"][0]["InstanceArn"] == arn
    assert aws.client("identitystore", region="eu-west-1").describe_user(IdentityStoreId=instance["IdentityStoreId"], UserId=user)["UserName"] == "ada"
    assert aws.client("sso-admin", region="eu-central-1").list_instances()["Instances"][0]["InstanceArn"] != arn
    assert code_of(aws.client("identitystore", region="eu-central-1").list_users, IdentityStoreId=instance["IdentityStoreId"]) == "ResourceNotFoundException"
    with pytest.raises(urllib.error.HTTPError) as refused:
        aws.set_regions(arn, [{"RegionName": "eu-west-1", "Status": "GONE"}])
    assert refused.value.code == 400


# ---------------------------------------------------------------- permission sets, tags, boundary


def test_permission_set_create_update(sso: Any, instance: dict[str, Any]) -> None:
    arn = make_permission_set(sso, instance, Description="admins", RelayState="https://console.aws.amazon.com/")
    assert arn.startswith(f"arn:aws:sso:::permissionSet/{instance['InstanceArn'].rsplit('/', 1)[1]}/ps-")
    described = sso.describe_permission_set(InstanceArn=instance["InstanceArn"], PermissionSetArn=arn)["PermissionSet"]
    assert described["SessionDuration"] == "PT1H" and described["RelayState"] == "https://console.aws.amazon.com/"
    conflict = error_of(sso.create_permission_set, InstanceArn=instance["InstanceArn"], Name="Admin")
    assert conflict["Error"] == {"Code": "ConflictException", "Message": "PermissionSet with name Admin already exists."}
    sso.update_permission_set(InstanceArn=instance["InstanceArn"], PermissionSetArn=arn, SessionDuration="PT8H")
    described = sso.describe_permission_set(InstanceArn=instance["InstanceArn"], PermissionSetArn=arn)["PermissionSet"]
    assert described["SessionDuration"] == "PT8H" and described["Description"] == "admins" and "RelayState" not in described
    too_long = error_of(sso.update_permission_set, InstanceArn=instance["InstanceArn"], PermissionSetArn=arn, SessionDuration="PT13H")
    assert too_long["Error"]["Code"] == "ValidationException" and too_long["ResponseMetadata"]["HTTPStatusCode"] == 400
    missing = error_of(sso.describe_permission_set, InstanceArn=instance["InstanceArn"], PermissionSetArn=arn[:-16] + "0" * 16)
    assert missing["Error"]["Code"] == "ResourceNotFoundException"


def test_tags(sso: Any, instance: dict[str, Any]) -> None:
    arn = make_permission_set(sso, instance, Tags=[{"Key": "team", "Value": "ops"}])
    inst = instance["InstanceArn"]
    assert sso.list_tags_for_resource(InstanceArn=inst, ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ops"}]
    sso.tag_resource(InstanceArn=inst, ResourceArn=arn, Tags=[{"Key": "team", "Value": "sec"}, {"Key": "env", "Value": "prod"}])
    sso.untag_resource(InstanceArn=inst, ResourceArn=arn, TagKeys=["env", "absent"])
    assert sso.list_tags_for_resource(InstanceArn=inst, ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "sec"}]
    sso.tag_resource(ResourceArn=inst, Tags=[{"Key": "owner", "Value": "it"}])
    assert sso.list_tags_for_resource(ResourceArn=inst)["Tags"] == [{"Key": "owner", "Value": "it"}]
    many = [{"Key": f"k{index}", "Value": "v"} for index in range(50)]
    assert code_of(sso.tag_resource, InstanceArn=inst, ResourceArn=arn, Tags=many) == "ServiceQuotaExceededException"
    assert code_of(sso.tag_resource, InstanceArn=inst, ResourceArn=arn, Tags=[{"Key": "aws:x", "Value": "v"}]) == "ValidationException"
    assert code_of(sso.list_tags_for_resource, InstanceArn=inst, ResourceArn=arn[:-16] + "0" * 16) == "ResourceNotFoundException"


def test_permissions_boundary(sso: Any, instance: dict[str, Any]) -> None:
    arn, inst = make_permission_set(sso, instance), instance["InstanceArn"]
    assert code_of(sso.get_permissions_boundary_for_permission_set, InstanceArn=inst, PermissionSetArn=arn) == "ResourceNotFoundException"
    managed = {"ManagedPolicyArn": "arn:aws:iam::aws:policy/PowerUserAccess"}
    sso.put_permissions_boundary_to_permission_set(InstanceArn=inst, PermissionSetArn=arn, PermissionsBoundary=managed)
    assert sso.get_permissions_boundary_for_permission_set(InstanceArn=inst, PermissionSetArn=arn)["PermissionsBoundary"] == managed
    customer = {"CustomerManagedPolicyReference": {"Name": "Boundary"}}
    sso.put_permissions_boundary_to_permission_set(InstanceArn=inst, PermissionSetArn=arn, PermissionsBoundary=customer)
    got = sso.get_permissions_boundary_for_permission_set(InstanceArn=inst, PermissionSetArn=arn)["PermissionsBoundary"]
    assert got == {"CustomerManagedPolicyReference": {"Name": "Boundary", "Path": "/"}}
    both = dict(managed, **customer)
    assert code_of(sso.put_permissions_boundary_to_permission_set, InstanceArn=inst, PermissionSetArn=arn, PermissionsBoundary=both) == "ValidationException"
    unknown = {"ManagedPolicyArn": "arn:aws:iam::aws:policy/NoSuchPolicy"}
    assert (
        code_of(sso.put_permissions_boundary_to_permission_set, InstanceArn=inst, PermissionSetArn=arn, PermissionsBoundary=unknown)
        == "ResourceNotFoundException"
    )
    sso.delete_permissions_boundary_from_permission_set(InstanceArn=inst, PermissionSetArn=arn)
    assert code_of(sso.delete_permissions_boundary_from_permission_set, InstanceArn=inst, PermissionSetArn=arn) == "ResourceNotFoundException"


def test_policies_through_moto(sso: Any, instance: dict[str, Any]) -> None:
    arn, inst = make_permission_set(sso, instance), instance["InstanceArn"]
    sso.put_inline_policy_to_permission_set(InstanceArn=inst, PermissionSetArn=arn, InlinePolicy=POLICY)
    assert json.loads(sso.get_inline_policy_for_permission_set(InstanceArn=inst, PermissionSetArn=arn)["InlinePolicy"]) == json.loads(POLICY)
    assert code_of(sso.put_inline_policy_to_permission_set, InstanceArn=inst, PermissionSetArn=arn, InlinePolicy="{not json") == "ValidationException"
    sso.attach_managed_policy_to_permission_set(InstanceArn=inst, PermissionSetArn=arn, ManagedPolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    duplicate = error_of(
        sso.attach_managed_policy_to_permission_set, InstanceArn=inst, PermissionSetArn=arn, ManagedPolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess"
    )
    assert duplicate["Error"]["Code"] == "ConflictException" and duplicate["Error"]["Message"]
    sso.attach_customer_managed_policy_reference_to_permission_set(
        InstanceArn=inst, PermissionSetArn=arn, CustomerManagedPolicyReference={"Name": "Mine", "Path": "/x/"}
    )
    listed = sso.list_customer_managed_policy_references_in_permission_set(InstanceArn=inst, PermissionSetArn=arn)
    assert listed["CustomerManagedPolicyReferences"] == [{"Name": "Mine", "Path": "/x/"}]
    sso.detach_customer_managed_policy_reference_from_permission_set(
        InstanceArn=inst, PermissionSetArn=arn, CustomerManagedPolicyReference={"Name": "Mine", "Path": "/x/"}
    )
    sso.detach_managed_policy_from_permission_set(InstanceArn=inst, PermissionSetArn=arn, ManagedPolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    sso.delete_inline_policy_from_permission_set(InstanceArn=inst, PermissionSetArn=arn)
    assert sso.list_managed_policies_in_permission_set(InstanceArn=inst, PermissionSetArn=arn)["AttachedManagedPolicies"] == []


# ---------------------------------------------------------------- asynchronous account assignments and provisioning


def test_assignment_in_progress_then_succeeded(aws: MotoServer, sso: Any, ids: Any, instance: dict[str, Any]) -> None:
    aws.set_config(async_delay=0.3)
    inst, user = instance["InstanceArn"], make_user(ids, instance["IdentityStoreId"], "ada")
    arn = make_permission_set(sso, instance)
    same = {"InstanceArn": inst, "TargetId": "123456789012", "TargetType": "AWS_ACCOUNT", "PermissionSetArn": arn, "PrincipalType": "USER", "PrincipalId": user}
    created = assign(sso, instance, arn, user)
    assert created["Status"] == "IN_PROGRESS" and len(created["RequestId"]) == 36 and created["PrincipalId"] == user
    described = sso.describe_account_assignment_creation_status(InstanceArn=inst, AccountAssignmentCreationRequestId=created["RequestId"])
    assert described["AccountAssignmentCreationStatus"]["Status"] == "IN_PROGRESS"
    assert code_of(sso.create_account_assignment, **same) == "ConflictException"  # the same assignment is in flight
    assert code_of(sso.delete_account_assignment, **same) == "ConflictException"
    assert sso.list_account_assignments(InstanceArn=inst, AccountId="123456789012", PermissionSetArn=arn)["AccountAssignments"] == []
    listed = sso.list_account_assignment_creation_status(InstanceArn=inst, Filter={"Status": "IN_PROGRESS"})["AccountAssignmentsCreationStatus"]
    assert [item["RequestId"] for item in listed] == [created["RequestId"]]
    assert creation(sso, instance, created["RequestId"])["Status"] == "SUCCEEDED"
    assignments = sso.list_account_assignments(InstanceArn=inst, AccountId="123456789012", PermissionSetArn=arn)["AccountAssignments"]
    assert assignments == [{"AccountId": "123456789012", "PermissionSetArn": arn, "PrincipalType": "USER", "PrincipalId": user}]
    assert sso.list_permission_sets_provisioned_to_account(InstanceArn=inst, AccountId="123456789012")["PermissionSets"] == [arn]
    assert sso.list_accounts_for_provisioned_permission_set(InstanceArn=inst, PermissionSetArn=arn)["AccountIds"] == ["123456789012"]
    assert code_of(sso.delete_permission_set, InstanceArn=inst, PermissionSetArn=arn) == "ConflictException"

    deleted = sso.delete_account_assignment(**same)["AccountAssignmentDeletionStatus"]
    assert deleted["Status"] == "IN_PROGRESS"
    status = settled(
        lambda: sso.describe_account_assignment_deletion_status(InstanceArn=inst, AccountAssignmentDeletionRequestId=deleted["RequestId"])[
            "AccountAssignmentDeletionStatus"
        ]
    )
    assert status["Status"] == "SUCCEEDED"
    assert sso.list_account_assignment_deletion_status(InstanceArn=inst)["AccountAssignmentsDeletionStatus"][0]["Status"] == "SUCCEEDED"
    assert sso.list_account_assignments(InstanceArn=inst, AccountId="123456789012", PermissionSetArn=arn)["AccountAssignments"] == []
    assert sso.list_permission_sets_provisioned_to_account(InstanceArn=inst, AccountId="123456789012")["PermissionSets"] == []
    assert code_of(sso.delete_account_assignment, **same) == "ResourceNotFoundException"
    sso.delete_permission_set(InstanceArn=inst, PermissionSetArn=arn)


def test_assignment_failures_and_duplicates(sso: Any, ids: Any, instance: dict[str, Any]) -> None:
    inst, arn = instance["InstanceArn"], make_permission_set(sso, instance)
    ghost = "12345678-1234-1234-1234-123456789012"
    failed = creation(sso, instance, assign(sso, instance, arn, ghost)["RequestId"])
    assert failed["Status"] == "FAILED" and ghost in failed["FailureReason"]
    group = ids.create_group(IdentityStoreId=instance["IdentityStoreId"], DisplayName="ops")["GroupId"]
    assert creation(sso, instance, assign(sso, instance, arn, group, principal_type="USER")["RequestId"])["Status"] == "FAILED"
    for _attempt in range(2):
        assert creation(sso, instance, assign(sso, instance, arn, group, principal_type="GROUP")["RequestId"])["Status"] == "SUCCEEDED"
    assert len(sso.list_account_assignments(InstanceArn=inst, AccountId="123456789012", PermissionSetArn=arn)["AccountAssignments"]) == 1
    assert code_of(assign, sso=sso, instance=instance, arn=arn[:-16] + "0" * 16, principal=group) == "ResourceNotFoundException"


def test_outstanding_assignment_quota(aws: MotoServer, sso: Any, ids: Any, instance: dict[str, Any]) -> None:
    aws.set_config(async_delay=30)
    arn, user = make_permission_set(sso, instance), make_user(ids, instance["IdentityStoreId"], "bob")
    for index in range(10):
        assign(sso, instance, arn, user, account=f"1000000000{index:02d}")
    throttled = error_of(assign, sso=sso, instance=instance, arn=arn, principal=user, account="100000000099")
    assert throttled["Error"] == {"Code": "ThrottlingException", "Message": "There are too many requests processing. Please try again later."}
    assert throttled["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_provisioning_conflicts_and_versions(aws: MotoServer, sso: Any, ids: Any, instance: dict[str, Any]) -> None:
    inst, arn = instance["InstanceArn"], make_permission_set(sso, instance)
    creation(sso, instance, assign(sso, instance, arn, make_user(ids, instance["IdentityStoreId"], "cy"))["RequestId"])
    latest = {"InstanceArn": inst, "AccountId": "123456789012", "ProvisioningStatus": "LATEST_PERMISSION_SET_PROVISIONED"}
    outdated = dict(latest, ProvisioningStatus="LATEST_PERMISSION_SET_NOT_PROVISIONED")
    assert sso.list_permission_sets_provisioned_to_account(**latest)["PermissionSets"] == [arn]
    sso.put_inline_policy_to_permission_set(InstanceArn=inst, PermissionSetArn=arn, InlinePolicy=POLICY)
    assert sso.list_permission_sets_provisioned_to_account(**outdated)["PermissionSets"] == [arn]
    assert sso.list_permission_sets_provisioned_to_account(**latest)["PermissionSets"] == []

    aws.set_config(async_delay=0.3)
    started = provision(sso, instance, arn)
    assert started["Status"] == "IN_PROGRESS" and "AccountId" not in started
    write = {"InstanceArn": inst, "PermissionSetArn": arn}
    assert code_of(sso.update_permission_set, Description="busy", **write) == "ConflictException"
    assert code_of(sso.put_inline_policy_to_permission_set, InlinePolicy=POLICY, **write) == "ConflictException"
    assert code_of(sso.delete_inline_policy_from_permission_set, **write) == "ConflictException"
    assert code_of(sso.provision_permission_set, TargetType="ALL_PROVISIONED_ACCOUNTS", **write) == "ConflictException"
    listed = sso.list_permission_set_provisioning_status(InstanceArn=inst)["PermissionSetsProvisioningStatus"]
    assert [(item["RequestId"], item["Status"]) for item in listed] == [(started["RequestId"], "IN_PROGRESS")]
    assert provisioning(sso, instance, started["RequestId"])["Status"] == "SUCCEEDED"
    assert sso.list_permission_sets_provisioned_to_account(**latest)["PermissionSets"] == [arn]
    sso.update_permission_set(Description="free again", **write)
    assert code_of(sso.provision_permission_set, TargetType="AWS_ACCOUNT", **write) == "ValidationException"


def test_provisioning_needs_customer_managed_policy_in_account(aws: MotoServer, sso: Any, instance: dict[str, Any]) -> None:
    inst, arn = instance["InstanceArn"], make_permission_set(sso, instance)
    sso.attach_customer_managed_policy_reference_to_permission_set(InstanceArn=inst, PermissionSetArn=arn, CustomerManagedPolicyReference={"Name": "Base"})
    failed = provisioning(sso, instance, provision(sso, instance, arn, OTHER_ACCOUNT)["RequestId"])
    assert failed["Status"] == "FAILED" and f"arn:aws:iam::{OTHER_ACCOUNT}:policy/Base" in failed["FailureReason"]
    iam = aws.client("iam")
    iam.meta.events.register("before-sign.iam.*", lambda request, **_: request.headers.__setitem__("x-moto-account-id", OTHER_ACCOUNT))
    iam.create_policy(PolicyName="Base", PolicyDocument=POLICY)
    succeeded = provisioning(sso, instance, provision(sso, instance, arn, OTHER_ACCOUNT)["RequestId"])
    assert succeeded["Status"] == "SUCCEEDED" and succeeded["AccountId"] == OTHER_ACCOUNT
    assert sso.list_accounts_for_provisioned_permission_set(InstanceArn=inst, PermissionSetArn=arn)["AccountIds"] == [OTHER_ACCOUNT]


# ---------------------------------------------------------------- identity store


def test_identity_store_uniqueness_and_lookups(ids: Any, instance: dict[str, Any]) -> None:
    store = instance["IdentityStoreId"]
    user = make_user(ids, store, "ada")
    duplicate = error_of(make_user, ids=ids, store=store, user_name="ada")
    assert duplicate["Error"]["Code"] == "ConflictException" and duplicate["Reason"] == "UNIQUENESS_CONSTRAINT_VIOLATION"
    ids.create_group(IdentityStoreId=store, DisplayName="ops")
    group_duplicate = error_of(ids.create_group, IdentityStoreId=store, DisplayName="ops")
    assert group_duplicate["Error"]["Code"] == "ConflictException" and group_duplicate["Reason"] == "UNIQUENESS_CONSTRAINT_VIOLATION"
    found = ids.get_user_id(IdentityStoreId=store, AlternateIdentifier={"UniqueAttribute": {"AttributePath": "userName", "AttributeValue": "ada"}})
    assert found["UserId"] == user and found["UserArn"] == f"arn:aws:identitystore:::user/{user}"
    missing = error_of(
        ids.get_user_id, IdentityStoreId=store, AlternateIdentifier={"UniqueAttribute": {"AttributePath": "userName", "AttributeValue": "nobody"}}
    )
    assert missing["Error"]["Code"] == "ResourceNotFoundException" and "RequestId" in json.dumps(missing) and missing["ResourceType"] == "USER"
    assert code_of(make_user, ids=ids, store=store, user_name="Administrator") == "ValidationException"
    unknown_store = error_of(ids.list_users, IdentityStoreId="d-0000000000")
    assert unknown_store["Error"]["Code"] == "ResourceNotFoundException" and unknown_store["ResourceType"] == "IDENTITY_STORE"
    by_arn = ids.describe_user(IdentityStoreId=f"arn:aws:identitystore::123456789012:identitystore/{store}", UserId=f"arn:aws:identitystore:::user/{user}")
    assert by_arn["UserId"] == user and by_arn["Revision"] == "1"
    assert [item["UserName"] for item in ids.list_users(IdentityStoreId=store, Filters=[{"AttributePath": "UserName", "AttributeValue": "ada"}])["Users"]] == [
        "ada"
    ]
    assert code_of(ids.list_users, IdentityStoreId=store, Filters=[{"AttributePath": "Title", "AttributeValue": "x"}]) == "ValidationException"


def test_update_user(ids: Any, instance: dict[str, Any]) -> None:
    store = instance["IdentityStoreId"]
    user = make_user(ids, store, "ada", NickName="countess", Website="https://example.com")
    make_user(ids, store, "grace")
    operations = [
        {"AttributePath": "displayName", "AttributeValue": "Ada L."},
        {"AttributePath": "name.givenName", "AttributeValue": "Augusta"},
        {"AttributePath": "emails", "AttributeValue": [{"value": "ada@example.com", "type": "work", "primary": True}]},
        {"AttributePath": "nickName", "AttributeValue": None},
        {"AttributePath": "aws:identitystore:enterprise.costCenter", "AttributeValue": "42"},
    ]
    assert ids.update_user(IdentityStoreId=store, UserId=user, Operations=operations, Revision="1")["Revision"] == "2"
    described = ids.describe_user(IdentityStoreId=store, UserId=user, Extensions=["aws:identitystore:enterprise"])
    assert described["DisplayName"] == "Ada L." and described["Name"] == {"GivenName": "Augusta", "FamilyName": "Lovelace"}
    assert described["Emails"] == [{"Value": "ada@example.com", "Type": "work", "Primary": True}] and "NickName" not in described
    assert described["Website"] == "https://example.com" and described["Extensions"] == {"aws:identitystore:enterprise": {"costCenter": "42"}}
    found = ids.get_user_id(
        IdentityStoreId=store, AlternateIdentifier={"UniqueAttribute": {"AttributePath": "emails.value", "AttributeValue": "ada@example.com"}}
    )
    assert found["UserId"] == user
    stale = error_of(ids.update_user, IdentityStoreId=store, UserId=user, Revision="1", Operations=[{"AttributePath": "title", "AttributeValue": "x"}])
    assert stale["Error"]["Code"] == "ConflictException" and stale["Reason"] == "CONCURRENT_MODIFICATION"
    taken = error_of(ids.update_user, IdentityStoreId=store, UserId=user, Operations=[{"AttributePath": "userName", "AttributeValue": "grace"}])
    assert taken["Error"]["Code"] == "ConflictException" and taken["Reason"] == "UNIQUENESS_CONSTRAINT_VIOLATION"
    for bad in (
        {"AttributePath": "emails.value", "AttributeValue": "x@y"},
        {"AttributePath": "title", "AttributeValue": ""},
        {"AttributePath": "displayName", "AttributeValue": None},
    ):
        assert code_of(ids.update_user, IdentityStoreId=store, UserId=user, Operations=[bad]) == "ValidationException"
    assert (
        code_of(ids.update_user, IdentityStoreId=store, UserId=user, Operations=[{"AttributePath": "userId", "AttributeValue": "x"}]) == "ValidationException"
    )
    assert ids.describe_user(IdentityStoreId=store, UserId=user)["Revision"] == "2"


def test_update_group_and_memberships(ids: Any, instance: dict[str, Any]) -> None:
    store = instance["IdentityStoreId"]
    group = ids.create_group(IdentityStoreId=store, DisplayName="ops", Description="operations")["GroupId"]
    ids.create_group(IdentityStoreId=store, DisplayName="dev")
    updated = ids.update_group(
        IdentityStoreId=store,
        GroupId=group,
        Operations=[{"AttributePath": "displayName", "AttributeValue": "sre"}, {"AttributePath": "description", "AttributeValue": None}],
    )
    assert updated["Revision"] == "2" and updated["GroupArn"] == f"arn:aws:identitystore:::group/{group}"
    described = ids.describe_group(IdentityStoreId=store, GroupId=group)
    assert described["DisplayName"] == "sre" and "Description" not in described and described["Revision"] == "2"
    sre = [{"AttributePath": "DisplayName", "AttributeValue": "sre"}]
    assert [item["GroupId"] for item in ids.list_groups(IdentityStoreId=store, Filters=sre)["Groups"]] == [group]
    assert len(ids.list_groups(IdentityStoreId=store, MaxResults=1)["Groups"]) == 1 and len(ids.list_groups(IdentityStoreId=store)["Groups"]) == 2
    found = ids.get_group_id(IdentityStoreId=store, AlternateIdentifier={"UniqueAttribute": {"AttributePath": "displayName", "AttributeValue": "sre"}})
    assert found["GroupId"] == group and found["GroupArn"] == f"arn:aws:identitystore:::group/{group}"
    extension = [{"AttributePath": "aws:identitystore:enterprise.costCenter", "AttributeValue": "1"}]
    assert code_of(ids.update_group, IdentityStoreId=store, GroupId=group, Operations=extension) == "ValidationException"
    taken = error_of(ids.update_group, IdentityStoreId=store, GroupId=group, Operations=[{"AttributePath": "displayName", "AttributeValue": "dev"}])
    assert taken["Error"]["Code"] == "ConflictException" and taken["Reason"] == "UNIQUENESS_CONSTRAINT_VIOLATION"
    user = make_user(ids, store, "ada")
    ids.create_group_membership(IdentityStoreId=store, GroupId=group, MemberId={"UserId": user})
    again = error_of(ids.create_group_membership, IdentityStoreId=store, GroupId=group, MemberId={"UserId": user})
    assert again["Error"] == {"Code": "ConflictException", "Message": "Member and Group relationship already exists."}
    ids.delete_user(IdentityStoreId=store, UserId=user)
    assert ids.list_group_memberships(IdentityStoreId=store, GroupId=group)["GroupMemberships"] == []
    assert code_of(ids.delete_user, IdentityStoreId=store, UserId=user) == "ResourceNotFoundException"
    ids.delete_group(IdentityStoreId=store, GroupId=group)
    assert code_of(ids.describe_group, IdentityStoreId=store, GroupId=group) == "ResourceNotFoundException"


# ---------------------------------------------------------------- validation against botocore's model


def test_request_validation(aws: MotoServer, sso: Any, instance: dict[str, Any]) -> None:
    status, body = raw_call(aws, "SWBExternalService.DescribePermissionSet", {"PermissionSetArn": "x"})
    assert status == 400 and body["__type"] == "ValidationException"
    assert "Value null at 'instanceArn' failed to satisfy constraint: Member must not be null" in body["Message"]
    assert "at 'permissionSetArn' failed to satisfy constraint: Member must have length greater than or equal to 10" in body["Message"]
    status, body = raw_call(aws, "SWBExternalService.DescribeInstance", {"InstanceArn": instance["InstanceArn"], "Extra": 1})
    assert status == 400 and body["__type"] == "ValidationException" and "'extra'" in body["Message"]
    status, body = raw_call(aws, "SWBExternalService.ListInstances", {"MaxResults": "10"})
    assert status == 400 and body["__type"] == "SerializationException"
    status, body = raw_call(aws, "SWBExternalService.NoSuchOperation", {})
    assert status == 400 and body["__type"] == "UnknownOperationException"
    bad_enum = error_of(
        assign,
        sso=sso,
        instance=instance,
        arn=instance["InstanceArn"].replace("instance/", "permissionSet/") + "/ps-0000000000000000",
        principal="p",
        principal_type="ROLE",
    )
    assert bad_enum["Error"]["Code"] == "ValidationException" and "2 validation errors detected" in bad_enum["Error"]["Message"]
    bad_pattern = error_of(sso.describe_instance, InstanceArn="arn:aws:sso:::instance/not-an-instance")
    assert "Member must satisfy regular expression pattern" in bad_pattern["Error"]["Message"]
    status, body = raw_call(aws, "AWSIdentityStore.ListUsers", {"IdentityStoreId": "d-0000000000", "MaxResults": 0}, signing_name="identitystore")
    assert (
        status == 400
        and body["__type"] == "ValidationException"
        and "RequestId" in body
        and "Member must have value greater than or equal to 1" in body["Message"]
    )


# ---------------------------------------------------------------- fault layer and request log


def test_throttling_every_nth_call(aws: MotoServer, sso: Any, instance: dict[str, Any]) -> None:
    aws.set_faults([{"service": "sso-admin", "operation": "ListPermissionSets", "every": 2}])
    outcomes = []
    for _attempt in range(4):
        try:
            sso.list_permission_sets(InstanceArn=instance["InstanceArn"])
            outcomes.append("ok")
        except ClientError as error:
            assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400 and error.response["Error"]["Message"] == "Rate exceeded"
            outcomes.append(error.response["Error"]["Code"])
    assert outcomes == ["ok", "ThrottlingException", "ok", "ThrottlingException"]
    sso.describe_instance(InstanceArn=instance["InstanceArn"])  # other operations are not affected
    retrying = aws.client("sso-admin", retries=3)
    retrying.list_permission_sets(InstanceArn=instance["InstanceArn"])  # botocore retries ThrottlingException
    iam = aws.client("iam")
    aws.set_faults([{"service": "iam", "every": 1}])
    assert code_of(iam.list_saml_providers) == "Throttling"


def test_token_bucket_and_latency(aws: MotoServer, sso: Any, instance: dict[str, Any]) -> None:
    aws.set_faults([{"service": "sso-admin", "rate": 20, "burst": 3}])
    codes = []
    for _attempt in range(6):
        try:
            sso.describe_instance(InstanceArn=instance["InstanceArn"])
            codes.append("ok")
        except ClientError as error:
            codes.append(error.response["Error"]["Code"])
    assert codes[:3] == ["ok", "ok", "ok"] and "ThrottlingException" in codes[3:]
    time.sleep(0.2)  # the bucket refills at 20 calls per second
    sso.describe_instance(InstanceArn=instance["InstanceArn"])
    aws.set_faults([{"service": "sso-admin", "operation": "DescribeInstance", "latency_ms": 150}])
    started = time.monotonic()
    sso.describe_instance(InstanceArn=instance["InstanceArn"])
    assert time.monotonic() - started >= 0.15
    assert aws.control("GET", "faults")["rules"][0]["latency_ms"] == 150


def test_request_log(aws: MotoServer, sso: Any, ids: Any, instance: dict[str, Any]) -> None:
    aws.clear_log()
    make_permission_set(sso, instance)
    code_of(ids.describe_user, IdentityStoreId=instance["IdentityStoreId"], UserId="12345678-1234-1234-1234-123456789012")
    log = aws.log()
    assert [(item["service"], item["operation"], item["write"], item["status"], item["error"]) for item in log] == [
        ("sso-admin", "CreatePermissionSet", True, 200, None),
        ("identitystore", "DescribeUser", False, 400, "ResourceNotFoundException"),
    ]
    assert log[0]["account"] == "123456789012" and log[0]["region"] == "us-east-1"
    aws.clear_log()
    assert aws.log() == []
    assert aws.control("GET", "config") == {"async_delay": 0.05, "assignment_quota": 10}
    with pytest.raises(urllib.error.HTTPError) as refused:
        aws.set_config(unknown=1)
    assert refused.value.code == 400
