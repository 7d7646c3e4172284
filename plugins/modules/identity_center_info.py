#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: identity_center_info
short_description: Describe the IAM Identity Center instance, and check that SP metadata belongs to it
version_added: 0.2.0
description:
  - Returns the IAM Identity Center instance (ARN, identity store id, owner account, status, name, creation date),
    every Region it is enabled in (a multi-Region instance has a primary Region and added Regions, each with its
    status), the issuer URL that its SAML service-provider (SP) metadata carries, and the AWS access portal URL.
  - Given the SP metadata downloaded from the Identity Center console (O(sp_metadata_path) or
    O(sp_metadata_content)), says whether it belongs to this instance; see RV(sp_metadata). An identity provider
    application configured from another instance's metadata, or from metadata that lacks an ACTIVE Region's ACS
    URL, breaks sign-in (everywhere, or in that Region).
  - Reads only; never changes anything.
author:
  - idfed.aws_sso maintainers (@idfed)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - idfed.aws_sso._identity_center
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module reads only, in check mode as otherwise.
  diff_mode:
    support: none
    details: The module changes nothing, so there is no diff.
  platform:
    platforms: posix
requirements:
  - python >= 3.10
  - boto3 >= 1.34.0
  - botocore >= 1.34.0
  - cryptography >= 42.0.0
  - lxml >= 5.0.0
options:
  sp_metadata_path:
    description:
      - Path of the SP metadata file downloaded from the Identity Center console (Settings, Identity source,
        Change identity source, External identity provider, Download metadata file), on the host the module runs on.
      - Read with the same hardened parser as M(idfed.aws_sso.saml_metadata_info), at most 5 MiB.
      - Needs the Python libraries C(cryptography) and C(lxml); without this option and O(sp_metadata_content) they
        are not used.
    type: path
  sp_metadata_content:
    description:
      - The SP metadata document itself, as a string. Mutually exclusive with O(sp_metadata_path).
    type: str
  fail_on_mismatch:
    description:
      - Fail when the SP metadata does not belong to this instance (RV(sp_metadata.belongs) is false), with every
        reason in the message; the facts are returned with the failure.
      - With V(false), the default, the module succeeds and reports; a playbook then decides, for example with
        ansible.builtin.assert on RV(sp_metadata.belongs). A file that cannot be read always fails.
    type: bool
    default: false
notes:
  - "Codes of the findings this module adds to RV(sp_metadata.findings), on top of those of
    M(idfed.aws_sso.saml_metadata_info) (O(idfed.aws_sso.saml_metadata_info#module:role=sp)):
    C(sp_issuer_mismatch) (error) the issuer names another identity store: the metadata comes from another instance;
    C(sp_acs_region_missing) (error) no ACS URL for an ACTIVE Region of the instance;
    C(sp_issuer_region_mismatch) (warning) the issuer names a Region other than the instance's primary Region;
    C(sp_acs_region_adding) (warning) no ACS URL for a Region still being added (download the metadata again
    once it is ACTIVE);
    C(sp_acs_region_unknown) (warning) an ACS URL for a Region the instance is not enabled in (a Region removed
    since the download)."
  - The AWS access portal URL can be customised once in the console (C(https://<subdomain>.awsapps.com/start)); no API
    returns that subdomain, so RV(access_portal_url) is the default URL of the identity store.
  - Regions come from the C(ListRegions) operation. With a botocore release that lacks it, only the Region the module
    runs in is reported (as primary), with a warning.
seealso:
  - module: idfed.aws_sso.saml_metadata_info
  - name: IAM Identity Center, multi-Region instances
    description: Adding Regions to an instance, and what each Region needs from the identity provider.
    link: https://docs.aws.amazon.com/singlesignon/latest/userguide/multi-region-iam-identity-center.html
  - name: Signing in to the AWS access portal
    description: The forms of the access portal URL.
    link: https://docs.aws.amazon.com/signin/latest/userguide/iam-id-center-sign-in-tutorial.html
"""

EXAMPLES = r"""
- name: Find the instance, its Regions and the URLs to give the IdP and the users
  idfed.aws_sso.identity_center_info:
    region: eu-west-1
  register: identity_center

- name: Show them
  ansible.builtin.debug:
    msg: >-
      {{ identity_center.instance.identity_store_id }} in {{ identity_center.regions | map(attribute='region_name') | join(', ') }};
      issuer {{ identity_center.issuer_url }}; portal {{ identity_center.access_portal_url }}

- name: Check that the SP metadata the admin downloaded is this instance's, with every Region
  idfed.aws_sso.identity_center_info:
    region: eu-west-1
    sp_metadata_path: "{{ playbook_dir }}/files/aws-sso-sp-metadata.xml"
  register: identity_center

- name: Stop with the reasons when it is not
  ansible.builtin.assert:
    that: identity_center.sp_metadata.belongs
    fail_msg: "{{ identity_center.sp_metadata.findings | selectattr('severity', 'eq', 'error') | map(attribute='message') | list }}"

- name: Or let the module fail on a mismatch
  idfed.aws_sso.identity_center_info:
    instance_arn: arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6
    region: eu-west-1
    sp_metadata_content: "{{ lookup('ansible.builtin.file', 'aws-sso-sp-metadata.xml') }}"
    fail_on_mismatch: true
"""

RETURN = r"""
instance:
  description: The Identity Center instance.
  returned: always
  type: dict
  contains:
    instance_arn:
      description: The instance ARN.
      type: str
      sample: arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6
    identity_store_id:
      description: The identity store id.
      type: str
      sample: d-93670c4a5b
    identity_store_arn:
      description: The identity store ARN, when the API returns it.
      type: str
      sample: arn:aws:identitystore::123456789012:identitystore/d-93670c4a5b
    owner_account_id:
      description: The account that owns the instance.
      type: str
      sample: "123456789012"
    status:
      description: C(CREATE_IN_PROGRESS), C(CREATE_FAILED), C(DELETE_IN_PROGRESS) or C(ACTIVE).
      type: str
      sample: ACTIVE
    status_reason:
      description: Why the instance is in its status, when the API says.
      type: str
    name:
      description: The instance's name, when it has one.
      type: str
      sample: corp
    created_date:
      description: When the instance was created, ISO 8601.
      type: str
      sample: "2026-01-12T09:30:00+00:00"
primary_region:
  description: The Region the instance was enabled in first; the issuer URL and the Identity Center APIs use it.
  returned: always
  type: str
  sample: eu-west-1
regions:
  description: Every Region the instance is enabled in, the primary Region first.
  returned: always
  type: list
  elements: dict
  contains:
    region_name:
      description: The Region.
      type: str
      sample: eu-central-1
    status:
      description: C(ACTIVE), C(ADDING) or C(REMOVING).
      type: str
      sample: ACTIVE
    is_primary_region:
      description: Whether this is the primary Region.
      type: bool
      sample: false
    added_date:
      description: When the Region was added (the instance's creation for the primary Region), ISO 8601.
      type: str
      sample: "2026-03-02T14:00:00+00:00"
issuer_url:
  description: The issuer (entityID) of the instance's SP metadata, C(https://<primary region>.signin.aws.amazon.com/platform/saml/<identity store id>).
  returned: always
  type: str
  sample: https://eu-west-1.signin.aws.amazon.com/platform/saml/d-93670c4a5b
access_portal_url:
  description:
    - The default AWS access portal URL, C(https://<identity store id>.awsapps.com/start)
      (C(https://start.us-gov-home.awsapps.com/directory/<identity store id>) in AWS GovCloud (US)).
    - Null in another partition, whose form is not documented.
  returned: always
  type: str
  sample: https://d-93670c4a5b.awsapps.com/start
sp_metadata:
  description: Whether the SP metadata given belongs to this instance.
  returned: when O(sp_metadata_path) or O(sp_metadata_content) is set
  type: dict
  contains:
    belongs:
      description: The issuer names this instance's identity store and there is an ACS URL for every ACTIVE Region.
      type: bool
      sample: false
    issuer_matches:
      description: The issuer ends in this instance's identity store id.
      type: bool
      sample: true
    issuer:
      description: The metadata's entityID.
      type: str
      sample: https://eu-west-1.signin.aws.amazon.com/platform/saml/d-93670c4a5b
    acs_urls:
      description: The Identity Center ACS URLs in the metadata, as RV(idfed.aws_sso.saml_metadata_info#module:acs_urls).
      type: list
      elements: dict
    acs_regions:
      description: The Regions the metadata has ACS URLs for.
      type: list
      elements: str
      sample: [eu-west-1]
    missing_acs_regions:
      description: The ACTIVE Regions of the instance the metadata has no ACS URL for.
      type: list
      elements: str
      sample: [eu-central-1]
    valid:
      description: The metadata passes the SAML rules for an Identity Center SP (no finding of severity C(error) from
        M(idfed.aws_sso.saml_metadata_info)'s rules).
      type: bool
    findings:
      description: Every problem found (code, severity, message), those of the SAML rules and those listed in the notes.
      type: list
      elements: dict
      sample:
        - code: sp_acs_region_missing
          severity: error
          message: The SP metadata has no ACS URL for the ACTIVE Region eu-central-1 ...
    source:
      description: The path read, or C(content).
      type: str
"""

from datetime import datetime

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.idfed.aws_sso.plugins.module_utils import _deps
from ansible_collections.idfed.aws_sso.plugins.module_utils._aws.identity_center import (
    INSTANCE_ARGUMENT_SPEC, IdentityCenterError, IdentityCenterErrorHandler, clients, find_instance, list_all)
from ansible_collections.idfed.aws_sso.plugins.module_utils._saml.constants import DEFAULT_MAX_SIZE

LIBRARIES = ("boto3", "botocore", "cryptography", "lxml")

INSTANCE_KEYS = ("InstanceArn", "IdentityStoreId", "IdentityStoreArn", "OwnerAccountId", "Status", "StatusReason",
                 "Name", "CreatedDate")
ERROR = "error"
WARNING = "warning"
BELONGING = ("sp_issuer_mismatch", "sp_acs_region_missing")  # the error codes that make belongs false
# Findings of the SAML layer after which there is no SP role to compare with the instance.
UNREADABLE = frozenset({"xml_malformed", "xml_forbidden_construct", "too_large", "not_metadata", "entity_not_found",
                        "ambiguous_entity", "no_sp_role"})


def iso(value):
    return value.isoformat() if isinstance(value, datetime) else value


@IdentityCenterErrorHandler.common_error_handler("list the Regions of the instance")
def list_regions(sso_admin, instance_arn: str) -> list[dict] | None:
    """ListRegions, primary Region first; None when botocore predates the operation."""
    if "ListRegions" not in sso_admin.meta.service_model.operation_names:
        return None
    regions = list_all(sso_admin.list_regions, "Regions", InstanceArn=instance_arn)
    return sorted(regions, key=lambda item: not item.get("IsPrimaryRegion"))


def region_facts(module: AnsibleAWSModule, sso_admin, instance_arn: str) -> list[dict]:
    regions = list_regions(sso_admin, instance_arn)
    if regions is None:
        module.warn("This botocore has no sso-admin ListRegions operation: only the Region the module runs in is "
                    "reported. Upgrade boto3 and botocore to see every Region of a multi-Region instance.")
        regions = [{"RegionName": module.region, "Status": "ACTIVE", "IsPrimaryRegion": True}]
    return [camel_dict_to_snake_dict({key: iso(value) for key, value in item.items()}) for item in regions]


def access_portal_url(instance_arn: str, store_id: str) -> str | None:
    """The default portal URL; the AWS sign-in user guide and the GovCloud (US) user guide give these forms."""
    partition = instance_arn.split(":")[1]
    if partition == "aws":
        return "https://{0}.awsapps.com/start".format(store_id)
    if partition == "aws-us-gov":
        return "https://start.us-gov-home.awsapps.com/directory/{0}".format(store_id)
    return None


def read_sp_metadata(module: AnsibleAWSModule) -> tuple[bytes, str]:
    path = module.params["sp_metadata_path"]
    if path is None:
        return module.params["sp_metadata_content"].encode("utf-8"), "content"
    try:
        with open(path, "rb") as handle:
            return handle.read(DEFAULT_MAX_SIZE + 1), path  # one byte over is enough for too_large
    except OSError as error:
        module.fail_json(msg="Cannot read sp_metadata_path {0}: {1}.".format(path, error.strerror or error))
        raise  # not reached: fail_json exits


def finding(code: str, severity: str, message: str) -> dict:
    return {"code": code, "severity": severity, "message": message}


def issuer_findings(facts: dict, store_id: str, primary: str, issuer_url: str) -> list[dict]:
    found_store = facts.get("identity_store_id")
    if found_store is None:  # not an Identity Center issuer: the SAML rules already said so
        return []
    if found_store != store_id:
        return [finding("sp_issuer_mismatch", ERROR,
                        "The SP metadata's issuer {0} belongs to the identity store {1}, not to this instance's {2}: it "
                        "was downloaded from another Identity Center instance. Download it from this instance's "
                        "console (issuer {3}).".format(facts["entity_id"], found_store, store_id, issuer_url))]
    if facts.get("region") != primary:
        return [finding("sp_issuer_region_mismatch", WARNING,
                        "The SP metadata's issuer names the Region {0}, but the instance's primary Region is {1}; "
                        "expected issuer {2}.".format(facts.get("region"), primary, issuer_url))]
    return []


def region_findings(acs_regions: set[str], regions: list[dict]) -> list[dict]:
    findings = []
    for region in regions:
        name, status = region["region_name"], region["status"]
        if name in acs_regions:
            continue
        if status == "ACTIVE":
            findings.append(finding("sp_acs_region_missing", ERROR,
                                    "The SP metadata has no ACS URL for the ACTIVE Region {0}: an IdP application "
                                    "configured from it breaks sign-in through that Region. Download the metadata again "
                                    "(it lists every Region) and update the IdP application.".format(name)))
        elif status == "ADDING":
            findings.append(finding("sp_acs_region_adding", WARNING,
                                    "The Region {0} is being added and the SP metadata has no ACS URL for it: download "
                                    "the metadata again once the Region is ACTIVE.".format(name)))
    enabled = {region["region_name"] for region in regions}
    for name in sorted(acs_regions - enabled):
        findings.append(finding("sp_acs_region_unknown", WARNING,
                                "The SP metadata has an ACS URL for {0}, a Region the instance is not enabled in (removed "
                                "since the download?); the IdP application may drop it.".format(name)))
    return findings


def instance_findings(facts: dict, store_id: str, regions: list[dict], issuer_url: str) -> list[dict]:
    """The metadata against the instance. Nothing for a document without an SP role, where comparing would only
    repeat the parser's finding; no Region findings for another instance's metadata, whose Regions are not ours."""
    if any(item["code"] in UNREADABLE for item in facts["findings"]):
        return []
    findings = issuer_findings(facts, store_id, regions[0]["region_name"], issuer_url)
    if any(item["code"] == "sp_issuer_mismatch" for item in findings):
        return findings
    return findings + region_findings({url["region"] for url in facts["acs_urls"]}, regions)


def check_sp_metadata(data: bytes, source: str, store_id: str, regions: list[dict], issuer_url: str) -> dict:
    # Imported on use: lxml and cryptography cost start-up time that a plain instance look-up does not need.
    from ansible_collections.idfed.aws_sso.plugins.module_utils._saml.metadata import analyze_metadata  # pylint: disable=import-outside-toplevel

    facts = analyze_metadata(data, role="sp", target="identity_center", max_size=DEFAULT_MAX_SIZE).to_facts()
    acs_regions = sorted({url["region"] for url in facts["acs_urls"]})
    issuer_matches = facts.get("identity_store_id") == store_id
    missing = [region["region_name"] for region in regions
               if region["status"] == "ACTIVE" and region["region_name"] not in acs_regions]
    return {
        "belongs": issuer_matches and not missing,
        "issuer_matches": issuer_matches,
        "issuer": facts.get("entity_id"),
        "acs_urls": facts["acs_urls"],
        "acs_regions": acs_regions,
        "missing_acs_regions": missing,
        "valid": facts["valid"],
        "findings": facts["findings"] + instance_findings(facts, store_id, regions, issuer_url),
        "source": source,
    }


def mismatch_message(sp_metadata: dict) -> str:
    errors = [item for item in sp_metadata["findings"] if item["severity"] == ERROR]
    reasons = [item["message"] for item in errors if item["code"] in BELONGING]
    if not sp_metadata["issuer_matches"] and not any(item["code"] == "sp_issuer_mismatch" for item in errors):
        reasons.insert(0, "No Identity Center issuer can be read from it ({0}).".format(
            " ".join(item["message"] for item in errors if item["code"] not in BELONGING)))
    return "The SP metadata does not belong to this Identity Center instance. " + " ".join(reasons)


def run(module: AnsibleAWSModule) -> dict:
    sso_admin, _identitystore = clients(module)
    instance = find_instance(sso_admin, module.params["instance_arn"])
    store_id, arn = instance["IdentityStoreId"], instance["InstanceArn"]
    if instance.get("Status", "ACTIVE") != "ACTIVE":
        module.warn("The instance {0} is {1}. {2}".format(arn, instance["Status"], instance.get("StatusReason", "")).strip())
    regions = region_facts(module, sso_admin, arn)
    primary = regions[0]["region_name"]
    issuer_url = "https://{0}.signin.aws.amazon.com/platform/saml/{1}".format(primary, store_id)
    result = {
        "changed": False,
        "instance": camel_dict_to_snake_dict({key: iso(instance[key]) for key in INSTANCE_KEYS if key in instance}),
        "primary_region": primary,
        "regions": regions,
        "issuer_url": issuer_url,
        "access_portal_url": access_portal_url(arn, store_id),
    }
    if module.params["sp_metadata_path"] is not None or module.params["sp_metadata_content"] is not None:
        _deps.require(module, "cryptography", "lxml")
        data, source = read_sp_metadata(module)
        result["sp_metadata"] = check_sp_metadata(data, source, store_id, regions, issuer_url)
        if module.params["fail_on_mismatch"] and not result["sp_metadata"]["belongs"]:
            module.fail_json(msg=mismatch_message(result["sp_metadata"]), **result)
    return result


def main() -> None:
    argument_spec = dict(
        sp_metadata_path=dict(type="path"),
        sp_metadata_content=dict(type="str"),
        fail_on_mismatch=dict(type="bool", default=False),
        **INSTANCE_ARGUMENT_SPEC,
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True,
                              mutually_exclusive=[("sp_metadata_path", "sp_metadata_content")])
    try:
        module.exit_json(**run(module))
    except IdentityCenterError as error:
        module.fail_json_aws_error(error)


if __name__ == "__main__":
    main()
