#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: lemonldap_saml_sp
short_description: Register IAM Identity Center (or classic IAM federation) as a SAML service provider of LemonLDAP::NG
version_added: 0.2.0
description:
  - Creates, updates in place or deletes the SAML service provider that lets LemonLDAP::NG sign users in to IAM
    Identity Center, over the LemonLDAP::NG Manager REST API (C(/api/v1/providers/saml/sp), LemonLDAP::NG 2.0.8 or
    later).
  - The SP metadata registered in LemonLDAP::NG is built from the Identity Center SP (its issuer, every Region's
    ACS URL with the HTTP-POST binding, the emailAddress NameID format), read from the SP metadata or given as
    O(sp_entity_id) and O(sp_acs_urls).
  - The NameID is the session attribute O(name_id_attribute) (the mail address by default) in format
    C(emailAddress); O(exported_attributes) are sent in every assertion; the response and the assertion are signed
    (C(signSSOMessage)); the AuthnRequest signature is not required (C(checkSSOMessageSignature) off), since
    Identity Center does not sign it and LemonLDAP::NG would otherwise refuse the login (C(PE57)).
  - The SP is found by O(conf_key), then by its entity id, before anything is created, so a second run changes
    nothing and sends no write, and an SP registered by hand under another key is managed rather than duplicated.
    A create whose answer was lost is followed by a new look-up, so the SP is never registered twice.
  - The comparison is by meaning. The stored metadata is compared by entity id, ACS URL set and NameID formats
    (LemonLDAP::NG keeps the document as a string); O(exported_attributes) exactly; O(options) and O(macros) only
    for the keys the task sets, since the API returns every option with its default filled in.
  - Classic per-account IAM federation uses the same options, with O(sp_entity_id=urn:amazon:webservices),
    O(sp_acs_urls=[https://signin.aws.amazon.com/saml]) and the C(Role) and C(RoleSessionName) attributes (see
    the examples).
  - Every change saves a new LemonLDAP::NG configuration, which the portal applies within seconds.
author:
  - idfed.aws_sso contributors (@idfed)
extends_documentation_fragment:
  - idfed.aws_sso._service_provider
  - idfed.aws_sso._service_provider.API
  - idfed.aws_sso._lemonldap
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads only; RV(after) is the predicted service provider.
  diff_mode:
    support: full
  platform:
    platforms: posix
requirements:
  - python >= 3.10
  - requests >= 2.31.0
  - lxml >= 5.0.0
  - cryptography >= 42.0.0
options:
  state:
    description:
      - V(present) registers the SP or updates it in place; V(absent) deletes it (found by O(conf_key), or by the
        entity id of the SP options when they are given).
    type: str
    choices: [present, absent]
    default: present
  conf_key:
    description:
      - The SP's configuration key in LemonLDAP::NG (letters, digits, C(_), C(.), C(-); the first a letter, digit or
        C(_)); the key it is found by. An SP with the same entity id under another key is managed instead, with a
        warning.
    type: str
    default: aws-iam-identity-center
  name_id_attribute:
    description:
      - The session attribute whose value is the NameID (C(nameIDSessionKey)). Identity Center matches it against
        the user names, which must then be the users' email addresses.
    type: str
    default: mail
  exported_attributes:
    description:
      - The attributes sent in every assertion, as a dictionary from a session attribute (an exported variable or a
        macro) to the SAML attribute name, or to a dictionary with C(name), C(format) (V(basic), V(uri),
        V(unspecified) or the full URI; V(uri) by default for a name that is a URL or URN, else V(basic)),
        C(friendly_name) and C(mandatory) (default V(true), sent even when the SP does not ask for it).
      - Managed exactly - an exported attribute the task does not list is removed.
    type: dict
    default:
      mail: email
  options:
    description:
      - Further SP options by their Manager API names (for example C(notOnOrAfterTimeout), C(signatureMethod),
        C(encryptionMode), C(rule), C(authnLevel), C(sessionNotOnOrAfterTimeout)); they override the module's
        settings (C(nameIDFormat=email), C(nameIDSessionKey=)O(name_id_attribute), C(signSSOMessage=1),
        C(checkSSOMessageSignature=0)). Booleans are sent as C(1)/C(0).
      - Only the options given are compared and changed; the others keep their values.
    type: dict
    default: {}
  macros:
    description:
      - SP macros (session attributes computed per SP, Perl expressions), for example the C(Role) value of classic
        IAM federation. Only the macros given are compared and changed.
    type: dict
"""

EXAMPLES = r"""
- name: Register IAM Identity Center in LemonLDAP::NG from its SP metadata
  idfed.aws_sso.lemonldap_saml_sp:
    sp_metadata_path: files/identity-center-sp-metadata.xml
    api_url: https://manager-api.example.com
    api_username: ansible
    api_password: "{{ vault_llng_api_password }}"
    portal_url: https://auth.example.com
  register: llng

- name: Check the IdP metadata Identity Center will receive
  idfed.aws_sso.saml_metadata_info:
    url: "{{ llng.idp.metadata_url }}"
    target: identity_center

- name: Without a metadata file, a custom NameID attribute and a session tag
  idfed.aws_sso.lemonldap_saml_sp:
    sp_entity_id: https://eu-west-1.signin.aws.amazon.com/platform/saml/d-93670c4a5b
    sp_acs_urls:
      - https://eu-west-1.signin.aws/platform/saml/acs/65752d77-6573-742d-2b3c-4d5e8f90a1b2
      - https://eu-central-1.signin.aws/platform/saml/acs/65752d77-6573-742d-2b3c-4d5e8f90a1b2
    name_id_attribute: mail
    exported_attributes:
      mail: email
      department: https://aws.amazon.com/SAML/Attributes/AccessControl:Department
    options:
      notOnOrAfterTimeout: 300
  # api_url, the basic-auth credentials and portal_url come from LLNG_MANAGER_API_URL,
  # LLNG_MANAGER_API_USERNAME, LLNG_MANAGER_API_PASSWORD and LLNG_PORTAL_URL

- name: Classic IAM federation - one AWS account, role chosen by a macro
  idfed.aws_sso.lemonldap_saml_sp:
    conf_key: aws-iam-123456789012
    sp_entity_id: urn:amazon:webservices
    sp_acs_urls: [https://signin.aws.amazon.com/saml]
    macros:
      awsRole: '"arn:aws:iam::123456789012:role/Admin,arn:aws:iam::123456789012:saml-provider/lemonldap"'
    exported_attributes:
      awsRole: https://aws.amazon.com/SAML/Attributes/Role
      uid: https://aws.amazon.com/SAML/Attributes/RoleSessionName

- name: Remove the service provider
  idfed.aws_sso.lemonldap_saml_sp:
    conf_key: aws-iam-identity-center
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
  description:
    - The SP's configuration key in LemonLDAP::NG (O(conf_key), or the key the SP was found under by its entity
      id); null when the SP is absent.
  returned: always
  type: str
  sample: aws-iam-identity-center
idp:
  description:
    - What Identity Center needs about the identity provider, read from C(<portal_url>/saml/metadata). Null for
      O(state=absent); its values are null without O(portal_url).
  returned: always
  type: dict
  contains:
    entity_id:
      description: The IdP entity id (issuer), C(#PORTAL#/saml/metadata) by default.
      type: str
      sample: https://auth.example.com/saml/metadata
    sso_url:
      description: The SAML SSO endpoint (HTTP-Redirect binding).
      type: str
      sample: https://auth.example.com/saml/singleSignOn
    metadata_url:
      description: Where the portal serves the IdP metadata, C(<portal_url>/saml/metadata).
      type: str
      sample: https://auth.example.com/saml/metadata
    certificate_pem:
      description: The IdP signing certificate from that metadata, as PEM.
      type: str
    certificate_url:
      description: Always null; LemonLDAP::NG serves the certificate inside the metadata.
      type: str
sp:
  description: The Identity Center SP the application was configured for (null for O(state=absent)).
  returned: always
  type: dict
  contains:
    entity_id:
      description: The SP entity id (the Identity Center issuer, or C(urn:amazon:webservices)).
      type: str
    acs_urls:
      description: Every ACS URL registered, the primary Region's first.
      type: list
      elements: str
    regions:
      description: The Region of each ACS URL, same order (empty string when not an Identity Center URL).
      type: list
      elements: str
    name_id_format:
      description: The NameID format the SP expects.
      type: str
provisioning:
  description: How users reach Identity Center - V(manual), since LemonLDAP::NG has no SCIM client toward AWS.
  returned: always
  type: str
  sample: manual
provisioning_note:
  description: What manual provisioning means here, for a playbook to show.
  returned: always
  type: str
before:
  description: The SP before the task, C({}) when absent.
  returned: always
  type: dict
after:
  description: The SP after the task (predicted in check mode and after a write), C({}) when absent.
  returned: always
  type: dict
  sample:
    conf_key: aws-iam-identity-center
    entity_id: https://eu-west-1.signin.aws.amazon.com/platform/saml/d-93670c4a5b
    acs_urls: [https://eu-west-1.signin.aws/platform/saml/acs/65752d77-6573-742d-2b3c-4d5e8f90a1b2]
    name_id_formats: [urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress]
    exported_attributes:
      - attribute: mail
        name: email
        format: urn:oasis:names:tc:SAML:2.0:attrname-format:basic
        mandatory: true
    options:
      nameIDFormat: email
      nameIDSessionKey: mail
      signSSOMessage: 1
      checkSSOMessageSignature: 0
    macros: {}
"""

import re

from ansible.module_utils.basic import AnsibleModule, env_fallback

from ansible_collections.idfed.aws_sso.plugins.module_utils._http.auth import basic
from ansible_collections.idfed.aws_sso.plugins.module_utils._http.errors import ApiError, HttpError
from ansible_collections.idfed.aws_sso.plugins.module_utils._idp import lemonldap as llng
from ansible_collections.idfed.aws_sso.plugins.module_utils._idp.common import (
    API_ARGUMENT_SPEC, SP_ARGUMENT_SPEC, SP_MUTUALLY_EXCLUSIVE, SP_OPTIONS, SP_REQUIRED_TOGETHER, fail_api,
    read_service_provider, rest_client)
from ansible_collections.idfed.aws_sso.plugins.module_utils._state import Plan, Spec, ensure

LIBRARIES = ("requests", "lxml", "cryptography")

# An SP found by its entity id keeps its conf key (the desired one is the found one); options and macros merge
# key by key (only what the task sets is compared); exported attributes are exact.
SPEC = Spec(sets={"acs_urls", "name_id_formats", "exported_attributes"})
MANUAL_PROVISIONING = ("LemonLDAP::NG does not provision users to AWS: create each user in IAM Identity Center with a "
                       "user name equal to their email address (the NameID LemonLDAP::NG sends).")
AUTH_HINT = ("The web server in front of the Manager API refused the request: check api_username and api_password "
             "(or LLNG_MANAGER_API_USERNAME / LLNG_MANAGER_API_PASSWORD) and that this host may reach the API.")


def check_input(module: AnsibleModule) -> None:
    """What can be refused before any request."""
    params = module.params
    problems = []
    if not llng.CONF_KEY.match(params["conf_key"] or ""):
        problems.append("conf_key {0!r} is not a LemonLDAP::NG configuration key (letters, digits, _, . and -, "
                        "not starting with . or -)".format(params["conf_key"]))
    if not re.match(r"^\w+$", params["name_id_attribute"] or ""):
        problems.append("name_id_attribute {0!r} is not a session attribute name".format(params["name_id_attribute"]))
    problems += llng.attribute_problems(params["exported_attributes"] or {})
    unknown = sorted(set(params["options"] or {}) - llng.OPTION_NAMES)
    if unknown:
        problems.append("options has unknown SP options {0}; known: {1}".format(
            ", ".join(unknown), ", ".join(sorted(llng.OPTION_NAMES))))
    name_id = (params["options"] or {}).get("nameIDFormat")
    if name_id is not None and name_id not in llng.NAME_ID_FORMATS:
        problems.append("options.nameIDFormat must be one of {0}".format(", ".join(llng.NAME_ID_FORMATS)))
    for key, value in (params["macros"] or {}).items():
        if not re.match(r"^\w+$", key) or not isinstance(value, str):
            problems.append("macros.{0} must be a session attribute name with a string (Perl expression)".format(key))
    if params["api_password"] and not params["api_username"]:
        problems.append("api_password is set without api_username")
    if problems:
        module.fail_json(msg="Invalid options, nothing was changed: " + "; ".join(problems) + ".")


def fail(module: AnsibleModule, client, error: HttpError, doing: str) -> None:
    if getattr(error, "status", None) in (401, 403):
        doing += ". " + AUTH_HINT
    fail_api(module, error, doing, client=client)


def call(module: AnsibleModule, client, doing: str, function, *args):
    try:
        return function(*args)
    except HttpError as error:
        fail(module, client, error, doing)
        raise  # not reached


def service_provider(module: AnsibleModule):
    sp = read_service_provider(module)
    for warning in sp.warnings:
        if sp.entity_id == llng.IAM_ENTITY_ID and "is not an IAM Identity Center issuer" in warning:
            continue  # classic IAM federation: that is its entity id
        module.warn(warning)
    return sp


def find(module: AnsibleModule, api: llng.SamlSpClient, conf_key: str, entity_id: str | None) -> dict | None:
    """The SP by conf key, else by entity id (registered by hand under another key)."""
    found = call(module, api.client, "Read the SAML SP {0}".format(conf_key), api.get, conf_key)
    if found is None and entity_id:
        found = call(module, api.client, "Find the SAML SP of {0}".format(entity_id), api.find_by_entity_id,
                     entity_id)
        if found is not None:
            module.warn("The SP {0} is registered under the conf key {1!r}, not {2!r}: that SP is managed. Set "
                        "conf_key: {1} to silence this warning.".format(entity_id, found.get("confKey"), conf_key))
    return found


def check_entity_free(module: AnsibleModule, api: llng.SamlSpClient, found: dict, entity_id: str) -> None:
    """An SP whose entity id changes must not take one another SP holds: say which, before writing."""
    other = call(module, api.client, "Find the SAML SP of {0}".format(entity_id), api.find_by_entity_id, entity_id)
    if other is not None and other.get("confKey") != found.get("confKey"):
        module.fail_json(msg="The entity id {0} is registered under the conf key {1!r}; the SP {2!r} cannot take it. "
                             "Delete one of them (or set conf_key: {1}). Nothing was changed."
                         .format(entity_id, other.get("confKey"), found.get("confKey")))


def idp_facts(module: AnsibleModule) -> dict:
    params = module.params
    portal = (params["portal_url"] or "").rstrip("/")
    facts = {"entity_id": None, "sso_url": None, "metadata_url": None, "certificate_pem": None,
             "certificate_url": None}
    if not portal:
        return facts
    from ansible_collections.idfed.aws_sso.plugins.module_utils._http.fetch import fetch  # pylint: disable=import-outside-toplevel
    from ansible_collections.idfed.aws_sso.plugins.module_utils._saml.findings import SamlError  # pylint: disable=import-outside-toplevel

    facts["metadata_url"] = portal + "/saml/metadata"
    try:
        document = fetch(facts["metadata_url"], timeout=params["timeout"], validate_certs=params["validate_certs"],
                         ca_path=params["ca_path"], allow_http=params["allow_http"]).body
        facts.update(llng.read_idp_metadata(document))
    except (HttpError, SamlError) as error:
        raise RuntimeError("Reading the IdP metadata at {0} failed: {1}".format(facts["metadata_url"], error)) from None
    return facts


def run(module: AnsibleModule) -> dict:
    params = module.params
    present = params["state"] == "present"
    sp = service_provider(module) if present or any(params.get(name) for name in SP_OPTIONS) else None
    auth = basic(params["api_username"], params["api_password"] or "") if params["api_username"] else None
    client = rest_client(module, params["api_url"], auth=auth, error_parser=llng.parse_error,
                         allow_http=params["allow_http"])
    api = llng.SamlSpClient(client)
    conf_key = params["conf_key"]
    found = find(module, api, conf_key, sp.entity_id if sp else None)
    before = llng.sp_view(found) if found else None
    desired = None
    if present:
        desired = llng.desired_view(found.get("confKey") if found else conf_key, sp.entity_id, sp.acs_urls,
                                    sp.name_id_format, name_id_attribute=params["name_id_attribute"],
                                    exported_attributes=params["exported_attributes"] or {},
                                    options=params["options"] or {}, macros=params["macros"])

    def create(planned: Plan) -> dict | None:
        try:
            api.create(llng.create_body(planned.after))
            return None
        except ApiError as error:
            if not (error.may_have_applied or error.server_error or error.status is None or error.conflict):
                fail(module, client, error, "Register the SAML SP {0}".format(conf_key))
            # The answer was lost, the server failed or someone registered it meanwhile: look again.
            again = find(module, api, conf_key, sp.entity_id)
            if again is None:
                fail(module, client, error, "Register the SAML SP {0} (it is not registered after the failure, so "
                                            "nothing was created; re-run the task)".format(conf_key))
            module.warn("The answer to the registration was lost ({0}); the SP was found afterwards under the conf "
                        "key {1!r}.".format(error.status or "no answer", again.get("confKey")))
            view = llng.sp_view(again)
            if llng_differs(view, planned.after):
                write_update(again, planned.after)
            return None

    def llng_differs(view: dict, wanted: dict) -> bool:
        from ansible_collections.idfed.aws_sso.plugins.module_utils._state import plan  # pylint: disable=import-outside-toplevel

        return plan(SPEC, view, wanted).changed

    def write_update(stored: dict, after: dict) -> None:
        from ansible_collections.idfed.aws_sso.plugins.module_utils._state import plan  # pylint: disable=import-outside-toplevel

        keys = plan(SPEC, llng.sp_view(stored), after).changed_keys
        method, body = llng.update_request(stored, after, keys)
        writer = api.replace if method == "PUT" else api.update
        call(module, client, "Update the SAML SP {0}".format(stored.get("confKey")), writer, stored.get("confKey"),
             body)

    def update(planned: Plan) -> dict | None:
        if planned.after["entity_id"] != planned.before["entity_id"]:
            check_entity_free(module, api, found, planned.after["entity_id"])
        write_update(found, planned.after)
        return None

    def delete(_planned: Plan) -> None:
        call(module, client, "Delete the SAML SP {0}".format(found.get("confKey")), api.delete, found.get("confKey"))

    values = ensure(module, SPEC, before, desired, state=params["state"], create=create, update=update,
                    delete=delete).as_dict()
    values.update(app_id=values["after"].get("conf_key") if present else None, idp=None,
                  sp=sp.as_dict() if sp and present else None, provisioning="manual",
                  provisioning_note=MANUAL_PROVISIONING)
    if present:
        try:
            values["idp"] = idp_facts(module)
        except RuntimeError as error:
            module.fail_json(msg="{0}. The SP itself is {1}; check portal_url (and ca_path).".format(
                error, values["outcome"]), **values)
    return values


def main() -> None:
    argument_spec = dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        api_url=dict(type="str", required=True, fallback=(env_fallback, ["LLNG_MANAGER_API_URL"])),
        api_username=dict(type="str", fallback=(env_fallback, ["LLNG_MANAGER_API_USERNAME"])),
        api_password=dict(type="str", no_log=True, fallback=(env_fallback, ["LLNG_MANAGER_API_PASSWORD"])),
        allow_http=dict(type="bool", default=False),
        portal_url=dict(type="str", fallback=(env_fallback, ["LLNG_PORTAL_URL"])),
        conf_key=dict(type="str", default=llng.DEFAULT_CONF_KEY, no_log=False),
        name_id_attribute=dict(type="str", default="mail"),
        exported_attributes=dict(type="dict", default={"mail": "email"}),
        options=dict(type="dict", default={}),
        macros=dict(type="dict"),
        **SP_ARGUMENT_SPEC,
        **API_ARGUMENT_SPEC,
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           mutually_exclusive=SP_MUTUALLY_EXCLUSIVE, required_together=SP_REQUIRED_TOGETHER)
    check_input(module)
    module.exit_json(**run(module))


if __name__ == "__main__":
    main()
