# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print, as JSON, the IAM SAML provider NAME as the server holds it ({} when absent): read_provider.py ENDPOINT NAME."""

from __future__ import annotations

import json
import sys

import boto3


def main(endpoint: str, name: str) -> None:
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    found = {}
    for entry in iam.list_saml_providers()["SAMLProviderList"]:
        if entry["Arn"].endswith(":saml-provider/" + name):
            found = dict(iam.get_saml_provider(SAMLProviderArn=entry["Arn"]), Arn=entry["Arn"])
            found.pop("ResponseMetadata")
    print(json.dumps(found, default=str))


if __name__ == "__main__":
    main(*sys.argv[1:3])
