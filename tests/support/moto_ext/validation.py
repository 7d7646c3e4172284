# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inbound checks of a JSON request against botocore's model of its operation, before any handler runs.

AWS's front end rejects a request whose members break the model: a missing required member, a length,
range, enum or pattern violation (ValidationException, worded as AWS words it: "1 validation error
detected: Value 'x' at 'instanceArn' failed to satisfy constraint: ..."), or a member of the wrong JSON type
(SerializationException). Patterns are matched whole, as AWS's Coral validation does. Unknown members
are rejected too (ValidationException): botocore never sends one, so one reaching the server is a bug in
hand-made requests that this back end should surface.
"""

from __future__ import annotations

import functools
from typing import Any

from botocore.loaders import Loader
from botocore.model import ListShape, MapShape, NoShapeFoundError, OperationNotFoundError, ServiceModel, Shape, StringShape, StructureShape

from .core import AwsError

try:
    import regex as _re  # the models' patterns use \p{L}-style classes, which the stdlib re cannot compile
except ImportError:  # pragma: no cover - then the \p{..} patterns are skipped (see _pattern)
    import re as _re  # type: ignore[no-redef]

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "blob": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "long": (int,),
    "float": (int, float),
    "double": (int, float),
    "timestamp": (int, float, str),
    "structure": (dict,),
    "map": (dict,),
    "list": (list,),
}


@functools.lru_cache(maxsize=None)
def service_model(service: str) -> ServiceModel:
    return ServiceModel(Loader().load_service_model(service, "service-2"), service_name=service)


def operation_errors(service: str, operation: str) -> frozenset[str]:
    return frozenset(shape.name for shape in service_model(service).operation_model(operation).error_shapes)


def error_members(service: str, code: str) -> frozenset[str]:
    """The members the model gives error ``code`` (identitystore's carry RequestId; sso-admin's do not)."""
    try:
        return frozenset(service_model(service).shape_for(code).members)
    except NoShapeFoundError:
        return frozenset()


def validate(service: str, operation: str, params: dict[str, Any]) -> None:
    try:
        shape = service_model(service).operation_model(operation).input_shape
    except OperationNotFoundError:
        raise AwsError("UnknownOperationException", f"Unknown operation {operation}") from None
    problems: list[str] = []
    if shape is not None:
        _check_structure(shape, params, "", problems)
    _raise(problems)


def check_value(shape: Shape, value: Any, path: str) -> None:
    """Check one value against a model shape (the documents of UpdateUser/UpdateGroup), as validate() does."""
    problems: list[str] = []
    _check(shape, value, path, problems)
    _raise(problems)


def _raise(problems: list[str]) -> None:
    if problems:
        plural = "s" if len(problems) > 1 else ""
        raise AwsError("ValidationException", f"{len(problems)} validation error{plural} detected: {'; '.join(problems)}")


@functools.lru_cache(maxsize=None)
def _pattern(text: str) -> Any:
    try:
        return _re.compile(text)
    except _re.error:  # only without the regex module: a pattern re cannot read is not checked
        return None


def _member_path(path: str, name: str) -> str:
    name = name[:1].lower() + name[1:]  # AWS names members in lower camel case in its messages
    return f"{path}.{name}" if path else name


def _check(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    if shape.metadata.get("document"):
        return  # a free-form JSON document (identitystore AttributeValue, Extensions)
    expected = _JSON_TYPES[shape.type_name]
    if not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected):
        raise AwsError("SerializationException", f"Unexpected {type(value).__name__} for member '{path}' ({shape.type_name} expected)")
    checker = _CHECKERS.get(shape.type_name)
    if checker is not None:
        checker(shape, value, path, problems)


def _check_structure(shape: StructureShape, value: dict[str, Any], path: str, problems: list[str]) -> None:
    for name in value.keys() - shape.members.keys():
        problems.append(f"Value at '{_member_path(path, name)}' failed to satisfy constraint: Member is not defined in {shape.name}")
    for name, member in shape.members.items():
        member_value = value.get(name)
        if member_value is None:  # JSON null counts as absent
            if name in shape.required_members:
                problems.append(f"Value null at '{_member_path(path, name)}' failed to satisfy constraint: Member must not be null")
            continue
        _check(member, member_value, _member_path(path, name), problems)


def _check_list(shape: ListShape, value: list[Any], path: str, problems: list[str]) -> None:
    _check_length(shape, value, len(value), path, problems)
    for index, item in enumerate(value, start=1):
        _check(shape.member, item, f"{path}.{index}.member", problems)


def _check_map(shape: MapShape, value: dict[str, Any], path: str, problems: list[str]) -> None:
    _check_length(shape, value, len(value), path, problems)
    for key, item in value.items():
        _check(shape.key, key, f"{path}.key", problems)
        _check(shape.value, item, f"{path}.{key}", problems)


def _check_string(shape: StringShape, value: str, path: str, problems: list[str]) -> None:
    before = len(problems)
    _check_length(shape, value, len(value), path, problems)
    enum = shape.enum
    if enum and value not in enum:
        problems.append(f"{_shown(shape, value)} at '{path}' failed to satisfy constraint: Member must satisfy enum value set: [{', '.join(enum)}]")
    pattern = _pattern(shape.metadata["pattern"]) if "pattern" in shape.metadata else None
    if len(problems) == before and pattern is not None and not pattern.fullmatch(value):
        problems.append(
            f"{_shown(shape, value)} at '{path}' failed to satisfy constraint: Member must satisfy regular expression pattern: {shape.metadata['pattern']}"
        )


def _check_number(shape: Shape, value: float, path: str, problems: list[str]) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and value < low:
        problems.append(f"Value '{value}' at '{path}' failed to satisfy constraint: Member must have value greater than or equal to {low}")
    if high is not None and value > high:
        problems.append(f"Value '{value}' at '{path}' failed to satisfy constraint: Member must have value less than or equal to {high}")


def _check_length(shape: Shape, value: Any, length: int, path: str, problems: list[str]) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and length < low:
        problems.append(f"{_shown(shape, value)} at '{path}' failed to satisfy constraint: Member must have length greater than or equal to {low}")
    if high is not None and length > high:
        problems.append(f"{_shown(shape, value)} at '{path}' failed to satisfy constraint: Member must have length less than or equal to {high}")


def _shown(shape: Shape, value: Any) -> str:
    """AWS quotes the offending value unless the member is sensitive."""
    return "Value" if shape.metadata.get("sensitive") or not isinstance(value, str) else f"Value '{value}'"


_CHECKERS: dict[str, Any] = {
    "structure": _check_structure,
    "list": _check_list,
    "map": _check_map,
    "string": _check_string,
    "integer": _check_number,
    "long": _check_number,
}
