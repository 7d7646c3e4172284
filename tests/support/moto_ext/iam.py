# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IAM SAML providers as AWS behaves, on top of moto 5.2.5's (which keeps a name and a document, nothing else).

Added or fixed (botocore's iam model and the IAM API reference unless said otherwise):
- Input checked against the model (the name pattern, the 1,000 to 10,000,000 characters of the document, the
  encryption mode enum, ...), answered as IAM does: ValidationError.
- CreateSAMLProvider: a name already in use is EntityAlreadyExists (moto silently replaced the provider);
  the 100 providers an account may hold (LimitExceeded); Tags, AssertionEncryptionMode, AddPrivateKey; a
  SAMLProviderUUID.
- Create/UpdateSAMLProvider: a document IAM cannot read as SAML 2.0 IdP metadata (not XML, no EntityDescriptor
  with an entityID and an IDPSSODescriptor, no readable signing certificate) is InvalidInput "Could not parse
  metadata" (moto stored anything). ValidUntil is the document's earliest validUntil.
- UpdateSAMLProvider: AssertionEncryptionMode, AddPrivateKey (a PEM private key; at most 2 per provider) and
  RemovePrivateKey (by KeyId), not both in one request ("add your new private key and then remove the old key
  in a separate request").
- GetSAMLProvider: Tags sorted by key, AssertionEncryptionMode, PrivateKeyList (KeyId, Timestamp; never the key),
  SAMLProviderUUID.
- TagSAMLProvider / UntagSAMLProvider / ListSAMLProviderTags (moto has none): at most 50 tags, no duplicate keys
  in one request.

Not verified against AWS (no public statement): how a KeyId is derived (random here), the ValidUntil of a
document without validUntil (moto's fixed date is kept), and the error codes for a third private key
(LimitExceeded) and an unknown KeyId (InvalidInput).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree
from moto.core.parse import QueryParser
from moto.core.serialize import QuerySerializer
from moto.core.utils import get_service_model
from moto.iam.models import IAMBackend, SAMLProvider, iam_backends
from moto.utilities.utils import get_partition

from .core import AwsError
from .protocol import AwsRequest, Response, error_response, request_id
from .validation import validate

HANDLERS: dict[str, Callable[[IAMBackend, dict[str, Any]], dict[str, Any]]] = {}

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
PROVIDER_QUOTA = 100  # SAML providers per account (IAM quotas)
PRIVATE_KEY_QUOTA = 2  # the model's privateKeyList max
TAG_QUOTA = 50
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
# What a provider holds beyond moto's SAMLProvider, kept on the object itself so /_idfed/reset clears it.
_EXTRA = "_idfed"


def handles(operation: str) -> Callable[[Callable[..., dict[str, Any]]], Callable[..., dict[str, Any]]]:
    def register(func: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        HANDLERS[operation] = func
        return func

    return register


def serve(request: AwsRequest) -> Response:
    """Answer one IAM query-protocol call that HANDLERS implements."""
    operation_model = get_service_model("iam").operation_model(request.operation)
    values = {key: items[0] for key, items in parse_qs(request.body.decode("utf-8"), keep_blank_values=True).items()}
    try:
        params = QueryParser(operation_model).parse({"values": values})  # type: ignore[typeddict-item]
        try:
            validate("iam", request.operation, params)
        except AwsError as error:
            raise AwsError("ValidationError", error.message) if error.code == "ValidationException" else error from None
        backend = iam_backends[request.account][get_partition(request.region)]
        result = HANDLERS[request.operation](backend, params)
    except AwsError as error:
        return error_response("query", error)
    serialized = QuerySerializer(operation_model).serialize(result)
    body = serialized["body"].replace("<RequestId>request-id</RequestId>", f"<RequestId>{request_id()}</RequestId>")
    return Response(serialized["status_code"], body.encode(), list(serialized["headers"].items()))


def _error(code: str, message: str) -> AwsError:
    status = {"NoSuchEntity": 404, "EntityAlreadyExists": 409, "LimitExceeded": 409}.get(code, 400)
    return AwsError(code, message, status)


def _extra(provider: SAMLProvider) -> dict[str, Any]:
    return provider.__dict__.setdefault(_EXTRA, {"uuid": str(uuid.uuid4()), "tags": {}, "mode": None, "keys": []})


def _provider(backend: IAMBackend, arn: str) -> SAMLProvider:
    for provider in backend.saml_providers.values():
        if provider.arn == arn:
            return provider
    raise _error("NoSuchEntity", f"SAMLProvider {arn} does not exist.")


# ---------------------------------------------------------------- the metadata document


def _valid_until(document: str) -> datetime.datetime | None:
    """The earliest validUntil of the IdP role and what encloses it; raises InvalidInput when unreadable."""
    try:
        root = etree.fromstring(document.encode("utf-8"), _PARSER)
    except (etree.XMLSyntaxError, ValueError):
        raise _error("InvalidInput", "Could not parse metadata: the document is not well-formed XML.") from None
    entities = [root] if root.tag == f"{{{MD}}}EntityDescriptor" else list(root.iter(f"{{{MD}}}EntityDescriptor"))
    roles = [(entity, role) for entity in entities for role in entity.iterchildren(f"{{{MD}}}IDPSSODescriptor")]
    if not roles or not roles[0][0].get("entityID"):
        raise _error("InvalidInput", "Could not parse metadata: no EntityDescriptor with an entityID and an IDPSSODescriptor.")
    entity, role = roles[0]
    if not any(_readable(node.text or "") for node in _signing_certificates(role)):
        raise _error("InvalidInput", "Could not parse metadata: the IDPSSODescriptor has no readable signing certificate.")
    moments = [_moment(element.get("validUntil")) for element in (role, entity, *entity.iterancestors())]
    found = [moment for moment in moments if moment is not None]
    return min(found) if found else None


def _signing_certificates(role: Any) -> list[Any]:
    return [
        node
        for descriptor in role.iterchildren(f"{{{MD}}}KeyDescriptor")
        if descriptor.get("use") in (None, "signing")
        for node in descriptor.iter(f"{{{DS}}}X509Certificate")
    ]


def _readable(body: str) -> bool:
    try:
        x509.load_der_x509_certificate(base64.b64decode("".join(body.split()), validate=True))
    except (binascii.Error, ValueError):
        return False
    return True


def _moment(value: str | None) -> datetime.datetime | None:
    if not value:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _error("InvalidInput", f"Could not parse metadata: validUntil {value!r} is not a date and time.") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)  # moto keeps naive UTC


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None, microsecond=0)  # moto keeps naive UTC


def _set_document(provider: SAMLProvider, document: str) -> None:
    valid_until = _valid_until(document)
    provider.saml_metadata_document = document
    if valid_until is not None:
        provider.valid_until = valid_until


# ---------------------------------------------------------------- private keys and tags


def _add_private_key(provider: SAMLProvider, pem: str) -> None:
    keys = _extra(provider)["keys"]
    if len(keys) >= PRIVATE_KEY_QUOTA:
        raise _error("LimitExceeded", f"The SAML provider already has {PRIVATE_KEY_QUOTA} private keys; remove one first.")
    try:
        serialization.load_pem_private_key(pem.encode("utf-8"), password=None)
    except (ValueError, TypeError):
        raise _error("InvalidInput", "The private key is not an unencrypted PEM private key.") from None
    keys.append({"KeyId": uuid.uuid4().hex.upper(), "Timestamp": _utcnow()})


def _remove_private_key(provider: SAMLProvider, key_id: str) -> None:
    extra = _extra(provider)
    if not any(key["KeyId"] == key_id for key in extra["keys"]):
        raise _error("InvalidInput", f"The SAML provider has no private key {key_id}.")
    extra["keys"] = [key for key in extra["keys"] if key["KeyId"] != key_id]


def _tag(provider: SAMLProvider, tags: list[dict[str, str]]) -> None:
    keys = [tag["Key"] for tag in tags]
    if len(set(keys)) != len(keys):
        raise _error("InvalidInput", "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
    merged = dict(_extra(provider)["tags"], **{tag["Key"]: tag.get("Value", "") for tag in tags})
    if len(merged) > TAG_QUOTA:
        raise _error("LimitExceeded", f"The number of tags has reached the maximum limit of {TAG_QUOTA}.")
    _extra(provider)["tags"] = merged


def _tag_list(provider: SAMLProvider) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in sorted(_extra(provider)["tags"].items())]


# ---------------------------------------------------------------- operations


@handles("CreateSAMLProvider")
def create_saml_provider(backend: IAMBackend, params: dict[str, Any]) -> dict[str, Any]:
    name = params["Name"]
    if name in backend.saml_providers:
        raise _error("EntityAlreadyExists", f"SAMLProvider {name} already exists.")
    if len(backend.saml_providers) >= PROVIDER_QUOTA:
        raise _error("LimitExceeded", f"Cannot exceed quota for SAMLProvidersPerAccount: {PROVIDER_QUOTA}.")
    provider = SAMLProvider(backend.account_id, backend.region_name, name)
    _set_document(provider, params["SAMLMetadataDocument"])
    _tag(provider, params.get("Tags", []))
    _extra(provider)["mode"] = params.get("AssertionEncryptionMode")
    if params.get("AddPrivateKey"):
        _add_private_key(provider, params["AddPrivateKey"])
    backend.saml_providers[name] = provider  # only once every check passed: a refused call leaves nothing behind
    return {"SAMLProviderArn": provider.arn, "Tags": _tag_list(provider)}


@handles("UpdateSAMLProvider")
def update_saml_provider(backend: IAMBackend, params: dict[str, Any]) -> dict[str, Any]:
    provider = _provider(backend, params["SAMLProviderArn"])
    if params.get("AddPrivateKey") and params.get("RemovePrivateKey"):
        raise _error("InvalidInput", "Add the new private key and remove the old one in separate requests.")
    if params.get("SAMLMetadataDocument") is not None:
        _valid_until(params["SAMLMetadataDocument"])  # every check before any change
    if params.get("RemovePrivateKey"):
        _remove_private_key(provider, params["RemovePrivateKey"])
    if params.get("AddPrivateKey"):
        _add_private_key(provider, params["AddPrivateKey"])
    if params.get("SAMLMetadataDocument") is not None:
        _set_document(provider, params["SAMLMetadataDocument"])
    if params.get("AssertionEncryptionMode"):
        _extra(provider)["mode"] = params["AssertionEncryptionMode"]
    return {"SAMLProviderArn": provider.arn}


@handles("GetSAMLProvider")
def get_saml_provider(backend: IAMBackend, params: dict[str, Any]) -> dict[str, Any]:
    provider = _provider(backend, params["SAMLProviderArn"])
    extra = _extra(provider)
    result = {
        "SAMLProviderUUID": extra["uuid"],
        "SAMLMetadataDocument": provider.saml_metadata_document,
        "CreateDate": provider.create_date,
        "ValidUntil": provider.valid_until,
        "Tags": _tag_list(provider) or None,
        "AssertionEncryptionMode": extra["mode"],
        "PrivateKeyList": [dict(key) for key in extra["keys"]] or None,
    }
    return {key: value for key, value in result.items() if value is not None}


@handles("TagSAMLProvider")
def tag_saml_provider(backend: IAMBackend, params: dict[str, Any]) -> dict[str, Any]:
    _tag(_provider(backend, params["SAMLProviderArn"]), params["Tags"])
    return {}


@handles("UntagSAMLProvider")
def untag_saml_provider(backend: IAMBackend, params: dict[str, Any]) -> dict[str, Any]:
    extra = _extra(_provider(backend, params["SAMLProviderArn"]))
    extra["tags"] = {key: value for key, value in extra["tags"].items() if key not in params["TagKeys"]}
    return {}


@handles("ListSAMLProviderTags")
def list_saml_provider_tags(backend: IAMBackend, params: dict[str, Any]) -> dict[str, Any]:
    return {"Tags": _tag_list(_provider(backend, params["SAMLProviderArn"])), "IsTruncated": False}
