# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print, as JSON, what the server's IAM holds: read_iam.py ENDPOINT.

{"providers": {ARN: metadata document}, "roles": {name: {"Arn", "Path", "MaxSessionDuration",
 "AssumeRolePolicyDocument", "Policies": [ARN, ...] sorted}}}
"""

from __future__ import annotations

import json
import sys

import boto3


def main(endpoint: str) -> None:
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    providers = {entry["Arn"]: iam.get_saml_provider(SAMLProviderArn=entry["Arn"])["SAMLMetadataDocument"]
                 for entry in iam.list_saml_providers()["SAMLProviderList"]}
    roles = {}
    for page in iam.get_paginator("list_roles").paginate():
        for role in page["Roles"]:
            role = iam.get_role(RoleName=role["RoleName"])["Role"]
            attached = iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"]
            roles[role["RoleName"]] = {"Arn": role["Arn"], "Path": role["Path"],
                                       "MaxSessionDuration": role.get("MaxSessionDuration"),
                                       "AssumeRolePolicyDocument": role["AssumeRolePolicyDocument"],
                                       "Policies": sorted(item["PolicyArn"] for item in attached)}
    print(json.dumps({"providers": providers, "roles": roles}, default=str))


if __name__ == "__main__":
    main(sys.argv[1])
