# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The local back end's IAM SAML providers (tests/support/moto_ext/iam.py) against boto3, as AWS answers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError

SUPPORT = Path(__file__).resolve().parents[2] / "support"
sys.path.insert(0, str(SUPPORT))
import saml_factory as factory  # noqa: E402  pylint: disable=wrong-import-position
from moto_ext.launcher import MotoServer  # noqa: E402  pylint: disable=wrong-import-position

SIGNER = factory.make_certificate(subject_cn="iam test signer")
METADATA = factory.idp_metadata(signing=[SIGNER], valid_until="2041-02-03T04:05:06Z").decode()
KEY_PEM = factory.make_certificate(factory.make_key(index=7), subject_cn="decryption").key_pem  # unencrypted PKCS#8


@pytest.fixture(scope="module")
def aws() -> Any:
    with MotoServer() as server:
        yield server


@pytest.fixture(autouse=True)
def fresh(aws: MotoServer) -> None:
    aws.reset()


@pytest.fixture
def iam(aws: MotoServer) -> Any:
    return aws.client("iam")


def code_of(call: Callable[..., Any], **kwargs: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"]


def create(iam: Any, name: str = "corp-idp", **kwargs: Any) -> str:
    return iam.create_saml_provider(Name=name, SAMLMetadataDocument=METADATA, **kwargs)["SAMLProviderArn"]


def test_create_get_round_trip_with_the_2025_members(iam: Any) -> None:
    arn = create(iam, Tags=[{"Key": "team", "Value": "iam"}, {"Key": "env", "Value": "prod"}],
                 AssertionEncryptionMode="Allowed", AddPrivateKey=KEY_PEM)
    assert arn.endswith(":saml-provider/corp-idp")
    got = iam.get_saml_provider(SAMLProviderArn=arn)
    assert got["SAMLMetadataDocument"] == METADATA
    assert got["Tags"] == [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "iam"}]  # sorted by key
    assert got["AssertionEncryptionMode"] == "Allowed"
    assert len(got["PrivateKeyList"]) == 1 and set(got["PrivateKeyList"][0]) == {"KeyId", "Timestamp"}
    assert got["ValidUntil"].year == 2041 and got["SAMLProviderUUID"]
    listed = iam.list_saml_providers()["SAMLProviderList"]
    assert [entry["Arn"] for entry in listed] == [arn] and listed[0]["ValidUntil"].year == 2041


def test_a_taken_name_is_entity_already_exists_and_keeps_the_first(iam: Any) -> None:
    arn = create(iam, Tags=[{"Key": "first", "Value": "yes"}])
    assert code_of(iam.create_saml_provider, Name="corp-idp", SAMLMetadataDocument=METADATA) == "EntityAlreadyExists"
    assert iam.get_saml_provider(SAMLProviderArn=arn)["Tags"] == [{"Key": "first", "Value": "yes"}]


@pytest.mark.parametrize("document", [
    "x" * 1200,  # not XML
    "<root>" + "x" * 1200 + "</root>",  # XML, not metadata
    factory.idp_metadata(signing=[]).decode().ljust(1200),  # no signing certificate
    METADATA.replace(SIGNER.b64[:40], "!" * 40),  # a certificate that cannot be read
])
def test_metadata_iam_cannot_read_is_invalid_input_and_creates_nothing(iam: Any, document: str) -> None:
    assert code_of(iam.create_saml_provider, Name="junk", SAMLMetadataDocument=document) == "InvalidInput"
    assert iam.list_saml_providers()["SAMLProviderList"] == []


def test_model_constraints_are_validation_errors(iam: Any) -> None:
    # botocore checks lengths itself; the name pattern only the service does.
    assert code_of(iam.create_saml_provider, Name="bad name", SAMLMetadataDocument=METADATA) == "ValidationError"
    assert iam.list_saml_providers()["SAMLProviderList"] == []


def test_update_checks_the_document_before_changing_anything(iam: Any) -> None:
    arn = create(iam)
    assert code_of(iam.update_saml_provider, SAMLProviderArn=arn, SAMLMetadataDocument="y" * 1200,
                   AssertionEncryptionMode="Required") == "InvalidInput"
    got = iam.get_saml_provider(SAMLProviderArn=arn)
    assert got["SAMLMetadataDocument"] == METADATA and "AssertionEncryptionMode" not in got
    other = factory.idp_metadata(signing=[factory.make_certificate(subject_cn="rotated")]).decode()
    iam.update_saml_provider(SAMLProviderArn=arn, SAMLMetadataDocument=other, AssertionEncryptionMode="Required")
    got = iam.get_saml_provider(SAMLProviderArn=arn)
    assert got["SAMLMetadataDocument"] == other and got["AssertionEncryptionMode"] == "Required"


def test_private_keys_rotate_in_separate_requests_two_at_most(iam: Any) -> None:
    arn = create(iam, AddPrivateKey=KEY_PEM)
    iam.update_saml_provider(SAMLProviderArn=arn, AddPrivateKey=KEY_PEM)
    first, second = (key["KeyId"] for key in iam.get_saml_provider(SAMLProviderArn=arn)["PrivateKeyList"])
    assert code_of(iam.update_saml_provider, SAMLProviderArn=arn, AddPrivateKey=KEY_PEM) == "LimitExceeded"
    assert code_of(iam.update_saml_provider, SAMLProviderArn=arn, AddPrivateKey=KEY_PEM,
                   RemovePrivateKey=first) == "InvalidInput"
    iam.update_saml_provider(SAMLProviderArn=arn, RemovePrivateKey=first)
    assert [key["KeyId"] for key in iam.get_saml_provider(SAMLProviderArn=arn)["PrivateKeyList"]] == [second]
    assert code_of(iam.update_saml_provider, SAMLProviderArn=arn, RemovePrivateKey=first) == "InvalidInput"
    assert code_of(iam.update_saml_provider, SAMLProviderArn=arn, AddPrivateKey="not a key") == "InvalidInput"


def test_tagging(iam: Any) -> None:
    arn = create(iam)
    iam.tag_saml_provider(SAMLProviderArn=arn, Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "1"}])
    iam.untag_saml_provider(SAMLProviderArn=arn, TagKeys=["b", "absent"])
    assert iam.list_saml_provider_tags(SAMLProviderArn=arn)["Tags"] == [{"Key": "a", "Value": "1"}]
    assert code_of(iam.tag_saml_provider, SAMLProviderArn=arn,
                   Tags=[{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}]) == "InvalidInput"
    many = [{"Key": "k{0}".format(index), "Value": "v"} for index in range(50)]
    assert code_of(iam.tag_saml_provider, SAMLProviderArn=arn, Tags=many) == "LimitExceeded"


def test_unknown_arn_is_no_such_entity_and_delete_removes(iam: Any) -> None:
    arn = create(iam)
    missing = arn.replace("corp-idp", "missing")
    assert code_of(iam.get_saml_provider, SAMLProviderArn=missing) == "NoSuchEntity"
    assert code_of(iam.tag_saml_provider, SAMLProviderArn=missing, Tags=[{"Key": "a", "Value": "b"}]) == "NoSuchEntity"
    iam.delete_saml_provider(SAMLProviderArn=arn)
    assert code_of(iam.get_saml_provider, SAMLProviderArn=arn) == "NoSuchEntity"
    create(iam)  # the name is free again, with no tags or keys left over
    assert "Tags" not in iam.get_saml_provider(SAMLProviderArn=arn)


def test_the_request_log_and_fault_layer_see_iam_calls(aws: MotoServer, iam: Any) -> None:
    aws.set_faults([{"service": "iam", "operation": "GetSAMLProvider", "every": 1}])
    arn = create(iam)
    assert code_of(iam.get_saml_provider, SAMLProviderArn=arn) == "Throttling"
    writes = [(entry["operation"], entry["write"]) for entry in aws.log()]
    assert writes == [("CreateSAMLProvider", True), ("GetSAMLProvider", False)]
