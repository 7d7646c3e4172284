#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: saml_metadata_info
short_description: Fetch and validate SAML 2.0 metadata, and write the upload-ready IdP metadata
version_added: 0.1.0
description:
  - Reads SAML 2.0 metadata of an identity provider (IdP) or a service provider (SP) from a URL, a file or a string,
    and checks it against the rules of the chosen O(target) (AWS IAM Identity Center, classic IAM, or generic SAML).
  - Returns the facts (entity ID, certificates, endpoints, signature, Identity Center Region and ACS URLs) and a
    list of findings with stable codes that playbooks can script against.
  - With O(dest), writes the minimised IdP metadata that the Identity Center console accepts (one
    EntityDescriptor, IdP role only, signing certificates only, under 75,000 characters).
  - Hostile XML (DTDs, entity declarations, external references) is refused before parsing, without touching
    the network or the file system.
author:
  - idfed.aws_sso maintainers (@idfed)
extends_documentation_fragment:
  - idfed.aws_sso._source
  - ansible.builtin.files
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.files
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Shows the change to the O(dest) file.
  safe_file_operations:
    support: full
    description: The upload document is written to a temporary file in the same directory, then renamed over O(dest).
  platform:
    platforms: posix
requirements:
  - python >= 3.10
  - cryptography >= 42.0.0
  - lxml >= 5.0.0
  - requests >= 2.31.0
  - signxml >= 4.0.0
options:
  role:
    description:
      - Which role of the entity to validate. V(idp) checks the IDPSSODescriptor (signing certificates, single
        sign-on services), V(sp) the SPSSODescriptor (assertion consumer services).
    type: str
    choices: [idp, sp]
    default: idp
  target:
    description:
      - Which rules apply on top of SAML 2.0.
      - V(identity_center) for AWS IAM Identity Center (emailAddress NameID, 75,000-character IdP metadata,
        no encryption keys; for an SP, an Identity Center issuer and ACS URLs).
      - V(iam) for a classic IAM SAML provider (1,000 to 10,000,000 characters).
      - V(generic) for any SAML 2.0 peer.
    type: str
    choices: [identity_center, iam, generic]
    default: identity_center
  entity_id:
    description:
      - The entityID to pick from an EntitiesDescriptor aggregate. Without it, the one entity with the wanted
        O(role) is used, and several candidates are an C(ambiguous_entity) error.
    type: str
  require_signature:
    description:
      - Fail with C(signature_missing) when the metadata is not signed. Implied trust still needs
        O(trusted_certificates); without them the signature is only checked for integrity with the certificate
        it carries.
    type: bool
    default: false
  trusted_certificates:
    description:
      - Certificates (PEM, or the base64 body) or SHA-256 fingerprints (C(AB:CD:...), any case, colons optional)
        of which one must have signed the metadata. A signature by anyone else is C(signature_invalid).
    type: list
    elements: str
    default: []
  expiry_warning_days:
    description:
      - A certificate expiring within this many days gets a C(certificate_expiring) warning.
    type: int
    default: 30
  strict:
    description:
      - Fail when any finding of severity C(error) is found, listing every error in the message (the facts are
        returned too). With V(false), the module succeeds and returns RV(valid=false) instead.
      - Source problems (unreachable URL, TLS failure, unreadable file) always fail.
    type: bool
    default: true
  dest:
    description:
      - Write the upload-ready IdP metadata for the Identity Center console to this file. Only with O(role=idp).
      - Written atomically, and only when the metadata is valid; the module reports C(changed) only when the bytes
        differ from the file already there.
      - The document is built from the validated facts, not copied; it holds the entity ID, one
        IDPSSODescriptor with the signing certificates (expired ones are left out when a current one remains),
        the single logout and single sign-on services with the HTTP-POST and HTTP-Redirect bindings, and the
        NameID formats. No encryption keys, WS-Federation roles, extensions or signature.
    type: path
notes:
  - "Finding codes (severity error unless marked warning):
    C(xml_malformed) not well-formed XML;
    C(xml_forbidden_construct) a DTD, entity declaration or external reference;
    C(too_large) over O(max_size);
    C(not_metadata) the root is not md:EntityDescriptor or md:EntitiesDescriptor;
    C(entity_not_found) no entity with O(entity_id);
    C(ambiguous_entity) several entities qualify, set O(entity_id);
    C(no_idp_role) / C(no_sp_role) the entity lacks the role asked for;
    C(no_signing_certificate) no readable signing certificate;
    C(certificate_malformed) a certificate cannot be decoded (for example a PEM file base64-encoded twice);
    C(certificate_expired); C(certificate_not_yet_valid);
    C(certificate_expiring) (warning) within O(expiry_warning_days);
    C(certificate_expired_dropped) (warning) an expired certificate left out of O(dest) because a current one remains;
    C(weak_key) RSA under 2048 bits or EC under 256 bits;
    C(weak_certificate_signature) (warning) a certificate signed with MD5 or SHA-1;
    C(signature_missing) O(require_signature) and no signature;
    C(signature_invalid) the signature does not verify, is relocated or wrapped, or its signer is not in
    O(trusted_certificates);
    C(signature_unverifiable) (warning) signed, but no certificate to check the signature with;
    C(weak_signature_algorithm) signed with SHA-1 (a warning unless the signature is relied on through
    O(require_signature) or O(trusted_certificates));
    C(metadata_expired) a validUntil on the role, its entity or an enclosing EntitiesDescriptor is in the past;
    C(no_sso_service) no SingleSignOnService with the HTTP-POST or HTTP-Redirect binding;
    C(sso_not_https) a single sign-on location is not https (a warning for O(target=generic));
    C(exceeds_identity_center_limit) the upload document is over 75,000 characters;
    C(exceeds_iam_limit) outside the 1,000 to 10,000,000 characters IAM accepts;
    C(encryption_key_present) (warning) an IdP encryption key, dropped from O(dest);
    C(name_id_email_missing) the emailAddress NameID format is missing (an error for an Identity Center SP,
    a warning for an IdP);
    C(acs_not_https) an assertion consumer service is not https;
    C(no_acs_service) an SP without assertion consumer service;
    C(identity_center_issuer_unrecognized) the SP entityID is not an Identity Center issuer."
  - Findings about encryption certificates are warnings, since they never reach Identity Center.
  - The check for a signature placed anywhere but directly under the signed root (or the selected
    EntityDescriptor) is deliberate; such signatures are the mark of XML signature wrapping.
seealso:
  - module: idfed.aws_sso.saml_certificate_info
  - name: Identity Center, how to use an external identity provider
    description: AWS documentation of the SAML metadata that Identity Center exchanges.
    link: https://docs.aws.amazon.com/singlesignon/latest/userguide/manage-your-identity-source-idp.html
"""

EXAMPLES = r"""
- name: Validate the IdP metadata and write the file to upload in the Identity Center console
  idfed.aws_sso.saml_metadata_info:
    url: https://idp.example.com/saml/metadata
    role: idp
    target: identity_center
    dest: "{{ playbook_dir }}/artifacts/idp-metadata.xml"
  register: idp

- name: Show what the IdP publishes
  ansible.builtin.debug:
    msg: "{{ idp.entity_id }} signs with {{ idp.certificates | map(attribute='fingerprint_sha256') | list }}"

- name: Read the SP metadata downloaded from the Identity Center console
  idfed.aws_sso.saml_metadata_info:
    path: files/aws-sso-sp-metadata.xml
    role: sp
  register: aws_sp

- name: Register every ACS URL (IPv4, dual-stack, legacy, each Region) with the IdP application
  ansible.builtin.debug:
    msg: "{{ aws_sp.acs_urls | map(attribute='location') | list }} for {{ aws_sp.identity_store_id }}"

- name: Pick one IdP from a federation aggregate and require a signature by the federation's key
  idfed.aws_sso.saml_metadata_info:
    url: https://mds.example.org/federation-metadata.xml
    entity_id: https://idp.university.example/idp/shibboleth
    require_signature: true
    trusted_certificates:
      - "4A:6F:...:9B"
    max_size: 104857600

- name: Report problems without failing, then decide in the playbook
  idfed.aws_sso.saml_metadata_info:
    url: https://idp.example.com/saml/metadata
    strict: false
  register: check

- name: Stop if a certificate expires soon
  ansible.builtin.assert:
    that: "'certificate_expiring' not in (check.findings | map(attribute='code'))"
"""

RETURN = r"""
entity_id:
  description: The entityID of the selected entity.
  returned: when an entity was selected
  type: str
  sample: https://idp.example.com/saml/metadata
valid:
  description: True when no finding has severity C(error).
  returned: always
  type: bool
  sample: true
findings:
  description: Every problem found, each with a stable code (listed in the notes), a severity and a message.
  returned: always
  type: list
  elements: dict
  contains:
    code:
      description: Stable identifier of the rule.
      type: str
      sample: certificate_expiring
    severity:
      description: C(error) or C(warning).
      type: str
      sample: warning
    message:
      description: What is wrong and how to fix it.
      type: str
entities:
  description: The entityIDs in the document (one for an EntityDescriptor).
  returned: unless the document could not be parsed
  type: list
  elements: str
certificates:
  description: The certificates of the selected role, in document order, without duplicates.
  returned: always
  type: list
  elements: dict
  contains:
    use:
      description: C(signing), C(encryption) or C(unspecified) (usable for both), from the KeyDescriptor.
      type: str
    subject:
      description: Subject DN (RFC 4514).
      type: str
    issuer:
      description: Issuer DN (RFC 4514).
      type: str
    serial:
      description: Serial number in hexadecimal.
      type: str
    not_before:
      description: Start of validity, ISO 8601 UTC.
      type: str
    not_after:
      description: End of validity, ISO 8601 UTC.
      type: str
    days_left:
      description: Whole days until RV(certificates[].not_after) (negative when expired).
      type: int
    key_type:
      description: C(RSA), C(EC), C(Ed25519), C(Ed448) or C(DSA).
      type: str
    key_size:
      description: Key size in bits.
      type: int
    signature_algorithm:
      description: Algorithm of the certificate's own signature, for example C(sha256WithRSAEncryption).
      type: str
    fingerprint_sha256:
      description: SHA-256 fingerprint of the DER certificate, upper-case hex pairs separated by colons.
      type: str
    pem:
      description: The certificate in PEM form.
      type: str
sso_services:
  description: SingleSignOnService endpoints of an IdP (C(binding), C(location)).
  returned: always
  type: list
  elements: dict
slo_services:
  description: SingleLogoutService endpoints (C(binding), C(location), C(response_location) when set).
  returned: always
  type: list
  elements: dict
acs_services:
  description: AssertionConsumerService endpoints of an SP (C(binding), C(location), C(index), C(is_default)).
  returned: always
  type: list
  elements: dict
name_id_formats:
  description: NameIDFormat values of the selected role.
  returned: always
  type: list
  elements: str
signature:
  description: The metadata signature that covers the selected entity.
  returned: always
  type: dict
  contains:
    present:
      description: A signature was found.
      type: bool
    valid:
      description: The signature verifies (with a trusted certificate when O(trusted_certificates) is set).
      type: bool
    trusted:
      description: The signer is one of O(trusted_certificates).
      type: bool
    algorithm:
      description: Signature method, for example C(rsa-sha256).
      type: str
    digest_algorithm:
      description: Digest method, for example C(sha256).
      type: str
    signer_fingerprint_sha256:
      description: SHA-256 fingerprint of the certificate that verified the signature.
      type: str
    signed_element:
      description: C(EntityDescriptor) or C(EntitiesDescriptor).
      type: str
valid_until:
  description:
    - The earliest validUntil on the way from the document root to the checked role (each EntitiesDescriptor,
      the EntityDescriptor and the IDPSSODescriptor or SPSSODescriptor), ISO 8601 UTC.
  returned: always
  type: str
size:
  description: Size of the document in bytes.
  returned: always
  type: int
upload_size:
  description: Characters in the upload-ready IdP metadata (what O(dest) holds or would hold).
  returned: when O(role=idp) and the entity has an IdP role
  type: int
region:
  description: AWS Region of an Identity Center SP, from its entityID.
  returned: when O(role=sp) (null unless O(target=identity_center) and the issuer is recognised)
  type: str
  sample: eu-west-1
identity_store_id:
  description: Identity store ID of an Identity Center SP, from its entityID.
  returned: when O(role=sp) (null unless O(target=identity_center) and the issuer is recognised)
  type: str
  sample: d-93670c4a5b
acs_urls:
  description:
    - Every Identity Center ACS URL of the SP with its Region and form (C(ipv4), C(dual_stack), C(legacy)).
    - A multi-Region instance lists one set per Region; the IdP application must accept all of them.
  returned: when O(role=sp)
  type: list
  elements: dict
  sample:
    - location: https://eu-west-1.signin.aws/platform/saml/acs/4455422d-2b3c-4d5e-8f90-a1b2c3d4e5f6
      region: eu-west-1
      form: ipv4
      tenant: 4455422d-2b3c-4d5e-8f90-a1b2c3d4e5f6
source:
  description: Where the document came from (URL with credentials masked, path, or C(content)).
  returned: always
  type: str
dest:
  description: The file written (or that would be written in check mode).
  returned: when O(dest) is set
  type: str
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.idfed.aws_sso.plugins.module_utils import _deps
from ansible_collections.idfed.aws_sso.plugins.module_utils._saml.metadata import analyze_metadata
from ansible_collections.idfed.aws_sso.plugins.module_utils._source import SOURCE_ARGUMENT_SPEC, SOURCE_OPTIONS, SourceModule, read_source
from ansible_collections.idfed.aws_sso.plugins.module_utils._strict import fail_on_errors

# requests is imported only for a url, signxml only for a signature outside the fast verifier's profile.
LIBRARIES = ("cryptography", "lxml", "requests", "signxml")


def read_existing(dest: str) -> bytes | None:
    try:
        with open(dest, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def write_atomically(module: AnsibleModule, dest: str, data: bytes) -> None:
    directory = os.path.dirname(os.path.abspath(dest))
    if not os.path.isdir(directory):
        module.fail_json(msg="The directory of dest does not exist: {0}. Create it first (ansible.builtin.file "
                             "state=directory).".format(directory))
    handle, temporary = tempfile.mkstemp(prefix=".idp-metadata-", dir=directory)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        module.atomic_move(temporary, dest)
    except OSError as exc:
        module.fail_json(msg="Cannot write {0}: {1}.".format(dest, to_native(exc)))
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def write_dest(module: AnsibleModule, upload: bytes, result: dict) -> None:
    dest = module.params["dest"]
    result["dest"] = dest
    existing = read_existing(dest)
    if existing != upload:
        result["changed"] = True
        if module._diff:
            result["diff"] = {
                "before_header": dest, "after_header": dest,
                "before": (existing or b"").decode("utf-8", "replace"), "after": upload.decode("utf-8"),
            }
        if not module.check_mode:
            write_atomically(module, dest, upload)
    file_args = module.load_file_common_arguments(module.params, path=dest)
    if os.path.exists(dest):
        result["changed"] = module.set_fs_attributes_if_different(file_args, result["changed"])


def main() -> None:
    argument_spec = dict(
        role=dict(type="str", choices=["idp", "sp"], default="idp"),
        target=dict(type="str", choices=["identity_center", "iam", "generic"], default="identity_center"),
        entity_id=dict(type="str"),
        require_signature=dict(type="bool", default=False),
        trusted_certificates=dict(type="list", elements="str", default=[]),
        expiry_warning_days=dict(type="int", default=30),
        strict=dict(type="bool", default=True),
        dest=dict(type="path"),
        **SOURCE_ARGUMENT_SPEC,
    )
    module = SourceModule(
        argument_spec=argument_spec,
        mutually_exclusive=[SOURCE_OPTIONS],
        required_one_of=[SOURCE_OPTIONS],
        add_file_common_args=True,
        supports_check_mode=True,
    )
    _deps.require(module, "cryptography", "lxml")
    params = module.params
    if params["dest"] and params["role"] != "idp":
        module.fail_json(msg="dest writes IdP metadata for upload: use it with role: idp.")

    data, origin = read_source(module)
    try:
        report = analyze(module, data)
    except _deps.MissingLibrary as exc:
        module.fail_json(msg=str(exc), exception=exc.traceback)
    result = dict(changed=False, source=origin, **report.to_facts())
    fail_on_errors(module, result)
    if params["dest"]:
        if not report.valid:
            result["dest"] = params["dest"]
            module.warn("dest was not written: the metadata has errors (see findings).")
        elif report.upload_document() is not None:
            write_dest(module, report.upload_document(), result)
    module.exit_json(**result)


def analyze(module: AnsibleModule, data: bytes):
    params = module.params
    return analyze_metadata(
        data,
        role=params["role"],
        target=params["target"],
        entity_id=params["entity_id"],
        require_signature=params["require_signature"],
        trusted_certificates=params["trusted_certificates"],
        expiry_warning_days=params["expiry_warning_days"],
        max_size=params["max_size"],
    )


if __name__ == "__main__":
    main()
