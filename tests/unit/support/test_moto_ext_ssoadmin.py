# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixes to the sso-admin side of the local back end that permission_set and account_assignment rely on."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "support"))
from moto_ext.launcher import MotoServer  # noqa: E402  pylint: disable=wrong-import-position

VIEW_ONLY = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"  # an AWS managed policy with a path


@pytest.fixture(scope="module")
def aws() -> Any:
    with MotoServer() as server:
        yield server


@pytest.fixture
def permission_set(aws: MotoServer) -> dict[str, str]:
    aws.reset()
    sso = aws.client("sso-admin")
    instance_arn = sso.list_instances()["Instances"][0]["InstanceArn"]
    arn = sso.create_permission_set(InstanceArn=instance_arn, Name="Viewer")["PermissionSet"]["PermissionSetArn"]
    return {"InstanceArn": instance_arn, "PermissionSetArn": arn}


def test_an_aws_managed_policy_with_a_path_attaches(aws: MotoServer, permission_set: dict[str, str]) -> None:
    sso = aws.client("sso-admin")
    sso.attach_managed_policy_to_permission_set(ManagedPolicyArn=VIEW_ONLY, **permission_set)
    listed = sso.list_managed_policies_in_permission_set(**permission_set)["AttachedManagedPolicies"]
    assert listed == [{"Name": "ViewOnlyAccess", "Arn": VIEW_ONLY}]


@pytest.mark.parametrize("arn", ["arn:aws:iam::aws:policy/ViewOnlyAccess", "arn:aws:iam::aws:policy/job-function/NoSuchPolicy",
                                 "arn:aws:iam::aws:policy/service-role/ReadOnlyAccess"])
def test_a_policy_at_another_path_or_unknown_is_not_found(aws: MotoServer, permission_set: dict[str, str], arn: str) -> None:
    with pytest.raises(ClientError) as caught:
        aws.client("sso-admin").attach_managed_policy_to_permission_set(ManagedPolicyArn=arn, **permission_set)
    assert caught.value.response["Error"] == {"Code": "ResourceNotFoundException", "Message": f"Policy does not exist with ARN: {arn}"}


def test_a_boundary_with_a_path_is_accepted(aws: MotoServer, permission_set: dict[str, str]) -> None:
    sso = aws.client("sso-admin")
    sso.put_permissions_boundary_to_permission_set(PermissionsBoundary={"ManagedPolicyArn": VIEW_ONLY}, **permission_set)
    got = sso.get_permissions_boundary_for_permission_set(**permission_set)["PermissionsBoundary"]
    assert got == {"ManagedPolicyArn": VIEW_ONLY}
