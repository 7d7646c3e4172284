# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The identity store (identitystore) as AWS behaves, on top of moto 5.2.5's users, groups and memberships.

Added or fixed (botocore's identitystore model and API reference unless said otherwise):
- UpdateUser / UpdateGroup: Operations of AttributePath (case-insensitive, ``name.givenName``) and
  AttributeValue (a document; null removes the attribute, "" is refused). Multi-valued attributes
  (emails, addresses, ...) are replaced whole: a sub-path into one is refused with AWS's message
  ("Unsupported update operation on multi-value attribute emails, ..."); keys inside the documents match
  case-insensitively (terraform sends ``value``/``primary``, the CLI examples ``Value``/``Primary``).
- Revision: every user and group has one; a write whose Revision differs fails with ConflictException
  (Reason CONCURRENT_MODIFICATION). Outputs carry UserArn/GroupArn/MembershipArn and Revision.
- Uniqueness (ConflictException, Reason UNIQUENESS_CONSTRAINT_VIOLATION): UserName and group
  DisplayName (moto checks these on create; here on update too), and a user's membership of a group
  ("Member and Group relationship already exists.", as AWS words it).
- "Administrator" and "AWSAdministrators" are reserved names for users and groups (ValidationException).
- Ids may be given as ARNs (IdentityStoreId, UserId, GroupId, MemberId.UserId); an identity store that
  belongs to no instance of the account and Region is ResourceNotFoundException (ResourceType IDENTITY_STORE).
  In an ACTIVE added Region of a multi-Region instance, calls reach the primary Region's store (app.py).
- DeleteUser / DeleteGroup of an unknown id: ResourceNotFoundException; deleting removes the memberships.
- ListUsers / ListGroups: the deprecated Filters work on UserName / DisplayName only; another attribute
  path is refused (ValidationException) instead of moto's silent "return everything".
- ListGroupMemberships of an unknown group and DeleteGroupMembership of an unknown membership:
  ResourceNotFoundException (ResourceType GROUP, GROUP_MEMBERSHIP) where moto answers an empty list or success.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from botocore.model import ListShape, Shape, StructureShape
from moto.core.utils import camelcase_to_underscores
from moto.identitystore.models import Group, IdentityStoreBackend, IdentityStoreData, Name, User, identitystore_backends

from . import ssoadmin
from .core import AwsError, Context, moto_errors, paginate, registry, validation_error, without_none
from .validation import check_value, service_model

HANDLERS, handles = registry()

ENTERPRISE = "aws:identitystore:enterprise"  # the only extension AWS supports
RESERVED_NAMES = frozenset({"Administrator", "AWSAdministrators"})
_ARN_PREFIX = re.compile(r"arn:aws[a-z-]*:identitystore:[^/]*/")
_ID_MEMBERS = ("IdentityStoreId", "UserId", "GroupId", "MembershipId")
# Output-only members: an UpdateUser/UpdateGroup operation cannot write them.
_READ_ONLY = frozenset(
    {"IdentityStoreId", "UserId", "GroupId", "UserArn", "GroupArn", "Revision", "ExternalIds", "UserStatus"}
    | {"CreatedAt", "CreatedBy", "UpdatedAt", "UpdatedBy", "Extensions"}
)
_MOTO_USER_FIELDS = tuple(name for name in User._fields if name not in ("UserId", "IdentityStoreId"))
_MOTO_LIST_FIELDS = ("Emails", "Addresses", "PhoneNumbers")  # moto iterates these: it must find lists
_MODEL = service_model("identitystore")
_DOCUMENT = _MODEL.shape_for("AttributeValue")
# CreateUser members newer than moto's User (Photos, Website, Birthdate, Roles, Extensions): kept here.
_USER_EXTRAS = frozenset(_MODEL.operation_model("CreateUser").input_shape.members) - set(_MOTO_USER_FIELDS) - {"IdentityStoreId"}


@dataclass
class Meta:
    """What moto does not keep of a user or group: revision, timestamps, attributes newer than moto."""

    created_at: float
    updated_at: float
    revision: int = 1
    extras: dict[str, Any] = field(default_factory=dict)


def _backend(ctx: Context) -> IdentityStoreBackend:
    return identitystore_backends[ctx.account][ctx.region]


def _store(backend: IdentityStoreBackend, store_id: str) -> IdentityStoreData:
    return backend.identity_stores.setdefault(store_id, IdentityStoreData())


def _meta(backend: IdentityStoreBackend, ctx: Context, resource_id: str) -> Meta:
    metas: dict[tuple[str, str], Meta] = backend.__dict__.setdefault("_idfed", {})
    return metas.setdefault((ctx.params["IdentityStoreId"], resource_id), Meta(ctx.now, ctx.now))


def _forget(backend: IdentityStoreBackend, ctx: Context, resource_id: str) -> None:
    backend.__dict__.setdefault("_idfed", {}).pop((ctx.params["IdentityStoreId"], resource_id), None)


def _bare(value: str) -> str:
    match = _ARN_PREFIX.match(value)
    return value[match.end() :] if match else value


def before(ctx: Context) -> None:
    """Ids given as ARNs become ids (for moto too); the identity store must be an instance's."""
    params = ctx.params
    for name in _ID_MEMBERS:
        if isinstance(params.get(name), str):
            params[name] = _bare(params[name])
    member = params.get("MemberId")
    if isinstance(member, dict) and isinstance(member.get("UserId"), str):
        member["UserId"] = _bare(member["UserId"])
    if isinstance(params.get("GroupIds"), list):
        params["GroupIds"] = [_bare(item) if isinstance(item, str) else item for item in params["GroupIds"]]
    store = params.get("IdentityStoreId")
    if store is not None and store not in ssoadmin.identity_store_ids(ctx.account, ctx.region):
        raise AwsError("ResourceNotFoundException", f"Identity store {store} does not exist", ResourceType="IDENTITY_STORE", ResourceId=store)


def _arn(kind: str, resource_id: str) -> str:
    return f"arn:aws:identitystore:::{kind}/{resource_id}"


def _not_found(kind: str, resource_id: str) -> AwsError:
    return AwsError("ResourceNotFoundException", f"{kind} not found.", ResourceType=kind, ResourceId=resource_id)


def _check_reserved(name: Any) -> None:
    if name in RESERVED_NAMES:
        raise validation_error(f"{name} is a reserved name and can't be used for users or groups")


def _check_revision(ctx: Context, meta: Meta) -> None:
    wanted = ctx.params.get("Revision")
    if wanted is not None and wanted != str(meta.revision):
        raise AwsError("ConflictException", f"Revision {wanted} is not the current revision {meta.revision}", Reason="CONCURRENT_MODIFICATION")


def _duplicate(message: str) -> AwsError:
    return AwsError("ConflictException", message, Reason="UNIQUENESS_CONSTRAINT_VIOLATION")


def _written(ctx: Context, meta: Meta) -> None:
    meta.revision += 1
    meta.updated_at = ctx.now


# ---------------------------------------------------------------- attribute documents (UpdateUser / UpdateGroup)


def _member_name(shape: StructureShape, name: str, path: str) -> str:
    for member in shape.members:
        if member.lower() == name.lower() and member not in _READ_ONLY:
            return member
    raise validation_error(f"Invalid attribute path {path}")


def _canonical(shape: Shape, value: Any) -> Any:
    """Document keys renamed to the model's member names (AWS reads them case-insensitively)."""
    if isinstance(shape, ListShape) and isinstance(value, list):
        return [_canonical(shape.member, item) for item in value]
    if not isinstance(shape, StructureShape) or not isinstance(value, dict) or shape.metadata.get("document"):
        return value
    names = {member.lower(): member for member in shape.members}
    renamed = {}
    for key, item in value.items():
        name = names.get(key.lower(), key)
        renamed[name] = _canonical(shape.members[name], item) if name in shape.members else item  # unknown: validation names it
    return renamed


def _apply(record: dict[str, Any], shape: StructureShape, path: str, value: Any, full_path: str) -> None:
    head, _dot, rest = path.partition(".")
    name = _member_name(shape, head, full_path)
    member = shape.members[name]
    if rest and member.type_name == "list":
        raise validation_error(f"Unsupported update operation on multi-value attribute {head}, please provide full replacement of Multi-Value attribute types")
    if rest and isinstance(member, StructureShape):
        nested = dict(record.get(name) or {})
        _apply(nested, member, rest, value, full_path)
        record[name] = nested
    elif rest:
        raise validation_error(f"Invalid attribute path {full_path}")
    else:
        _set(record, name, _canonical(member, value), member, full_path)
    if record.get(name) in ({}, None):
        record.pop(name, None)


def _set(record: dict[str, Any], name: str, value: Any, shape: Shape, path: str) -> None:
    if value is None:  # AWS removes an attribute set to null
        record.pop(name, None)
        return
    if value in ("", [], {}):
        raise validation_error(f"The attribute {path} cannot be empty; set it to null to remove it")
    check_value(shape, value, path)
    record[name] = value


def _apply_extension(record: dict[str, Any], path: str, value: Any) -> None:
    name, _dot, attribute = path.partition(".")
    if name != ENTERPRISE:
        raise validation_error(f"Extension {name} is not supported; {ENTERPRISE} is")
    extensions = dict(record.get("Extensions") or {})
    if attribute:
        extension = dict(extensions.get(name) or {})
        _set(extension, attribute, value, _DOCUMENT, path)
        extensions[name] = extension
    elif value is None or isinstance(value, dict):
        extensions[name] = value
    else:
        raise validation_error(f"The attribute {path} takes a JSON object")
    record["Extensions"] = {key: item for key, item in extensions.items() if item}
    if not record["Extensions"]:
        del record["Extensions"]


def _apply_operations(ctx: Context, record: dict[str, Any], shape_name: str) -> None:
    shape = _MODEL.shape_for(shape_name)
    for operation in ctx.params["Operations"]:
        path, value = operation["AttributePath"], operation.get("AttributeValue")
        if ":" in path.partition(".")[0] and shape_name == "User":  # groups have no extensions
            _apply_extension(record, path, value)
        else:
            _apply(record, shape, path, value, path)


# ---------------------------------------------------------------- users


def _user(backend: IdentityStoreBackend, ctx: Context) -> User:
    user = backend.identity_stores.get(ctx.params["IdentityStoreId"], IdentityStoreData()).users.get(ctx.params["UserId"])
    if user is None:
        raise _not_found("USER", ctx.params["UserId"])
    return user


def _user_record(user: User, meta: Meta) -> dict[str, Any]:
    record = {name: getattr(user, name) for name in _MOTO_USER_FIELDS}
    record["Name"] = without_none(user.Name._asdict()) if user.Name else None
    record.update(meta.extras)
    return {key: value for key, value in record.items() if value not in (None, [], {})}


def _save_user(store: IdentityStoreData, user: User, record: dict[str, Any], meta: Meta) -> None:
    values = {name: record.get(name) for name in _MOTO_USER_FIELDS}
    values["Name"] = Name.from_dict(record.get("Name") or {})
    values.update({name: record.get(name) or [] for name in _MOTO_LIST_FIELDS})
    store.users[user.UserId] = user._replace(**values)
    meta.extras = {key: value for key, value in record.items() if key not in _MOTO_USER_FIELDS}


def _require_user_attributes(record: dict[str, Any]) -> None:
    """What moto's CreateUser requires (Identity Center: UserName, DisplayName and Name), kept by updates."""
    if not record.get("UserName"):
        raise validation_error("userName is a required attribute")
    name = record.get("Name") or {}
    present = {"displayname": record.get("DisplayName"), "givenname": name.get("GivenName"), "familyname": name.get("FamilyName")}
    missing = [label for label, value in present.items() if not value]
    if missing:
        raise validation_error(", ".join(f"{label}: The attribute {label} is required" for label in missing))


def _render_user(ctx: Context, user: User, meta: Meta) -> dict[str, Any]:
    record = _user_record(user, meta)
    wanted = set(ctx.params.get("Extensions", []))
    extensions = {key: value for key, value in record.pop("Extensions", {}).items() if key in wanted}
    rendered = {"IdentityStoreId": user.IdentityStoreId, "UserId": user.UserId, "UserArn": _arn("user", user.UserId), "Revision": str(meta.revision), **record}
    if extensions:
        rendered["Extensions"] = extensions
    return dict(rendered, CreatedAt=meta.created_at, UpdatedAt=meta.updated_at)


@handles("CreateUser")
def create_user(ctx: Context) -> dict[str, Any]:
    backend, params = _backend(ctx), ctx.params
    _check_reserved(params.get("UserName"))
    arguments = {camelcase_to_underscores(name): params.get(name) for name in _MOTO_USER_FIELDS}
    with moto_errors():
        user_id, store_id = backend.create_user(params["IdentityStoreId"], **arguments)
    store = _store(backend, store_id)
    meta = _meta(backend, ctx, user_id)
    record = dict(_user_record(store.users[user_id], meta), **{key: value for key, value in params.items() if key in _USER_EXTRAS})
    _save_user(store, store.users[user_id], record, meta)
    return {"IdentityStoreId": store_id, "UserId": user_id, "UserArn": _arn("user", user_id), "Revision": str(meta.revision)}


@handles("DescribeUser")
def describe_user(ctx: Context) -> dict[str, Any]:
    backend = _backend(ctx)
    user = _user(backend, ctx)
    return _render_user(ctx, user, _meta(backend, ctx, user.UserId))


@handles("ListUsers")
def list_users(ctx: Context) -> dict[str, Any]:
    backend = _backend(ctx)
    users = list(backend.identity_stores.get(ctx.params["IdentityStoreId"], IdentityStoreData()).users.values())
    wanted = _filter(ctx, "UserName")
    chosen = [user for user in users if wanted is None or user.UserName == wanted]
    return paginate([_render_user(ctx, user, _meta(backend, ctx, user.UserId)) for user in chosen], ctx, "Users")


def _filter(ctx: Context, attribute: str) -> str | None:
    filters = ctx.params.get("Filters") or []
    if not filters:
        return None
    if filters[0]["AttributePath"].lower() != attribute.lower():
        raise validation_error(f"Filtering is supported on {attribute} only")
    return filters[0]["AttributeValue"]


@handles("UpdateUser")
def update_user(ctx: Context) -> dict[str, Any]:
    backend = _backend(ctx)
    user, store = _user(backend, ctx), _store(backend, ctx.params["IdentityStoreId"])
    meta = _meta(backend, ctx, user.UserId)
    _check_revision(ctx, meta)
    record = _user_record(user, meta)
    _apply_operations(ctx, record, "User")
    _require_user_attributes(record)
    _check_reserved(record["UserName"])
    if any(other.UserName == record["UserName"] and other.UserId != user.UserId for other in store.users.values()):
        raise _duplicate("Duplicate UserName")
    _save_user(store, user, record, meta)
    _written(ctx, meta)
    return {"IdentityStoreId": user.IdentityStoreId, "UserId": user.UserId, "UserArn": _arn("user", user.UserId), "Revision": str(meta.revision)}


@handles("DeleteUser")
def delete_user(ctx: Context) -> dict[str, Any]:
    backend = _backend(ctx)
    user, store = _user(backend, ctx), _store(backend, ctx.params["IdentityStoreId"])
    _check_revision(ctx, _meta(backend, ctx, user.UserId))
    del store.users[user.UserId]
    store.group_memberships = {key: item for key, item in store.group_memberships.items() if item["MemberId"].get("UserId") != user.UserId}
    _forget(backend, ctx, user.UserId)
    return {}


@handles("GetUserId")
def get_user_id(ctx: Context) -> dict[str, Any]:
    with moto_errors():
        user_id, store_id = _backend(ctx).get_user_id(ctx.params["IdentityStoreId"], ctx.params["AlternateIdentifier"])
    return {"IdentityStoreId": store_id, "UserId": user_id, "UserArn": _arn("user", user_id)}


# ---------------------------------------------------------------- groups


def _group(backend: IdentityStoreBackend, ctx: Context) -> Group:
    group = backend.identity_stores.get(ctx.params["IdentityStoreId"], IdentityStoreData()).groups.get(ctx.params["GroupId"])
    if group is None:
        raise _not_found("GROUP", ctx.params["GroupId"])
    return group


def _render_group(group: Group, meta: Meta) -> dict[str, Any]:
    rendered = {
        "IdentityStoreId": group.IdentityStoreId,
        "GroupId": group.GroupId,
        "GroupArn": _arn("group", group.GroupId),
        "Revision": str(meta.revision),
        "DisplayName": group.DisplayName,
        "Description": group.Description,
        "ExternalIds": group.ExternalIds or None,
        "CreatedAt": meta.created_at,
        "UpdatedAt": meta.updated_at,
    }
    return without_none(rendered)


@handles("CreateGroup")
def create_group(ctx: Context) -> dict[str, Any]:
    backend, params = _backend(ctx), ctx.params
    _check_reserved(params.get("DisplayName"))
    with moto_errors():
        group_id, store_id = backend.create_group(params["IdentityStoreId"], params.get("DisplayName"), params.get("Description"))
    meta = _meta(backend, ctx, group_id)
    return {"IdentityStoreId": store_id, "GroupId": group_id, "GroupArn": _arn("group", group_id), "Revision": str(meta.revision)}


@handles("DescribeGroup")
def describe_group(ctx: Context) -> dict[str, Any]:
    backend = _backend(ctx)
    group = _group(backend, ctx)
    return _render_group(group, _meta(backend, ctx, group.GroupId))


@handles("ListGroups")
def list_groups(ctx: Context) -> dict[str, Any]:
    backend = _backend(ctx)
    groups = list(backend.identity_stores.get(ctx.params["IdentityStoreId"], IdentityStoreData()).groups.values())
    wanted = _filter(ctx, "DisplayName")
    chosen = [group for group in groups if wanted is None or group.DisplayName == wanted]
    return paginate([_render_group(group, _meta(backend, ctx, group.GroupId)) for group in chosen], ctx, "Groups")


@handles("UpdateGroup")
def update_group(ctx: Context) -> dict[str, Any]:
    backend = _backend(ctx)
    group, store = _group(backend, ctx), _store(backend, ctx.params["IdentityStoreId"])
    meta = _meta(backend, ctx, group.GroupId)
    _check_revision(ctx, meta)
    record = without_none({"DisplayName": group.DisplayName, "Description": group.Description})
    _apply_operations(ctx, record, "Group")
    _check_reserved(record.get("DisplayName"))
    if record.get("DisplayName") is not None and any(
        other.DisplayName == record["DisplayName"] and other.GroupId != group.GroupId for other in store.groups.values()
    ):
        raise _duplicate("Duplicate GroupDisplayName")
    store.groups[group.GroupId] = group._replace(DisplayName=record.get("DisplayName"), Description=record.get("Description"))
    _written(ctx, meta)
    return {"IdentityStoreId": group.IdentityStoreId, "GroupId": group.GroupId, "GroupArn": _arn("group", group.GroupId), "Revision": str(meta.revision)}


@handles("DeleteGroup")
def delete_group(ctx: Context) -> dict[str, Any]:
    backend = _backend(ctx)
    group, store = _group(backend, ctx), _store(backend, ctx.params["IdentityStoreId"])
    _check_revision(ctx, _meta(backend, ctx, group.GroupId))
    del store.groups[group.GroupId]
    store.group_memberships = {key: item for key, item in store.group_memberships.items() if item["GroupId"] != group.GroupId}
    _forget(backend, ctx, group.GroupId)
    return {}


@handles("GetGroupId")
def get_group_id(ctx: Context) -> dict[str, Any]:
    with moto_errors():
        group_id, store_id = _backend(ctx).get_group_id(ctx.params["IdentityStoreId"], ctx.params["AlternateIdentifier"])
    return {"IdentityStoreId": store_id, "GroupId": group_id, "GroupArn": _arn("group", group_id)}


@handles("CreateGroupMembership")
def create_group_membership(ctx: Context) -> dict[str, Any]:
    backend, params = _backend(ctx), ctx.params
    store = _store(backend, params["IdentityStoreId"])
    user_id = params["MemberId"].get("UserId")
    if any(item["GroupId"] == params["GroupId"] and item["MemberId"].get("UserId") == user_id for item in store.group_memberships.values()):
        raise _duplicate("Member and Group relationship already exists.")
    with moto_errors():
        membership_id, store_id = backend.create_group_membership(params["IdentityStoreId"], params["GroupId"], params["MemberId"])
    return {"IdentityStoreId": store_id, "MembershipId": membership_id, "MembershipArn": _arn("membership", membership_id)}


@handles("ListGroupMemberships")
def list_group_memberships(ctx: Context) -> dict[str, Any]:
    """An unknown group is ResourceNotFoundException (moto lists nothing); items carry their MembershipArn."""
    backend = _backend(ctx)
    group, store = _group(backend, ctx), _store(backend, ctx.params["IdentityStoreId"])
    members = [item for item in store.group_memberships.values() if item["GroupId"] == group.GroupId]
    items = [dict(item, MembershipArn=_arn("membership", item["MembershipId"])) for item in members]
    return paginate(items, ctx, "GroupMemberships")


@handles("DeleteGroupMembership")
def delete_group_membership(ctx: Context) -> dict[str, Any]:
    """An unknown membership is ResourceNotFoundException (moto answers success)."""
    store = _store(_backend(ctx), ctx.params["IdentityStoreId"])
    if store.group_memberships.pop(ctx.params["MembershipId"], None) is None:
        raise _not_found("GROUP_MEMBERSHIP", ctx.params["MembershipId"])
    return {}
