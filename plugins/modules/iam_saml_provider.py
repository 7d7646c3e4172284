#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: iam_saml_provider
short_description: Manage a classic IAM SAML identity provider from validated IdP metadata
version_added: 0.2.0
description:
  - Creates, updates or deletes an IAM SAML 2.0 identity provider (classic per-account federation, the principal
    that role trust policies name as C(arn:aws:iam::<account>:saml-provider/<name>)). Not for IAM Identity Center,
    whose identity source has no API.
  - The IdP metadata is validated before any AWS call (rules of O(metadata_path)), and a document with an error
    finding is refused, naming the finding codes.
  - Metadata is compared by meaning, not as text. The module reads the document IAM holds and compares the facts IAM
    acts on, the entity ID, the signing certificates (by SHA-256 fingerprint), the single sign-on endpoints and the
    earliest C(validUntil). Re-formatted metadata (whitespace, attribute order, namespace prefixes, a fresh
    signature, an added encryption key) is no change; a new signing certificate or entity ID is.
  - Supports tags, the assertion encryption mode and the private keys IAM decrypts encrypted assertions with.
author:
  - idfed.aws_sso maintainers (@idfed)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Shows the provider before and after, with the metadata as its canonical facts.
  platform:
    platforms: posix
requirements:
  - python >= 3.10
  - boto3 >= 1.34.0
  - botocore >= 1.34.0
  - cryptography >= 42.0.0
  - lxml >= 5.0.0
options:
  name:
    description:
      - Name of the provider, unique in the account; 1 to 128 letters, digits, V(_), V(.) and V(-).
      - The provider is found by this name before anything is created.
    type: str
    required: true
  state:
    description:
      - V(present) creates the provider or updates it in place; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  metadata_path:
    description:
      - Path to the IdP's SAML 2.0 metadata on the host the module runs on. Required with O(state=present),
        unless O(metadata_content) is given.
      - The document is checked as C(idfed.aws_sso.saml_metadata_info) does with C(role=idp) and C(target=iam)
        (well-formed and safe XML, one IdP entity, a current signing certificate of a strong key, an https
        SingleSignOnService, 1,000 to 10,000,000 characters). Error findings fail the task before any AWS call.
      - The document is uploaded as given.
    type: path
  metadata_content:
    description:
      - The IdP metadata itself, for example from a lookup.
      - Mutually exclusive with O(metadata_path).
    type: str
  assertion_encryption_mode:
    description:
      - Whether IAM accepts only encrypted SAML assertions (V(Required)) or also plain ones (V(Allowed)).
      - IAM decrypts with a private key it holds (O(private_key)). Omitted, the mode is left as it is.
    type: str
    choices: [Required, Allowed]
  private_key:
    description:
      - An unencrypted PEM private key (AES-GCM or AES-CBC assertions) that IAM decrypts encrypted assertions with;
        the IdP encrypts to its certificate.
      - IAM returns only a key id and an upload time for each key it holds, never the key, so the module cannot
        tell whether this is the key IAM already has. It adds the key when the provider is created, and to a
        provider that holds no private key; see O(update_private_key) to add it to one that does.
      - Never returned or logged.
    type: str
  update_private_key:
    description:
      - V(on_create) adds O(private_key) only to a provider that holds no private key yet (so a second run changes
        nothing).
      - V(always) adds it on every run, the first step of a rotation; IAM keeps at most two keys, so remove the
        old one with O(remove_private_keys) once the IdP encrypts to the new certificate. A run with V(always) is
        never idempotent.
    type: str
    choices: [on_create, always]
    default: on_create
  remove_private_keys:
    description:
      - Key ids (RV(after.private_keys[].key_id)) to remove; ids the provider does not hold are ignored.
      - When adding O(private_key) would exceed the two keys IAM keeps, these are removed first; otherwise the new
        key is added first, so the provider is never left without a key during a rotation.
    type: list
    elements: str
    default: []
notes:
  - Only the first EntityDescriptor with an IDPSSODescriptor is considered (as IAM does); use
    C(idfed.aws_sso.saml_metadata_info) with C(entity_id) and C(dest) to extract one entity from an aggregate.
  - The IAM ACS URL is C(https://signin.aws.amazon.com/saml), or C(https://<region>.signin.aws.amazon.com/saml/acs/<uuid>)
    with assertion encryption, where C(<uuid>) is RV(after.saml_provider_uuid).
seealso:
  - module: idfed.aws_sso.saml_metadata_info
  - module: amazon.aws.iam_role
  - name: Create a SAML identity provider in IAM
    description: AWS documentation of IAM SAML providers.
    link: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_saml.html
"""

EXAMPLES = r"""
- name: Fetch and validate the IdP metadata for classic IAM
  idfed.aws_sso.saml_metadata_info:
    url: https://idp.example.com/saml/metadata
    target: iam
  register: idp

- name: Create or update the SAML provider
  idfed.aws_sso.iam_saml_provider:
    name: corp-idp
    metadata_path: files/idp-metadata.xml
    tags:
      owner: platform-team
  register: provider

- name: A role that users of the IdP may assume
  amazon.aws.iam_role:
    name: corp-idp-readonly
    assume_role_policy_document:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Principal:
            Federated: "{{ provider.arn }}"
          Action: [sts:AssumeRoleWithSAML, sts:TagSession]
          Condition:
            StringEquals:
              SAML:aud: https://signin.aws.amazon.com/saml
    managed_policies:
      - arn:aws:iam::aws:policy/ReadOnlyAccess

- name: Require encrypted assertions (the IdP encrypts to the certificate of this key)
  idfed.aws_sso.iam_saml_provider:
    name: corp-idp
    metadata_path: files/idp-metadata.xml
    assertion_encryption_mode: Required
    private_key: "{{ lookup('ansible.builtin.file', 'secrets/saml-decryption-key.pem') }}"

- name: Rotate the decryption key, step 1 of 2 (add the new key; IAM decrypts with both)
  idfed.aws_sso.iam_saml_provider:
    name: corp-idp
    metadata_path: files/idp-metadata.xml
    private_key: "{{ lookup('ansible.builtin.file', 'secrets/saml-decryption-key-2026.pem') }}"
    update_private_key: always
  register: rotated

- name: Rotate the decryption key, step 2 of 2, once the IdP encrypts to the new certificate
  idfed.aws_sso.iam_saml_provider:
    name: corp-idp
    metadata_path: files/idp-metadata.xml
    remove_private_keys:
      - "{{ (rotated.before.private_keys | first).key_id }}"

- name: Delete the provider
  idfed.aws_sso.iam_saml_provider:
    name: corp-idp
    state: absent
"""

RETURN = r"""
arn:
  description: The provider's ARN, for role trust policies (C(Principal.Federated)).
  returned: when the provider exists (not for a creation in check mode)
  type: str
  sample: arn:aws:iam::123456789012:saml-provider/corp-idp
outcome:
  description: C(created), C(updated), C(deleted) or C(unchanged).
  returned: always
  type: str
  sample: updated
findings:
  description:
    - The findings of the metadata analysis (codes as in C(idfed.aws_sso.saml_metadata_info)); warnings do not stop
      the task.
  returned: when metadata is given
  type: list
  elements: dict
  sample:
    - code: certificate_expiring
      severity: warning
      message: The signing certificate CN=idp.example.com expires in 12 days.
before:
  description: The provider before the task, C({}) when it did not exist. Same keys as RV(after).
  returned: always
  type: dict
after:
  description: The provider after the task (predicted in check mode), C({}) when it no longer exists.
  returned: always
  type: dict
  contains:
    name:
      description: The provider's name.
      type: str
      sample: corp-idp
    arn:
      description: The provider's ARN.
      type: str
    metadata:
      description: The canonical facts of the metadata IAM holds, the form metadata is compared in.
      type: dict
      contains:
        entity_id:
          description: The IdP's entityID (the issuer of its assertions).
          type: str
          sample: https://idp.example.com/saml/metadata
        signing_certificates:
          description: The signing certificates, sorted by fingerprint (C(fingerprint_sha256), C(subject), C(not_after)).
          type: list
          elements: dict
        sso_services:
          description: The SingleSignOnService endpoints (C(binding), C(location)), sorted.
          type: list
          elements: dict
        valid_until:
          description: The earliest validUntil of the IdP role and what encloses it, ISO 8601 UTC, or null.
          type: str
    assertion_encryption_mode:
      description: C(Required), C(Allowed), or null when never set.
      type: str
    tags:
      description: The provider's tags.
      type: dict
      sample: {owner: platform-team}
    private_keys:
      description: The decryption keys IAM holds, by id and upload time (never the key).
      type: list
      elements: dict
      contains:
        key_id:
          description: The key's id, what O(remove_private_keys) takes.
          type: str
          sample: 4D2B8A7E1F0C4A9B8E7D6C5B4A392817
        timestamp:
          description: When the key was added, ISO 8601 UTC.
          type: str
          sample: "2026-03-01T10:00:00Z"
    valid_until:
      description: The expiry IAM records for the provider, ISO 8601 UTC.
      type: str
      sample: "2036-01-01T00:00:00Z"
    create_date:
      description: When the provider was created, ISO 8601 UTC.
      type: str
    saml_provider_uuid:
      description: The provider's UUID, part of its ACS URL for encrypted assertions.
      type: str
diff:
  description: RV(before) and RV(after), in diff mode.
  returned: in diff mode
  type: dict
"""

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.idfed.aws_sso.plugins.module_utils import _deps
from ansible_collections.idfed.aws_sso.plugins.module_utils._aws import iam_saml
from ansible_collections.idfed.aws_sso.plugins.module_utils._state import CREATED, UNCHANGED, UPDATED, Plan, Spec, plan, report

LIBRARIES = ("boto3", "botocore", "cryptography", "lxml")
PRIVATE_KEY_LIMIT = 2  # botocore's iam model: privateKeyList max
# The metadata, tags and keys are compared here (Changes): the metadata as canonical facts, where a fact that
# disappears (a validUntil dropped) is a change too, unlike an option left unset.
SPEC = Spec(read_only=("arn", "private_keys", "valid_until", "create_date", "saml_provider_uuid"))


def read_metadata(module: AnsibleAWSModule) -> tuple[str, dict, list]:
    """(document, canonical facts, findings); fails, naming every error finding, before any AWS call."""
    params = module.params
    if params["metadata_content"] is not None:
        data = params["metadata_content"].encode("utf-8")
    else:
        try:
            with open(params["metadata_path"], "rb") as handle:
                data = handle.read(iam_saml.MAX_DOCUMENT_BYTES + 1)
        except OSError as exc:
            module.fail_json(msg="Cannot read {0}: {1}.".format(params["metadata_path"], exc.strerror or exc))
    report = iam_saml.analyze(data)
    findings = [item.to_dict() for item in report.findings]
    if report.errors:
        module.fail_json(msg="The IdP metadata was refused before any AWS call, error findings {0}:\n{1}".format(
            ", ".join(sorted({item.code for item in report.errors})),
            "\n".join("{0}: {1}".format(item.code, item.message) for item in report.errors)), findings=findings)
    try:
        document = data.decode("utf-8")
    except UnicodeDecodeError:
        module.fail_json(msg="The IdP metadata is not UTF-8 text, which IAM takes; save it as UTF-8.", findings=findings)
    return document, iam_saml.canonical_metadata(report), findings


def iso(moment) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else None


def describe(name: str, found: dict | None) -> dict | None:
    """The provider as the module shows and compares it."""
    if found is None:
        return None
    report = iam_saml.analyze(found.get("SAMLMetadataDocument", "").encode("utf-8"))
    return {
        "name": name,
        "arn": found["SAMLProviderArn"],
        "metadata": iam_saml.canonical_metadata(report),
        "assertion_encryption_mode": found.get("AssertionEncryptionMode"),
        "tags": boto3_tag_list_to_ansible_dict(found.get("Tags", [])),
        "private_keys": [{"key_id": key["KeyId"], "timestamp": iso(key.get("Timestamp"))}
                         for key in found.get("PrivateKeyList", [])],
        "valid_until": iso(found.get("ValidUntil")),
        "create_date": iso(found.get("CreateDate")),
        "saml_provider_uuid": found.get("SAMLProviderUUID"),
    }


class Changes:
    """What a present provider needs beyond the planned fields: metadata, tags and private keys."""

    def __init__(self, module: AnsibleAWSModule, before: dict | None, canonical: dict) -> None:
        params = module.params
        self.metadata = before is None or before["metadata"] != canonical
        have_tags = (before or {}).get("tags", {})
        wanted = params["tags"]
        self.set_tags, self.unset_tags = compare_aws_tags(have_tags, wanted, params["purge_tags"]) if wanted is not None else ({}, [])
        self.tags = dict({key: value for key, value in have_tags.items() if key not in self.unset_tags}, **self.set_tags)
        held = [key["key_id"] for key in (before or {}).get("private_keys", [])]
        self.remove_keys = [key for key in dict.fromkeys(params["remove_private_keys"]) if key in held]
        self.add_key = params["private_key"] if params["private_key"] and (not held or params["update_private_key"] == "always") else None
        kept = len(held) - len(self.remove_keys)
        if self.add_key and kept >= PRIVATE_KEY_LIMIT:
            module.fail_json(msg="The provider holds {0} private keys ({1}), the most IAM keeps: name the one to drop in "
                                 "remove_private_keys to add the new one.".format(len(held), ", ".join(held)))
        self.remove_first = bool(self.add_key) and len(held) >= PRIVATE_KEY_LIMIT

    @property
    def changed_keys(self) -> tuple[str, ...]:
        flags = {"metadata": self.metadata, "tags": self.set_tags or self.unset_tags,
                 "private_keys": self.add_key or self.remove_keys}
        return tuple(key for key, changed in flags.items() if changed)


def plan_present(module: AnsibleAWSModule, before: dict | None, canonical: dict) -> tuple[Plan, Changes]:
    params = module.params
    desired = {"name": params["name"], "assertion_encryption_mode": params["assertion_encryption_mode"]}
    compared = plan(SPEC, before, desired)
    changes = Changes(module, before, canonical)
    after = dict(compared.after, metadata=canonical, tags=changes.tags)
    if before is None:
        return Plan(CREATED, None, after, compared.changed_keys), changes
    keys = tuple(sorted(set(compared.changed_keys) | set(changes.changed_keys)))
    return Plan(UPDATED if keys else UNCHANGED, before, after if keys else before, keys), changes


def create(module: AnsibleAWSModule, iam, document: str, changes: Changes) -> str:
    params = module.params
    request = {"Name": params["name"], "SAMLMetadataDocument": document}
    if changes.tags:
        request["Tags"] = ansible_dict_to_boto3_tag_list(changes.tags)
    if params["assertion_encryption_mode"]:
        request["AssertionEncryptionMode"] = params["assertion_encryption_mode"]
    if changes.add_key:
        request["AddPrivateKey"] = changes.add_key
    return iam_saml.create_provider(iam, **request)


def update(module: AnsibleAWSModule, iam, planned: Plan, document: str, changes: Changes) -> None:
    """The fields that differ, in as few calls as IAM allows: keys are added and removed in separate requests."""
    arn = planned.before["arn"]
    request = {}
    if "metadata" in planned.changed_keys:
        request["SAMLMetadataDocument"] = document
    if "assertion_encryption_mode" in planned.changed_keys:
        request["AssertionEncryptionMode"] = module.params["assertion_encryption_mode"]
    removals = [dict(RemovePrivateKey=key) for key in changes.remove_keys]
    if changes.remove_first:
        for removal in removals:
            iam_saml.update_provider(iam, arn, **removal)
        removals = []
    if changes.add_key:
        request["AddPrivateKey"] = changes.add_key
    if request:
        iam_saml.update_provider(iam, arn, **request)
    for removal in removals:
        iam_saml.update_provider(iam, arn, **removal)
    if changes.unset_tags:
        iam_saml.untag_provider(iam, arn, changes.unset_tags)
    if changes.set_tags:
        iam_saml.tag_provider(iam, arn, ansible_dict_to_boto3_tag_list(changes.set_tags))


def run(module: AnsibleAWSModule) -> dict:
    params = module.params
    name = params["name"]
    document = canonical = None
    findings = None
    if params["state"] == "present":
        document, canonical, findings = read_metadata(module)
    iam = module.client("iam", retry_decorator=iam_saml.IAM_RETRY)
    found = iam_saml.find_provider(iam, name)
    before = describe(name, found)
    if params["state"] == "absent":
        planned = plan(SPEC, before, None, state="absent")
        if planned.changed and not module.check_mode:
            iam_saml.delete_provider(iam, before["arn"])
        return report(module, SPEC, planned).as_dict()
    planned, changes = plan_present(module, before, canonical)
    written = None
    if planned.changed and not module.check_mode:
        arn = create(module, iam, document, changes) if before is None else before["arn"]
        if before is not None:
            update(module, iam, planned, document, changes)
        written = describe(name, iam_saml.get_provider(iam, arn))
    result = report(module, SPEC, planned, written).as_dict()
    result["findings"] = findings
    if result["after"].get("arn"):
        result["arn"] = result["after"]["arn"]
    return result


def main() -> None:
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        metadata_path=dict(type="path"),
        metadata_content=dict(type="str"),
        assertion_encryption_mode=dict(type="str", choices=["Required", "Allowed"]),
        private_key=dict(type="str", no_log=True),
        update_private_key=dict(type="str", choices=["on_create", "always"], default="on_create", no_log=False),
        remove_private_keys=dict(type="list", elements="str", default=[], no_log=False),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        mutually_exclusive=[("metadata_path", "metadata_content")],
        required_if=[("state", "present", ("metadata_path", "metadata_content"), True)],
        supports_check_mode=True,
    )
    problem = iam_saml.check_provider_name(module.params["name"])
    if problem:
        module.fail_json(msg=problem)
    _deps.require(module, "cryptography", "lxml")  # the metadata IAM holds is read on every run
    try:
        module.exit_json(**run(module))
    except AnsibleIAMError as err:
        module.fail_json_aws_error(err)


if __name__ == "__main__":
    main()
