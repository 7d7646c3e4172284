# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The helpers account_assignment and permission_set share in _aws/identity_center: the sliding window of
asynchronous requests and the permission set directory."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from ansible_collections.idfed.aws_sso.plugins.module_utils._aws import identity_center as ic

INSTANCE = "arn:aws:sso:::instance/ssoins-0123456789abcdef"


class FakeService:
    """Requests that finish after `rounds` status reads, on a clock the test controls."""

    def __init__(self, rounds: int = 2, failing: frozenset = frozenset()) -> None:
        self.rounds = rounds
        self.failing = failing
        self.now = 0.0
        self.requests: dict[str, dict] = {}
        self.outstanding_peak = 0
        self.describes = 0
        self.order: list[str] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        for request in self.requests.values():
            request["reads_left"] -= 1

    def _status(self, request_id: str) -> dict:
        request = self.requests[request_id]
        if request["reads_left"] > 0:
            return {"RequestId": request_id, "Status": "IN_PROGRESS"}
        if request["job"] in self.failing:
            return {"RequestId": request_id, "Status": "FAILED", "FailureReason": "no"}
        return {"RequestId": request_id, "Status": "SUCCEEDED"}

    def submit(self, job: str) -> dict:
        request_id = "r-" + job
        self.requests[request_id] = {"job": job, "reads_left": self.rounds}
        self.order.append(job)
        self.outstanding_peak = max(self.outstanding_peak, len(self.in_progress()))
        return self._status(request_id)

    def describe(self, _job: str, request_id: str) -> dict:
        self.describes += 1
        return self._status(request_id)

    def in_progress(self) -> set[str]:
        return {key for key in self.requests if self._status(key)["Status"] == "IN_PROGRESS"}


def run(service: FakeService, jobs, timeout=600.0, listing=True):
    return ic.run_in_window(jobs, submit=service.submit, describe=service.describe,
                            in_progress=service.in_progress if listing else None, timeout=timeout,
                            clock=service.clock, sleep=service.sleep)


def test_never_more_than_ten_outstanding_and_every_job_finishes():
    service = FakeService(failing=frozenset({"j7"}))
    finished, unfinished = run(service, ["j{0}".format(index) for index in range(25)])
    assert unfinished == []
    assert service.outstanding_peak == ic.ASSIGNMENT_QUOTA
    assert sorted(job for job, _status in finished) == sorted("j{0}".format(index) for index in range(25))
    assert [status["Status"] for job, status in finished if job == "j7"] == ["FAILED"]


def test_the_listing_spares_describing_requests_still_in_progress():
    listed, unlisted = FakeService(rounds=3), FakeService(rounds=3)
    run(listed, ["j{0}".format(index) for index in range(10)])
    run(unlisted, ["j{0}".format(index) for index in range(10)], listing=False)
    assert listed.describes == 10  # each request once, when it left the IN_PROGRESS list
    assert unlisted.describes > 10


def test_a_request_refused_outright_counts_as_finished():
    service = FakeService()
    refused = {"Status": "FAILED", "FailureReason": "AccessDeniedException: no"}
    finished, unfinished = ic.run_in_window(["a"], submit=lambda job: refused, describe=service.describe, timeout=10,
                                            clock=service.clock, sleep=service.sleep)
    assert finished == [("a", refused)] and unfinished == []


def test_the_deadline_leaves_in_progress_and_unsent_jobs_unfinished():
    service = FakeService(rounds=1000)
    finished, unfinished = run(service, ["j{0}".format(index) for index in range(12)], timeout=5)
    assert finished == []
    assert [status["Status"] for _job, status in unfinished[:10]] == ["IN_PROGRESS"] * 10
    assert unfinished[10:] == [("j10", None), ("j11", None)]
    assert service.now <= 5


class FakeSsoAdmin:
    """ListPermissionSets (one page) and DescribePermissionSet, counting the describes."""

    def __init__(self, names: list[str]) -> None:
        self.sets = {"arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-{0:016d}".format(index): name
                     for index, name in enumerate(names)}
        self.described: list[str] = []

    def list_permission_sets(self, aws_retry, InstanceArn, MaxResults):  # pylint: disable=invalid-name
        assert aws_retry and InstanceArn == INSTANCE and MaxResults == 100
        return {"PermissionSets": list(self.sets)}

    def describe_permission_set(self, aws_retry, InstanceArn, PermissionSetArn):  # pylint: disable=invalid-name
        assert aws_retry and InstanceArn == INSTANCE
        self.described.append(PermissionSetArn)
        if PermissionSetArn not in self.sets:
            raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no"}}, "DescribePermissionSet")
        return {"PermissionSet": {"PermissionSetArn": PermissionSetArn, "Name": self.sets[PermissionSetArn]}}


def test_names_are_described_only_until_found_and_once():
    client = FakeSsoAdmin(["Admin", "Dev", "Ops", "Audit"])
    directory = ic.PermissionSets(client, INSTANCE)
    assert directory.by_name("Dev")["Name"] == "Dev"
    assert len(client.described) == 2
    assert directory.resolve("Admin")["Name"] == "Admin" and len(client.described) == 2
    dev_arn = directory.by_name("Dev")["PermissionSetArn"]
    assert directory.resolve(dev_arn)["Name"] == "Dev" and len(client.described) == 2
    assert directory.by_name("Nope") is None
    assert directory.names() == ["Admin", "Audit", "Dev", "Ops"] and len(client.described) == 4


def test_an_unknown_arn_is_none():
    directory = ic.PermissionSets(FakeSsoAdmin(["Admin"]), INSTANCE)
    assert directory.by_arn("arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-ffffffffffffffff") is None


@pytest.mark.parametrize("value, refused", [
    ("Admin", False), ("a+b=c,d.e@f_g-h", False), ("x" * 32, False), ("x" * 33, True), ("has space", True),
    ("arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef", False),
    ("arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123", True), ("arn:aws:iam::aws:policy/x", True),
])
def test_permission_set_references(value, refused):
    assert (ic.check_permission_set_reference(value, "where") is not None) == refused
