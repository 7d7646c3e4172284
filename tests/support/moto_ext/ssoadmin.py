# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IAM Identity Center admin (sso-admin) as AWS behaves, on top of moto 5.2.5's state.

Moto keeps the instances, permission sets, policies and assignments; this module keeps, per moto backend
(account, Region), what moto lacks: asynchronous requests, permission set versions and the accounts each
is provisioned to, tags, permissions boundaries and the added Regions of multi-Region instances. It lives
in the backend object, so moto's own reset clears it too.

AWS behaviour followed (botocore's sso-admin model and API reference unless said otherwise):
- CreateAccountAssignment, DeleteAccountAssignment and ProvisionPermissionSet answer IN_PROGRESS with a
  RequestId; the Describe*/List*Status calls report IN_PROGRESS until ``async_delay`` has passed, then
  SUCCEEDED or FAILED with a FailureReason. The state changes only then (an assignment is listed once it
  SUCCEEDED). A successful assignment provisions the permission set to the account (API reference,
  CreateAccountAssignment); a later change to the permission set leaves that account on the old version
  until ProvisionPermissionSet (ListPermissionSetsProvisionedToAccount's ProvisioningStatus filter).
- At most 10 outstanding CreateAccountAssignment requests per instance (IAM Identity Center quotas). AWS
  answers the 11th with ThrottlingException "There are too many requests processing. Please try again
  later." (the model documents ThrottlingException as "crossed the throttling limits of the API
  operations", ServiceQuotaExceededException as a count of resources; the message is the one users
  report, aws-samples/aws-iam-identity-center-extensions#87).
- A duplicate assignment succeeds without a second copy (terraform-provider-aws checks before creating
  "since the AWS SSO API doesn't prevent us from creating duplicates"). An assignment to a principal
  missing from the instance's identity store FAILS asynchronously; so does provisioning a permission set
  whose customer managed policy (or boundary) does not exist in the target account (users report the
  FAILED status, aws-samples/aws-iam-identity-center-pipeline#5).
- Writes to a permission set, and a second ProvisionPermissionSet, while one is provisioning: ConflictException.
  So is a create or delete of an assignment while another request for the same assignment is in progress
  (users hit it when a grant overlaps a revoke, aws-samples/iam-identity-center-team#513).
- CreatePermissionSet with a taken name: ConflictException "PermissionSet with name X already exists."
  (terraform users quote it); UpdatePermissionSet clears RelayState when the request omits it
  (terraform-provider-aws#17411) and keeps Description and SessionDuration.
- DeletePermissionSet while accounts are assigned to it: ConflictException (aws-samples maintainers:
  the API does not allow it).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from moto.core.utils import camelcase_to_underscores
from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.models import iam_backends
from moto.identitystore.models import identitystore_backends
from moto.moto_api._internal import mock_random
from moto.ssoadmin.exceptions import ResourceNotFoundException
from moto.ssoadmin.models import AccountAssignment, Instance, ManagedPolicy, PermissionSet, SSOAdminBackend, ssoadmin_backends
from moto.utilities.utils import get_partition

from .core import AwsError, Context, Handler, moto_errors, paginate, registry, validation_error, without_none

HANDLERS, handles = registry()

IN_PROGRESS, SUCCEEDED, FAILED = "IN_PROGRESS", "SUCCEEDED", "FAILED"
CREATE, DELETE, PROVISION = "create", "delete", "provision"
TOO_MANY_REQUESTS = "There are too many requests processing. Please try again later."
CONFLICT = "There is a conflicting operation in process."
MAX_TAGS = 50
REGION_STATUSES = ("ACTIVE", "ADDING", "REMOVING")
_SESSION_DURATION = re.compile(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?")


@dataclass
class AsyncRequest:
    """One CreateAccountAssignment, DeleteAccountAssignment or ProvisionPermissionSet request."""

    request_id: str
    kind: str
    instance_arn: str
    permission_set_arn: str
    created: float
    ready_at: float
    target_id: str | None = None  # the account; None for ProvisionPermissionSet to ALL_PROVISIONED_ACCOUNTS
    principal_type: str | None = None
    principal_id: str | None = None
    status: str = IN_PROGRESS
    failure_reason: str | None = None

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.instance_arn, self.permission_set_arn, self.target_id, self.principal_type, self.principal_id)


@dataclass
class AdminState:
    requests: dict[str, AsyncRequest] = field(default_factory=dict)
    tags: dict[str, dict[str, str]] = field(default_factory=dict)  # resource ARN -> tags
    boundaries: dict[str, dict[str, Any]] = field(default_factory=dict)  # permission set ARN -> boundary
    versions: dict[str, int] = field(default_factory=dict)  # permission set ARN -> version (bumped by writes)
    provisioned: dict[str, dict[str, int]] = field(default_factory=dict)  # ARN -> account -> version there
    regions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # instance ARN -> added Regions


# ---------------------------------------------------------------- moto patches and state


def install_aws_id_formats() -> None:
    """Give moto's instances and permission sets AWS's identifier formats, which the model's patterns check
    (moto writes permission set ARNs as .../instance/ssoins-x/ps-y and identity store ids beyond hex), and
    let AWS managed policies with a path be attached (see _find_managed_policy)."""
    if getattr(Instance, "_idfed_ids", False):
        return
    moto_init = Instance.__init__

    def init(self: Instance, account_id: str, region: str) -> None:
        moto_init(self, account_id, region)
        self.identity_store_id = f"d-{mock_random.get_random_hex(10)}"
        self.instance_arn = f"arn:{get_partition(region)}:sso:::instance/ssoins-{mock_random.get_random_hex(16)}"

    Instance.__init__ = init  # type: ignore[method-assign]
    Instance._idfed_ids = True  # type: ignore[attr-defined]
    PermissionSet.generate_id = staticmethod(_permission_set_arn)  # type: ignore[method-assign]
    SSOAdminBackend._find_managed_policy = _find_managed_policy  # type: ignore[method-assign]


def _find_managed_policy(self: SSOAdminBackend, managed_policy_arn: str) -> ManagedPolicy:
    """The AWS managed policy an ARN names. moto's own reads a lower-case "path" that its policy data spells
    "Path", so it refuses every AWS managed policy outside / (arn:aws:iam::aws:policy/job-function/ViewOnlyAccess,
    .../service-role/...), which AWS attaches."""
    if self.aws_managed_policies is None:
        self.aws_managed_policies = json.loads(aws_managed_policies_data)
    name = managed_policy_arn.rsplit("/", 1)[-1]
    policy = self.aws_managed_policies.get(name)
    if policy is not None and managed_policy_arn == f"arn:{self.partition}:iam::aws:policy{policy.get('Path', '/')}{name}":
        return ManagedPolicy(managed_policy_arn, name)
    raise ResourceNotFoundException(f"Policy does not exist with ARN: {managed_policy_arn}")


def _permission_set_arn(instance_arn: str) -> str:
    partition, instance_id = instance_arn.split(":")[1], instance_arn.rsplit("/", 1)[-1]
    return f"arn:{partition}:sso:::permissionSet/{instance_id}/ps-{mock_random.get_random_hex(16)}"


def _backend(ctx: Context) -> SSOAdminBackend:
    return ssoadmin_backends[ctx.account][ctx.region]


def _state(backend: SSOAdminBackend) -> AdminState:
    return backend.__dict__.setdefault("_idfed", AdminState())


def identity_store_ids(account: str, region: str) -> set[str]:
    return {instance.identity_store_id for instance in ssoadmin_backends[account][region].instances}


def serving_region(account: str, region: str) -> str:
    """The Region whose state answers a call made in ``region``: a multi-Region instance serves its
    ACTIVE added Regions from the same instance and identity store (here: its primary Region's backends)."""
    for primary, backend in list(ssoadmin_backends[account].items()):
        added = [item for items in _state(backend).regions.values() for item in items]
        if primary != region and any(item["RegionName"] == region and item["Status"] == "ACTIVE" for item in added):
            return primary
    return region


def set_regions(instance_arn: str, regions: list[dict[str, Any]], now: float) -> None:
    """The control endpoint: the added Regions (name and status) of a multi-Region instance."""
    for _account, region, backend in ssoadmin_backends.iter_backends():
        if any(instance.instance_arn == instance_arn for instance in backend.instances):
            _state(backend).regions[instance_arn] = [_added_region(item, region, now) for item in regions]
            return
    raise ValueError(f"no instance {instance_arn}")


def _added_region(item: dict[str, Any], primary: str, now: float) -> dict[str, Any]:
    name, status = item.get("RegionName"), item.get("Status", "ACTIVE")
    if not isinstance(name, str) or name == primary or status not in REGION_STATUSES:
        raise ValueError(f"a Region is {{RegionName (not the primary {primary}), Status in {REGION_STATUSES}}}, got {item}")
    return {"RegionName": name, "Status": status, "AddedDate": item.get("AddedDate", now)}


def before(ctx: Context) -> None:
    """Complete the asynchronous requests whose time has come; refuse an unknown instance (moto serves
    any InstanceArn for the operations it implements)."""
    backend = _backend(ctx)
    if "InstanceArn" in ctx.params:
        _instance(ctx, backend)
    state = _state(backend)
    for request in [item for item in state.requests.values() if item.status == IN_PROGRESS and item.ready_at <= ctx.now]:
        request.failure_reason = _COMPLETIONS[request.kind](ctx, backend, state, request)
        request.status = FAILED if request.failure_reason else SUCCEEDED


# ---------------------------------------------------------------- lookups


def _instance(ctx: Context, backend: SSOAdminBackend) -> Instance:
    arn = ctx.params["InstanceArn"]
    for instance in backend.instances:
        if instance.instance_arn == arn:
            return instance
    raise ctx.missing(f"Instance {arn} does not exist")


def _find_permission_set(backend: SSOAdminBackend, instance_arn: str, arn: str) -> PermissionSet | None:
    return next((item for item in backend.permission_sets if item.permission_set_arn == arn and item.instance_arn == instance_arn), None)


def _permission_set(ctx: Context, backend: SSOAdminBackend) -> PermissionSet:
    _instance(ctx, backend)
    arn = ctx.params["PermissionSetArn"]
    found = _find_permission_set(backend, ctx.params["InstanceArn"], arn)
    if found is None:
        raise ctx.missing(f"Could not find PermissionSet with id {arn.rsplit('/', 1)[-1]}")
    return found


def _assignment_key(item: AccountAssignment) -> tuple[Any, ...]:
    return (item.instance_arn, item.permission_set_arn, item.target_id, item.principal_type, item.principal_id)


def _provisioning(state: AdminState, arn: str) -> bool:
    return any(item.kind == PROVISION and item.status == IN_PROGRESS and item.permission_set_arn == arn for item in state.requests.values())


def _guard(state: AdminState, arn: str) -> None:
    if _provisioning(state, arn):
        raise AwsError("ConflictException", CONFLICT)


def _changed(state: AdminState, arn: str) -> None:
    """A write to a permission set: accounts provisioned earlier now run an older version."""
    state.versions[arn] = state.versions.get(arn, 1) + 1


def _partition(arn: str) -> str:
    return arn.split(":")[1]


# ---------------------------------------------------------------- instances and Regions


def _instance_json(backend: SSOAdminBackend, instance: Instance) -> dict[str, Any]:
    partition = _partition(instance.instance_arn)
    return without_none(
        {
            "InstanceArn": instance.instance_arn,
            "IdentityStoreId": instance.identity_store_id,
            "IdentityStoreArn": f"arn:{partition}:identitystore::{instance.account_id}:identitystore/{instance.identity_store_id}",
            "OwnerAccountId": instance.account_id,
            "Name": instance.name,
            "CreatedDate": instance.created_date,
            "Status": instance.status,
            "PrimaryRegion": backend.region_name,
            "Regions": _regions(backend, instance),
        }
    )


def _regions(backend: SSOAdminBackend, instance: Instance) -> list[dict[str, Any]]:
    primary = {"RegionName": backend.region_name, "Status": "ACTIVE", "AddedDate": instance.created_date, "IsPrimaryRegion": True}
    added = _state(backend).regions.get(instance.instance_arn, [])
    return [primary] + [dict(item, IsPrimaryRegion=False) for item in added]


@handles("DescribeInstance")
def describe_instance(ctx: Context) -> dict[str, Any]:
    backend = _backend(ctx)
    return _instance_json(backend, _instance(ctx, backend))


@handles("ListInstances")
def list_instances(ctx: Context) -> dict[str, Any]:
    backend = _backend(ctx)
    return paginate([_instance_json(backend, item) for item in backend.instances], ctx, "Instances")


@handles("ListRegions")
def list_regions(ctx: Context) -> dict[str, Any]:
    backend = _backend(ctx)
    return paginate(_regions(backend, _instance(ctx, backend)), ctx, "Regions")


@handles("DescribeRegion")
def describe_region(ctx: Context) -> dict[str, Any]:
    backend = _backend(ctx)
    name = ctx.params["RegionName"]
    for item in _regions(backend, _instance(ctx, backend)):
        if item["RegionName"] == name:
            return item
    raise AwsError("ResourceNotFoundException", f"Region {name} is not enabled for the instance")


# ---------------------------------------------------------------- permission sets


def _session_duration(text: str) -> str:
    """IAM Identity Center sessions last from 1 to 12 hours (ISO 8601 duration)."""
    match = _SESSION_DURATION.fullmatch(text)
    days, hours, minutes, seconds = (float(group or 0) for group in match.groups()) if match else (0, 0, 0, 0)
    if not 3600 <= ((days * 24 + hours) * 60 + minutes) * 60 + seconds <= 43200:
        raise validation_error(f"SessionDuration {text} is not between PT1H and PT12H")
    return text


@handles("CreatePermissionSet")
def create_permission_set(ctx: Context) -> dict[str, Any]:
    backend, params = _backend(ctx), ctx.params
    instance_arn, name = _instance(ctx, backend).instance_arn, params["Name"]
    if any(item.name == name and item.instance_arn == instance_arn for item in backend.permission_sets):
        raise AwsError("ConflictException", f"PermissionSet with name {name} already exists.")
    tags = _merged_tags({}, params.get("Tags", []))
    created = backend.create_permission_set(
        name=name,
        description=params.get("Description"),
        instance_arn=instance_arn,
        session_duration=_session_duration(params.get("SessionDuration", "PT1H")),
        relay_state=params.get("RelayState"),
        tags=params.get("Tags", []),
    )
    state = _state(backend)
    state.versions[created["PermissionSetArn"]] = 1
    if tags:
        state.tags[created["PermissionSetArn"]] = tags
    return {"PermissionSet": without_none(created)}


@handles("UpdatePermissionSet")
def update_permission_set(ctx: Context) -> dict[str, Any]:
    backend, params = _backend(ctx), ctx.params
    permission_set, state = _permission_set(ctx, backend), _state(backend)
    _guard(state, permission_set.permission_set_arn)
    if "Description" in params:
        permission_set.description = params["Description"]
    if "SessionDuration" in params:
        permission_set.session_duration = _session_duration(params["SessionDuration"])
    permission_set.relay_state = params.get("RelayState")
    _changed(state, permission_set.permission_set_arn)
    return {}


@handles("DeletePermissionSet")
def delete_permission_set(ctx: Context) -> dict[str, Any]:
    backend = _backend(ctx)
    arn, state = _permission_set(ctx, backend).permission_set_arn, _state(backend)
    _guard(state, arn)
    if any(item.permission_set_arn == arn for item in backend.account_assignments):
        raise AwsError("ConflictException", f"PermissionSet {arn.rsplit('/', 1)[-1]} has account assignments; delete them first.")
    backend.delete_permission_set(ctx.params["InstanceArn"], arn)
    for table in (state.tags, state.boundaries, state.versions, state.provisioned):
        table.pop(arn, None)
    return {}


def _policy_write(method: str, member: str | None) -> Handler:
    """A permission set write moto implements: guarded against provisioning, and versioned."""

    def handle(ctx: Context) -> dict[str, Any]:
        backend = _backend(ctx)
        arn, state = _permission_set(ctx, backend).permission_set_arn, _state(backend)
        _guard(state, arn)
        arguments = {"instance_arn": ctx.params["InstanceArn"], "permission_set_arn": arn}
        if member:
            arguments[camelcase_to_underscores(member)] = ctx.params[member]
        with moto_errors():
            getattr(backend, method)(**arguments)
        _changed(state, arn)
        return {}

    return handle


for _operation, _method, _member in (
    ("DeleteInlinePolicyFromPermissionSet", "delete_inline_policy_from_permission_set", None),
    ("AttachManagedPolicyToPermissionSet", "attach_managed_policy_to_permission_set", "ManagedPolicyArn"),
    ("DetachManagedPolicyFromPermissionSet", "detach_managed_policy_from_permission_set", "ManagedPolicyArn"),
    ("AttachCustomerManagedPolicyReferenceToPermissionSet", "attach_customer_managed_policy_reference_to_permission_set", "CustomerManagedPolicyReference"),
    ("DetachCustomerManagedPolicyReferenceFromPermissionSet", "detach_customer_managed_policy_reference_from_permission_set", "CustomerManagedPolicyReference"),
):
    HANDLERS[_operation] = _policy_write(_method, _member)


@handles("PutInlinePolicyToPermissionSet")
def put_inline_policy(ctx: Context) -> dict[str, Any]:
    try:
        document = json.loads(ctx.params["InlinePolicy"])
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise validation_error("The InlinePolicy is not a valid JSON policy document")
    return _policy_write("put_inline_policy_to_permission_set", "InlinePolicy")(ctx)


# ---------------------------------------------------------------- permissions boundary


@handles("PutPermissionsBoundaryToPermissionSet")
def put_permissions_boundary(ctx: Context) -> dict[str, Any]:
    backend = _backend(ctx)
    arn, state = _permission_set(ctx, backend).permission_set_arn, _state(backend)
    _guard(state, arn)
    boundary = ctx.params["PermissionsBoundary"]
    if ("ManagedPolicyArn" in boundary) == ("CustomerManagedPolicyReference" in boundary):
        raise validation_error("A permissions boundary is either a ManagedPolicyArn or a CustomerManagedPolicyReference")
    if "ManagedPolicyArn" in boundary:
        with moto_errors():
            backend._find_managed_policy(boundary["ManagedPolicyArn"])  # pylint: disable=protected-access
        state.boundaries[arn] = {"ManagedPolicyArn": boundary["ManagedPolicyArn"]}
    else:
        reference = boundary["CustomerManagedPolicyReference"]
        state.boundaries[arn] = {"CustomerManagedPolicyReference": {"Name": reference["Name"], "Path": reference.get("Path", "/")}}
    _changed(state, arn)
    return {}


def _boundary_missing(arn: str) -> AwsError:
    return AwsError("ResourceNotFoundException", f"Could not find PermissionsBoundary for PermissionSet {arn.rsplit('/', 1)[-1]}")


@handles("GetPermissionsBoundaryForPermissionSet")
def get_permissions_boundary(ctx: Context) -> dict[str, Any]:
    backend = _backend(ctx)
    arn = _permission_set(ctx, backend).permission_set_arn
    boundary = _state(backend).boundaries.get(arn)
    if boundary is None:
        raise _boundary_missing(arn)
    return {"PermissionsBoundary": boundary}


@handles("DeletePermissionsBoundaryFromPermissionSet")
def delete_permissions_boundary(ctx: Context) -> dict[str, Any]:
    backend = _backend(ctx)
    arn, state = _permission_set(ctx, backend).permission_set_arn, _state(backend)
    _guard(state, arn)
    if state.boundaries.pop(arn, None) is None:
        raise _boundary_missing(arn)
    _changed(state, arn)
    return {}


# ---------------------------------------------------------------- tags


def _tagged_resource(ctx: Context, backend: SSOAdminBackend) -> str:
    arn, instance_arn = ctx.params["ResourceArn"], ctx.params.get("InstanceArn")
    if any(item.instance_arn == arn for item in backend.instances) and instance_arn in (None, arn):
        return arn
    if any(item.permission_set_arn == arn and instance_arn in (None, item.instance_arn) for item in backend.permission_sets):
        return arn
    raise AwsError("ResourceNotFoundException", f"Resource {arn} does not exist")


def _merged_tags(tags: dict[str, str], new: list[dict[str, str]]) -> dict[str, str]:
    merged = dict(tags, **{item["Key"]: item["Value"] for item in new})
    if any(key.lower().startswith("aws:") for key in merged.keys() - tags.keys()):
        raise validation_error("Tag keys starting with aws: are reserved for AWS use")
    if len(merged) > MAX_TAGS:
        raise AwsError("ServiceQuotaExceededException", f"A resource can have at most {MAX_TAGS} tags")
    return merged


@handles("TagResource")
def tag_resource(ctx: Context) -> dict[str, Any]:
    backend = _backend(ctx)
    arn, state = _tagged_resource(ctx, backend), _state(backend)
    state.tags[arn] = _merged_tags(state.tags.get(arn, {}), ctx.params["Tags"])
    return {}


@handles("UntagResource")
def untag_resource(ctx: Context) -> dict[str, Any]:
    backend = _backend(ctx)
    arn, state = _tagged_resource(ctx, backend), _state(backend)
    tags = state.tags.get(arn, {})
    for key in ctx.params["TagKeys"]:
        tags.pop(key, None)
    return {}


@handles("ListTagsForResource")
def list_tags_for_resource(ctx: Context) -> dict[str, Any]:
    backend = _backend(ctx)
    tags = _state(backend).tags.get(_tagged_resource(ctx, backend), {})
    return paginate([{"Key": key, "Value": value} for key, value in tags.items()], ctx, "Tags")


# ---------------------------------------------------------------- asynchronous requests


def _start(ctx: Context, state: AdminState, kind: str, **details: Any) -> AsyncRequest:
    request = AsyncRequest(
        request_id=str(mock_random.uuid4()),
        kind=kind,
        instance_arn=ctx.params["InstanceArn"],
        permission_set_arn=ctx.params["PermissionSetArn"],
        created=ctx.now,
        ready_at=ctx.now + ctx.settings.async_delay,
        **details,
    )
    state.requests[request.request_id] = request
    return request


def _request(ctx: Context, state: AdminState, kind: str, member: str) -> AsyncRequest:
    request = state.requests.get(ctx.params[member])
    if request is None or request.kind != kind or request.instance_arn != ctx.params["InstanceArn"]:
        raise AwsError("ResourceNotFoundException", f"Request {ctx.params[member]} does not exist")
    return request


def _status_summaries(ctx: Context, kind: str, key: str) -> dict[str, Any]:
    backend = _backend(ctx)
    instance_arn = _instance(ctx, backend).instance_arn
    wanted = ctx.params.get("Filter", {}).get("Status")
    items = [
        {"Status": item.status, "RequestId": item.request_id, "CreatedDate": item.created}
        for item in _state(backend).requests.values()
        if item.kind == kind and item.instance_arn == instance_arn and wanted in (None, item.status)
    ]
    return paginate(items, ctx, key)


def _assignment_status(request: AsyncRequest) -> dict[str, Any]:
    return without_none(
        {
            "Status": request.status,
            "RequestId": request.request_id,
            "FailureReason": request.failure_reason,
            "TargetId": request.target_id,
            "TargetType": "AWS_ACCOUNT",
            "PermissionSetArn": request.permission_set_arn,
            "PrincipalType": request.principal_type,
            "PrincipalId": request.principal_id,
            "CreatedDate": request.created,
        }
    )


def _provisioning_status(request: AsyncRequest) -> dict[str, Any]:
    return without_none(
        {
            "Status": request.status,
            "RequestId": request.request_id,
            "AccountId": request.target_id,
            "PermissionSetArn": request.permission_set_arn,
            "FailureReason": request.failure_reason,
            "CreatedDate": request.created,
        }
    )


def _assignment_details(ctx: Context) -> dict[str, Any]:
    params = ctx.params
    return {"target_id": params["TargetId"], "principal_type": params["PrincipalType"], "principal_id": params["PrincipalId"]}


def _params_key(ctx: Context) -> tuple[Any, ...]:
    params = ctx.params
    return (params["InstanceArn"], params["PermissionSetArn"], params["TargetId"], params["PrincipalType"], params["PrincipalId"])


def _guard_assignment(state: AdminState, key: tuple[Any, ...]) -> None:
    if any(item.kind in (CREATE, DELETE) and item.status == IN_PROGRESS and item.key == key for item in state.requests.values()):
        raise AwsError("ConflictException", CONFLICT)


@handles("CreateAccountAssignment")
def create_account_assignment(ctx: Context) -> dict[str, Any]:
    backend = _backend(ctx)
    instance_arn, state = _permission_set(ctx, backend).instance_arn, _state(backend)
    outstanding = [item for item in state.requests.values() if item.kind == CREATE and item.status == IN_PROGRESS and item.instance_arn == instance_arn]
    if len(outstanding) >= ctx.settings.assignment_quota:
        raise AwsError("ThrottlingException", TOO_MANY_REQUESTS)
    _guard_assignment(state, _params_key(ctx))
    request = _start(ctx, state, CREATE, **_assignment_details(ctx))
    return {"AccountAssignmentCreationStatus": _assignment_status(request)}


@handles("DeleteAccountAssignment")
def delete_account_assignment(ctx: Context) -> dict[str, Any]:
    backend = _backend(ctx)
    _permission_set(ctx, backend)
    key, state = _params_key(ctx), _state(backend)
    _guard_assignment(state, key)
    if not any(_assignment_key(item) == key for item in backend.account_assignments):
        raise AwsError("ResourceNotFoundException", "Could not find the account assignment to delete")
    request = _start(ctx, state, DELETE, **_assignment_details(ctx))
    return {"AccountAssignmentDeletionStatus": _assignment_status(request)}


@handles("DescribeAccountAssignmentCreationStatus")
def describe_creation_status(ctx: Context) -> dict[str, Any]:
    backend = _backend(ctx)
    _instance(ctx, backend)
    request = _request(ctx, _state(backend), CREATE, "AccountAssignmentCreationRequestId")
    return {"AccountAssignmentCreationStatus": _assignment_status(request)}


@handles("DescribeAccountAssignmentDeletionStatus")
def describe_deletion_status(ctx: Context) -> dict[str, Any]:
    backend = _backend(ctx)
    _instance(ctx, backend)
    request = _request(ctx, _state(backend), DELETE, "AccountAssignmentDeletionRequestId")
    return {"AccountAssignmentDeletionStatus": _assignment_status(request)}


@handles("ListAccountAssignmentCreationStatus")
def list_creation_status(ctx: Context) -> dict[str, Any]:
    return _status_summaries(ctx, CREATE, "AccountAssignmentsCreationStatus")


@handles("ListAccountAssignmentDeletionStatus")
def list_deletion_status(ctx: Context) -> dict[str, Any]:
    return _status_summaries(ctx, DELETE, "AccountAssignmentsDeletionStatus")


@handles("ProvisionPermissionSet")
def provision_permission_set(ctx: Context) -> dict[str, Any]:
    backend = _backend(ctx)
    arn, state = _permission_set(ctx, backend).permission_set_arn, _state(backend)
    all_accounts = ctx.params["TargetType"] == "ALL_PROVISIONED_ACCOUNTS"
    if not all_accounts and "TargetId" not in ctx.params:
        raise validation_error("TargetId is required when TargetType is AWS_ACCOUNT")
    _guard(state, arn)
    request = _start(ctx, state, PROVISION, target_id=None if all_accounts else ctx.params["TargetId"])
    return {"PermissionSetProvisioningStatus": _provisioning_status(request)}


@handles("DescribePermissionSetProvisioningStatus")
def describe_provisioning_status(ctx: Context) -> dict[str, Any]:
    backend = _backend(ctx)
    _instance(ctx, backend)
    request = _request(ctx, _state(backend), PROVISION, "ProvisionPermissionSetRequestId")
    return {"PermissionSetProvisioningStatus": _provisioning_status(request)}


@handles("ListPermissionSetProvisioningStatus")
def list_provisioning_status(ctx: Context) -> dict[str, Any]:
    return _status_summaries(ctx, PROVISION, "PermissionSetsProvisioningStatus")


# ---------------------------------------------------------------- what the requests do when they complete


def _complete_creation(ctx: Context, backend: SSOAdminBackend, state: AdminState, request: AsyncRequest) -> str | None:
    permission_set = _find_permission_set(backend, request.instance_arn, request.permission_set_arn)
    if permission_set is None:
        return f"Could not find PermissionSet with id {request.permission_set_arn.rsplit('/', 1)[-1]}"
    instance = next(item for item in backend.instances if item.instance_arn == request.instance_arn)
    if not _principal_exists(ctx, instance, request):
        return f"{request.principal_type} {request.principal_id} does not exist in identity store {instance.identity_store_id}"
    reason = _missing_policy(state, permission_set, str(request.target_id))
    if reason:
        return reason
    if not any(_assignment_key(item) == request.key for item in backend.account_assignments):
        with moto_errors():
            backend.create_account_assignment(
                request.instance_arn, str(request.target_id), "AWS_ACCOUNT", request.permission_set_arn, str(request.principal_type), str(request.principal_id)
            )
    state.provisioned.setdefault(request.permission_set_arn, {})[str(request.target_id)] = state.versions.get(request.permission_set_arn, 1)
    return None


def _complete_deletion(_ctx: Context, backend: SSOAdminBackend, state: AdminState, request: AsyncRequest) -> str | None:
    backend.account_assignments = [item for item in backend.account_assignments if _assignment_key(item) != request.key]
    still_assigned = any(item.permission_set_arn == request.permission_set_arn and item.target_id == request.target_id for item in backend.account_assignments)
    if not still_assigned:  # the last assignment gone, IAM Identity Center removes the role from the account
        state.provisioned.get(request.permission_set_arn, {}).pop(str(request.target_id), None)
    return None


def _complete_provisioning(_ctx: Context, backend: SSOAdminBackend, state: AdminState, request: AsyncRequest) -> str | None:
    permission_set = _find_permission_set(backend, request.instance_arn, request.permission_set_arn)
    if permission_set is None:
        return f"Could not find PermissionSet with id {request.permission_set_arn.rsplit('/', 1)[-1]}"
    accounts = state.provisioned.setdefault(request.permission_set_arn, {})
    for account in [request.target_id] if request.target_id else list(accounts):
        reason = _missing_policy(state, permission_set, str(account))
        if reason:
            return reason
        accounts[str(account)] = state.versions.get(request.permission_set_arn, 1)
    return None


_COMPLETIONS = {CREATE: _complete_creation, DELETE: _complete_deletion, PROVISION: _complete_provisioning}


def _principal_exists(ctx: Context, instance: Instance, request: AsyncRequest) -> bool:
    store = identitystore_backends[ctx.account][ctx.region].identity_stores.get(instance.identity_store_id)
    if store is None:
        return False
    return request.principal_id in (store.users if request.principal_type == "USER" else store.groups)


def _missing_policy(state: AdminState, permission_set: PermissionSet, account: str) -> str | None:
    """Why provisioning to ``account`` fails: a customer managed policy the permission set (or its
    boundary) references does not exist there. The wording follows AWS's "Received a <status> status
    error: ..." failure reasons (a 403 one is quoted in org-formation/aws-resource-providers#66); the
    exact 404 text is from memory, not from a source."""
    references = [(item.name, item.path) for item in permission_set.customer_managed_policies]
    boundary = state.boundaries.get(permission_set.permission_set_arn, {}).get("CustomerManagedPolicyReference")
    if boundary:
        references.append((boundary["Name"], boundary["Path"]))
    partition = _partition(permission_set.permission_set_arn)
    for name, path in references:
        arn = f"arn:{partition}:iam::{account}:policy{path}{name}"
        if not _iam_policy_exists(account, partition, arn):
            return f"Received a 404 status error: Not supported policy {arn}."
    return None


def _iam_policy_exists(account: str, partition: str, arn: str) -> bool:
    # dict.get: moto's BackendDict creates an account's IAM on lookup; an account never touched has no policy.
    per_account = dict.get(iam_backends, account)
    backend = dict.get(per_account, partition) if per_account is not None else None
    return backend is not None and arn in backend.managed_policies


# ---------------------------------------------------------------- what is provisioned and assigned


def _latest(state: AdminState, arn: str, account: str, wanted: str | None) -> bool:
    latest = state.provisioned[arn][account] == state.versions.get(arn, 1)
    return wanted is None or latest == (wanted == "LATEST_PERMISSION_SET_PROVISIONED")


@handles("ListPermissionSetsProvisionedToAccount")
def list_permission_sets_provisioned_to_account(ctx: Context) -> dict[str, Any]:
    backend = _backend(ctx)
    instance_arn, state = _instance(ctx, backend).instance_arn, _state(backend)
    account, wanted = ctx.params["AccountId"], ctx.params.get("ProvisioningStatus")
    arns = [
        item.permission_set_arn
        for item in backend.permission_sets
        if item.instance_arn == instance_arn
        and account in state.provisioned.get(item.permission_set_arn, {})
        and _latest(state, item.permission_set_arn, account, wanted)
    ]
    return paginate(arns, ctx, "PermissionSets")


@handles("ListAccountsForProvisionedPermissionSet")
def list_accounts_for_provisioned_permission_set(ctx: Context) -> dict[str, Any]:
    backend = _backend(ctx)
    arn, state = _permission_set(ctx, backend).permission_set_arn, _state(backend)
    wanted = ctx.params.get("ProvisioningStatus")
    accounts = [account for account in state.provisioned.get(arn, {}) if _latest(state, arn, account, wanted)]
    return paginate(accounts, ctx, "AccountIds")


@handles("ListAccountAssignments")
def list_account_assignments(ctx: Context) -> dict[str, Any]:
    backend = _backend(ctx)
    arn = _permission_set(ctx, backend).permission_set_arn
    items = [
        {"AccountId": item.target_id, "PermissionSetArn": arn, "PrincipalType": item.principal_type, "PrincipalId": item.principal_id}
        for item in backend.account_assignments
        if item.permission_set_arn == arn and item.target_id == ctx.params["AccountId"]
    ]
    return paginate(items, ctx, "AccountAssignments")
