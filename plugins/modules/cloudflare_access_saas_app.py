#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_access_saas_app
short_description: Create, update or delete the Cloudflare Access SaaS application that signs users in to IAM Identity Center
version_added: 0.2.0
description:
  - Manages the SAML SaaS application of Cloudflare Zero Trust Access that acts as the identity provider of an IAM
    Identity Center instance, over the Cloudflare API (C(/accounts/{account_id}/access/apps)).
  - The application's SP entity id is the Identity Center issuer and its ACS URL the primary Region's ACS URL,
    both read from the Identity Center SP metadata (or given as O(sp_entity_id) and O(sp_acs_urls)); the NameID is
    the user's email address (format C(email)). Custom attributes (for example the
    C(https://aws.amazon.com/SAML/Attributes/AccessControl:<key>) session tags), the default relay state, the
    Access policies and the allowed identity providers are set from the options.
  - The application is found by its O(name) before anything is created, so a second run changes nothing and sends
    no write. A create whose answer was lost (a dropped connection, a server error) is followed by a new look-up by
    name, so the application is never created twice. Several applications with the same name (Cloudflare allows
    it) fail the task, naming their ids, rather than picking one.
  - An application that exists is replaced in place (C(PUT)); settings the module does not manage (logo, tags, App
    Launcher customisation, SCIM) are sent back as they are.
  - Returns what Identity Center needs next, in RV(idp) - the IdP entity id, SSO URL, metadata URL
    C(<sso_endpoint>/saml-metadata) and signing certificate.
author:
  - idfed.aws_sso maintainers (@idfed)
extends_documentation_fragment:
  - idfed.aws_sso._service_provider
  - idfed.aws_sso._service_provider.API
  - idfed.aws_sso._cloudflare
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff shows the application as the API has it before and after, policies as ids in precedence order.
  platform:
    platforms: posix
requirements:
  - python >= 3.10
  - requests >= 2.31.0
  - lxml >= 5.0.0
  - cryptography >= 42.0.0
options:
  name:
    description:
      - The application's name in Cloudflare Access; the key it is found by. It must be unique among the account's
        Access applications (Cloudflare does not enforce it; the module refuses to choose between duplicates).
    type: str
    required: true
  state:
    description:
      - V(present) creates the application or updates it in place; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  custom_attributes:
    description:
      - SAML attribute statements Cloudflare adds to the assertion, each from an attribute of the identity provider
        the user signed in with. For AWS, for example the session tags
        C(https://aws.amazon.com/SAML/Attributes/AccessControl:<key>) used by attribute-based access control.
      - Leave out to keep the application's attributes as they are; V([]) removes them all. Compared without
        regard to order.
    type: list
    elements: dict
    suboptions:
      name:
        description: The attribute's name in the assertion.
        type: str
        required: true
      source_name:
        description: The name of the identity provider's attribute (claim) the value comes from, for example C(email).
        type: str
        required: true
      name_format:
        description: The SAML NameFormat of the attribute.
        type: str
        choices:
          - urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified
          - urn:oasis:names:tc:SAML:2.0:attrname-format:basic
          - urn:oasis:names:tc:SAML:2.0:attrname-format:uri
      friendly_name:
        description: The SAML FriendlyName of the attribute.
        type: str
      required:
        description: Refuse the sign-in when the identity provider does not give the attribute.
        type: bool
  default_relay_state:
    description:
      - Where an IdP-initiated sign-in (the App Launcher tile) lands, for example the AWS access portal URL
        (C(https://d-xxxxxxxxxx.awsapps.com/start)). Leave out to keep it; an empty string removes it.
    type: str
  policies:
    description:
      - Who may sign in - the Access reusable policies linked to the application, by id or by name, in ascending
        order of precedence (the first is evaluated first). A name must match exactly one reusable policy of the
        account. Leave out to keep the application's policies.
      - An application without a policy lets no one in.
    type: list
    elements: str
  allowed_idps:
    description:
      - Ids of the identity providers (login methods) users may choose for this application. Leave out to keep
        them; V([]) allows every identity provider of the account. Compared without regard to order.
    type: list
    elements: str
  app_launcher_visible:
    description:
      - Show the application in the Access App Launcher. Leave out to keep the application's setting (Cloudflare's
        default is V(true)).
    type: bool
notes:
  - Cloudflare registers one ACS URL per SaaS application. The primary Region's ACS URL (the default one of the SP
    metadata) is registered; for a multi-Region Identity Center instance the module warns, naming the Regions whose
    ACS URLs are left out, and returns those URLs in RV(unregistered_acs_urls).
  - Cloudflare Access does not provision users to AWS (no SCIM to Identity Center); RV(provisioning) is
    V(manual). Create each user in Identity Center (for example with M(idfed.aws_sso.identity_store_user)) with a
    user name equal to their email address, the NameID Cloudflare sends.
  - A SaaS application has no session duration of its own in the Cloudflare API; set it on the Access policy.
  - The list call asks for an exact name match (C(name), C(exact=true)); the module compares names itself too, so
    an API that ignores those filters still finds the application, with one request per page of 50.
seealso:
  - module: idfed.aws_sso.saml_metadata_info
    description: Validate the IdP metadata served at RV(idp.metadata_url) before uploading it to Identity Center.
  - name: Connect to AWS through Access (Cloudflare documentation)
    description: The manual procedure this module automates.
    link: https://developers.cloudflare.com/cloudflare-one/applications/configure-apps/saas-apps/aws-sso-saas/
"""

EXAMPLES = r"""
- name: The Access SaaS application for Identity Center, from the SP metadata file
  idfed.aws_sso.cloudflare_access_saas_app:
    name: AWS IAM Identity Center
    sp_metadata_path: files/identity-center-sp-metadata.xml
    policies:
      - Employees
    default_relay_state: https://d-93670c4a5b.awsapps.com/start
    custom_attributes:
      - name: https://aws.amazon.com/SAML/Attributes/AccessControl:Department
        source_name: department
        name_format: urn:oasis:names:tc:SAML:2.0:attrname-format:uri
  register: cloudflare_app
  # api_token and account_id come from CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID

- name: Check the IdP metadata Identity Center will receive
  idfed.aws_sso.saml_metadata_info:
    url: "{{ cloudflare_app.idp.metadata_url }}"
    target: identity_center

- name: Without a metadata file
  idfed.aws_sso.cloudflare_access_saas_app:
    name: AWS IAM Identity Center
    api_token: "{{ vault_cloudflare_token }}"
    account_id: 023e105f4ecef8ad9ca31a8372d0c353
    sp_entity_id: https://eu-west-1.signin.aws.amazon.com/platform/saml/d-93670c4a5b
    sp_acs_urls:
      - https://eu-west-1.signin.aws/platform/saml/acs/65752d77-6573-742d-2b3c-4d5e8f90a1b2
    allowed_idps:
      - 699d98642c564d2e855e9661899b7252

- name: Delete the application
  idfed.aws_sso.cloudflare_access_saas_app:
    name: AWS IAM Identity Center
    state: absent
"""

RETURN = r"""
outcome:
  description: What the task did (or would do in check mode).
  returned: always
  type: str
  choices: [created, updated, deleted, unchanged]
  sample: unchanged
app_id:
  description: The Access application id; null when the application is absent (or in check mode, not yet created).
  returned: always
  type: str
  sample: f174e90a-fafe-4643-bbbc-4a0ed4fc8415
idp:
  description:
    - What Identity Center needs about the identity provider. Null for O(state=absent) and for a creation predicted
      in check mode.
  returned: always
  type: dict
  contains:
    entity_id:
      description: The IdP entity id (issuer), the application's C(saas_app.idp_entity_id).
      type: str
      sample: https://example.cloudflareaccess.com
    sso_url:
      description: The SAML SSO endpoint, C(saas_app.sso_endpoint).
      type: str
      sample: https://example.cloudflareaccess.com/cdn-cgi/access/sso/saml/b3f58a2b414e0b51d45c8c2af26fccca0e27c63763c426fa52f98dcf0b3b3bfd
    metadata_url:
      description: Where Cloudflare serves the IdP metadata, C(<sso_endpoint>/saml-metadata).
      type: str
    certificate_pem:
      description: The signing certificate (C(saas_app.public_key)) as PEM.
      type: str
    certificate_url:
      description: Always null; Cloudflare serves the certificate only inside the metadata.
      type: str
sp:
  description: The Identity Center SP the application was configured for (null for O(state=absent)).
  returned: always
  type: dict
  contains:
    entity_id:
      description: The Identity Center issuer.
      type: str
    acs_urls:
      description: Every ACS URL of the SP, the primary Region's first.
      type: list
      elements: str
    regions:
      description: The Region of each ACS URL, same order.
      type: list
      elements: str
    name_id_format:
      description: The NameID format Identity Center expects.
      type: str
unregistered_acs_urls:
  description: The SP's ACS URLs the application does not carry (Cloudflare takes one); empty for one ACS URL.
  returned: always
  type: list
  elements: str
provisioning:
  description: How users reach Identity Center - V(manual), since Cloudflare Access has no SCIM to AWS.
  returned: always
  type: str
  sample: manual
provisioning_note:
  description: What manual provisioning means here, for a playbook to show.
  returned: always
  type: str
  sample: >-
    Cloudflare Access does not provision users to AWS: create each user in IAM Identity Center with a user name
    equal to their email address (the NameID Cloudflare sends).
before:
  description: The application before the task as the API returned it (policies as ids), C({}) when absent.
  returned: always
  type: dict
after:
  description: The application after the task (predicted in check mode), C({}) when absent.
  returned: always
  type: dict
  sample:
    id: f174e90a-fafe-4643-bbbc-4a0ed4fc8415
    name: AWS IAM Identity Center
    type: saas
    policies: [f174e90a-fafe-4643-bbbc-4a0ed4fc8416]
    saas_app:
      auth_type: saml
      sp_entity_id: https://eu-west-1.signin.aws.amazon.com/platform/saml/d-93670c4a5b
      consumer_service_url: https://eu-west-1.signin.aws/platform/saml/acs/65752d77-6573-742d-2b3c-4d5e8f90a1b2
      name_id_format: email
      idp_entity_id: https://example.cloudflareaccess.com
"""

from ansible.module_utils.basic import AnsibleModule, env_fallback

from ansible_collections.idfed.aws_sso.plugins.module_utils._http.auth import bearer
from ansible_collections.idfed.aws_sso.plugins.module_utils._http.errors import ApiError, parse_cloudflare
from ansible_collections.idfed.aws_sso.plugins.module_utils._idp import cloudflare as cf
from ansible_collections.idfed.aws_sso.plugins.module_utils._idp.common import (
    API_ARGUMENT_SPEC, SP_ARGUMENT_SPEC, SP_MUTUALLY_EXCLUSIVE, SP_REQUIRED_TOGETHER, ServiceProvider, fail_api,
    read_service_provider, rest_client)
from ansible_collections.idfed.aws_sso.plugins.module_utils._state import Plan, Spec, ensure

LIBRARIES = ("requests", "lxml", "cryptography")

SPEC = Spec(sets={"allowed_idps", "saas_app.custom_attributes"}, read_only=set(cf.READ_ONLY))
MANUAL_PROVISIONING = ("Cloudflare Access does not provision users to AWS: create each user in IAM Identity Center with a "
                       "user name equal to their email address (the NameID Cloudflare sends).")


def check_input(module: AnsibleModule) -> None:
    """What can be refused before any request."""
    params = module.params
    if not params["name"] or not params["name"].strip():
        module.fail_json(msg="name cannot be empty: it is the key the application is found by.")
    if not params["account_id"] or not params["account_id"].strip():
        module.fail_json(msg="account_id is empty: set it or CLOUDFLARE_ACCOUNT_ID.")
    if not params["api_token"] or not params["api_token"].strip():
        module.fail_json(msg="api_token is empty: set it or CLOUDFLARE_API_TOKEN.")
    names = [item["name"] for item in params["custom_attributes"] or []]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        module.fail_json(msg="custom_attributes names {0} more than once; an assertion carries each attribute "
                             "once.".format(", ".join(twice)))
    for key in ("policies", "allowed_idps"):
        values = params[key] or []
        if any(not value or not value.strip() for value in values):
            module.fail_json(msg="{0} holds an empty value.".format(key))
        twice = sorted({value for value in values if values.count(value) > 1})
        if twice:
            module.fail_json(msg="{0} lists {1} more than once.".format(key, ", ".join(twice)))


def acs_choice(module: AnsibleModule, sp: ServiceProvider) -> list[str]:
    """Cloudflare takes one ACS URL: the primary Region's. Warn for the Regions left without one."""
    registered_region = sp.regions[0] if sp.regions else ""
    left_out = sp.acs_urls[1:]
    other_regions = sorted({region for url, region in zip(sp.acs_urls[1:], sp.regions[1:])
                            if region and region != registered_region})
    if other_regions:
        module.warn("Cloudflare Access takes one ACS URL per SaaS application: {0} (Region {1}) is registered, and "
                    "users of the Region(s) {2} cannot sign in through this application (ACS URLs not registered: "
                    "{3}).".format(sp.primary_acs_url, registered_region or "unknown", ", ".join(other_regions),
                                   ", ".join(url for url, region in zip(sp.acs_urls, sp.regions)
                                             if region in other_regions)))
    elif left_out:
        module.debug("Further ACS URLs of the primary Region not registered: {0}".format(", ".join(left_out)))
    return left_out


def find_app(module: AnsibleModule, access: cf.AccessClient, name: str) -> dict | None:
    apps = call(module, access, "List the Access applications", access.find_apps, name)
    if len(apps) > 1:
        module.fail_json(msg="{0} Access applications are named {1!r} (ids {2}); Cloudflare allows duplicate names, "
                             "so the module cannot tell which to manage. Delete or rename the extra ones, then re-run."
                             .format(len(apps), name, ", ".join(str(app.get("id")) for app in apps)),
                         app_ids=[app.get("id") for app in apps])
    if apps and apps[0].get("type") != "saas":
        module.fail_json(msg="The Access application {0!r} (id {1}) is of type {2!r}, not a SaaS application; choose "
                             "another name.".format(name, apps[0].get("id"), apps[0].get("type")))
    return apps[0] if apps else None


def call(module: AnsibleModule, access: cf.AccessClient, doing: str, function, *args):
    try:
        return function(*args)
    except ApiError as error:
        fail(module, access, error, doing)
        raise  # not reached


def fail(module: AnsibleModule, access: cf.AccessClient, error: ApiError, doing: str) -> None:
    if cf.is_auth_error(error):
        doing += (". Cloudflare refused the API token: check api_token (or CLOUDFLARE_API_TOKEN) is valid, not "
                  "expired, and has the account permission 'Access: Apps and Policies Write' on account {0} "
                  "(account_id, or CLOUDFLARE_ACCOUNT_ID)").format(access.account_id)
    fail_api(module, error, doing, client=access.client)


def desired_of(module: AnsibleModule, access: cf.AccessClient, sp: ServiceProvider) -> dict:
    params = module.params
    policy_ids = None
    if params["policies"] is not None:
        resolved = call(module, access, "Read the Access reusable policies", access.resolve_policies,
                        params["policies"])
        if resolved.unknown or resolved.ambiguous:
            problems = []
            if resolved.unknown:
                problems.append("no reusable policy is named {0}".format(", ".join(resolved.unknown)))
            problems.extend("{0} reusable policies are named {1!r} ({2}): give the id".format(len(ids), ref, ", ".join(ids))
                            for ref, ids in resolved.ambiguous.items())
            module.fail_json(msg="Cannot resolve policies: {0}. Nothing was changed.".format("; ".join(problems)))
        policy_ids = resolved.ids
    return cf.desired_app(params["name"], sp.entity_id, sp.primary_acs_url,
                          custom_attributes=params["custom_attributes"],
                          default_relay_state=params["default_relay_state"], policy_ids=policy_ids,
                          allowed_idps=params["allowed_idps"], app_launcher_visible=params["app_launcher_visible"])


def run(module: AnsibleModule) -> dict:
    params = module.params
    present = params["state"] == "present"
    sp = read_service_provider(module) if present else None  # before any request: bad SP metadata writes nothing
    for warning in sp.warnings if sp else ():
        module.warn(warning)
    unregistered = acs_choice(module, sp) if sp else []
    client = rest_client(module, params["api_url"] or cf.DEFAULT_API_URL, auth=bearer(params["api_token"]),
                         error_parser=parse_cloudflare)
    access = cf.AccessClient(client, params["account_id"].strip())
    found = find_app(module, access, params["name"])
    before = cf.app_view(found) if found else None
    desired = desired_of(module, access, sp) if present else None

    def create(planned: Plan) -> dict:
        try:
            return cf.app_view(access.create_app(cf.write_body(planned.after)))
        except ApiError as error:
            if not (error.may_have_applied or error.server_error or error.status is None):
                fail(module, access, error, "Create the Access application")
            # The answer was lost or the server failed: it may exist now. Look again before anything else.
            again = find_app(module, access, params["name"])
            if again is None:
                fail(module, access, error, "Create the Access application (no application named {0!r} exists "
                                            "after the failure, so nothing was created; re-run the task)"
                     .format(params["name"]))
            module.warn("The answer to the create was lost; the application was found by name afterwards (id "
                        "{0}).".format(again.get("id")))
            return cf.app_view(again)

    def update(planned: Plan) -> dict:
        result = call(module, access, "Update the Access application", access.update_app, found["id"],
                      cf.write_body(planned.after))
        return cf.app_view(result)

    def delete(_planned: Plan) -> None:
        call(module, access, "Delete the Access application", access.delete_app, found["id"])

    result = ensure(module, SPEC, before, desired, state=params["state"], create=create, update=update, delete=delete)
    values = result.as_dict()
    shown = values["after"] if present else {}
    return dict(values, app_id=shown.get("id"), idp=cf.idp_facts(shown) if present else None,
                sp=sp.as_dict() if sp else None, unregistered_acs_urls=unregistered, provisioning="manual",
                provisioning_note=MANUAL_PROVISIONING)


def main() -> None:
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        api_token=dict(type="str", required=True, no_log=True, fallback=(env_fallback, [cf.TOKEN_ENV])),
        account_id=dict(type="str", required=True, fallback=(env_fallback, [cf.ACCOUNT_ENV])),
        api_url=dict(type="str", fallback=(env_fallback, [cf.API_URL_ENV])),
        custom_attributes=dict(type="list", elements="dict", options=dict(
            name=dict(type="str", required=True),
            source_name=dict(type="str", required=True),
            name_format=dict(type="str", choices=list(cf.NAME_FORMATS)),
            friendly_name=dict(type="str"),
            required=dict(type="bool"),
        )),
        default_relay_state=dict(type="str"),
        policies=dict(type="list", elements="str"),
        allowed_idps=dict(type="list", elements="str"),
        app_launcher_visible=dict(type="bool"),
        **SP_ARGUMENT_SPEC,
        **API_ARGUMENT_SPEC,
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           mutually_exclusive=SP_MUTUALLY_EXCLUSIVE, required_together=SP_REQUIRED_TOGETHER)
    check_input(module)
    module.exit_json(**run(module))


if __name__ == "__main__":
    main()
