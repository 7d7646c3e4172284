# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""boto3 calls against the test server, printed as JSON: how the tests arrange state and read it back
without the modules under test.

    python aws.py ENDPOINT '[["SERVICE", "OPERATION", {"Param": ...}, {"all": true, "account": "111122223333"}], ...]'

Prints the list of answers. Options (the fourth item, optional): "all" follows a paginated operation to its end;
"account" makes the call in another account (moto's x-moto-account-id header). An AWS error is answered as
{"Error": {"Code", "Message"}}; the exit status stays 0.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def call(endpoint: str, service: str, operation: str, params: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    client = boto3.client(service, region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="testing",
                          aws_secret_access_key="testing", config=Config(retries={"max_attempts": 0}))
    if options.get("account"):
        client.meta.events.register("before-sign.*.*", lambda request, **_: request.headers.__setitem__("x-moto-account-id", options["account"]))
    try:
        if options.get("all"):
            answer = client.get_paginator(operation).paginate(**params).build_full_result()
        else:
            answer = getattr(client, operation)(**params)
    except ClientError as err:
        answer = {"Error": err.response["Error"]}
    answer.pop("ResponseMetadata", None)
    return answer


def main() -> int:
    endpoint, calls = sys.argv[1], json.loads(sys.argv[2])
    answers = [call(endpoint, item[0], item[1], item[2], item[3] if len(item) > 3 else {}) for item in calls]
    json.dump(answers, sys.stdout, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
