#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: saml_certificate_info
short_description: Fetch and check a SAML signing certificate
version_added: 0.1.0
description:
  - Reads one X.509 certificate, in PEM, DER or as a bare base64 body (the content of a ds:X509Certificate
    element), from a URL (for example ZITADEL's C(/saml/v2/certificate)), a file or a string.
  - Applies the certificate rules of M(idfed.aws_sso.saml_metadata_info) (expiry, key size, signature algorithm)
    with the same finding codes, and can check that the certificate is the one published in metadata.
author:
  - idfed.aws_sso maintainers (@idfed)
extends_documentation_fragment:
  - idfed.aws_sso._source
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
requirements:
  - python >= 3.10
  - cryptography >= 42.0.0
  - lxml >= 5.0.0
  - requests >= 2.31.0
options:
  expiry_warning_days:
    description:
      - A certificate expiring within this many days gets a C(certificate_expiring) warning.
    type: int
    default: 30
  strict:
    description:
      - Fail when any finding of severity C(error) is found, listing every error. With V(false) the module
        succeeds and returns RV(valid=false).
    type: bool
    default: true
  compare_to:
    description:
      - What the certificate should match. A metadata document (XML string; every certificate in its
        KeyDescriptors counts), or a list whose items are each a metadata document, a PEM certificate, a base64
        certificate body or a SHA-256 fingerprint.
      - Sets RV(matches_metadata). A mismatch is reported there, not as a finding.
    type: raw
notes:
  - "Finding codes: C(certificate_malformed), C(too_large), C(certificate_expired), C(certificate_not_yet_valid),
    C(certificate_expiring) (warning), C(weak_key), C(weak_certificate_signature) (warning); see
    M(idfed.aws_sso.saml_metadata_info) for their meaning."
seealso:
  - module: idfed.aws_sso.saml_metadata_info
"""

EXAMPLES = r"""
- name: Check the signing certificate ZITADEL publishes for SAML
  idfed.aws_sso.saml_certificate_info:
    url: https://example-abc123.zitadel.cloud/saml/v2/certificate
  register: zitadel_cert

- name: Check that the IdP metadata carries the same certificate
  idfed.aws_sso.saml_certificate_info:
    content: "{{ zitadel_cert.certificate.pem }}"
    compare_to: "{{ lookup('ansible.builtin.file', 'artifacts/idp-metadata.xml') }}"
  register: same_cert

- name: Compare against pinned fingerprints, and only report problems
  idfed.aws_sso.saml_certificate_info:
    path: /etc/pki/idp-signing.pem
    compare_to:
      - "4A:6F:0C:...:9B"
    strict: false
  register: pinned
"""

RETURN = r"""
certificate:
  description: The certificate facts (empty when it cannot be read).
  returned: always
  type: dict
  contains:
    use:
      description: Always C(signing) here.
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
      description: Whole days until RV(certificate.not_after) (negative when expired).
      type: int
    key_type:
      description: C(RSA), C(EC), C(Ed25519), C(Ed448) or C(DSA).
      type: str
    key_size:
      description: Key size in bits.
      type: int
    signature_algorithm:
      description: Algorithm of the certificate's own signature.
      type: str
    fingerprint_sha256:
      description: SHA-256 fingerprint, upper-case hex pairs separated by colons.
      type: str
    pem:
      description: The certificate in PEM form.
      type: str
valid:
  description: True when no finding has severity C(error).
  returned: always
  type: bool
findings:
  description: Each problem with its stable C(code), C(severity) and C(message).
  returned: always
  type: list
  elements: dict
matches_metadata:
  description: Whether the certificate is one of those named by O(compare_to).
  returned: when O(compare_to) is set and the certificate is readable
  type: bool
source:
  description: Where the certificate came from (URL with credentials masked, path, or C(content)).
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idfed.aws_sso.plugins.module_utils import _deps
from ansible_collections.idfed.aws_sso.plugins.module_utils._saml.certificate import analyze_certificate
from ansible_collections.idfed.aws_sso.plugins.module_utils._saml.findings import SamlError, finding
from ansible_collections.idfed.aws_sso.plugins.module_utils._source import SOURCE_ARGUMENT_SPEC, SOURCE_OPTIONS, SourceModule, read_source
from ansible_collections.idfed.aws_sso.plugins.module_utils._strict import fail_on_errors

# lxml reads a metadata document given to compare_to; requests is imported only for a url.
LIBRARIES = ("cryptography", "lxml", "requests")


def read_compare_to(module: AnsibleModule, compare_to) -> set[str] | None:
    if compare_to is None:
        return None
    if not isinstance(compare_to, (str, list)):
        module.fail_json(msg="compare_to must be a metadata XML string or a list of certificates/fingerprints.")
    # Imported here: only compare_to may hold a metadata document, the one thing this module needs lxml for.
    _deps.require(module, "lxml")
    from ansible_collections.idfed.aws_sso.plugins.module_utils._saml.references import reference_fingerprints  # pylint: disable=import-outside-toplevel
    try:
        return reference_fingerprints(compare_to, "compare_to")
    except SamlError as exc:
        module.fail_json(msg=exc.finding.message)


def main() -> None:
    module = SourceModule(
        argument_spec=dict(
            expiry_warning_days=dict(type="int", default=30),
            strict=dict(type="bool", default=True),
            compare_to=dict(type="raw"),
            **SOURCE_ARGUMENT_SPEC,
        ),
        mutually_exclusive=[SOURCE_OPTIONS],
        required_one_of=[SOURCE_OPTIONS],
        supports_check_mode=True,
    )
    _deps.require(module, "cryptography")
    params = module.params
    compare_fingerprints = read_compare_to(module, params["compare_to"])
    data, origin = read_source(module)
    if len(data) > params["max_size"]:
        report_facts = dict(certificate={}, valid=False, findings=[finding(
            "too_large", "The certificate source is over max_size ({0} bytes).".format(params["max_size"])).to_dict()])
    else:
        report = analyze_certificate(data, expiry_warning_days=params["expiry_warning_days"],
                                     compare_to=compare_fingerprints)
        report_facts = report.to_facts()
    result = dict(changed=False, source=origin, **report_facts)
    fail_on_errors(module, result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
