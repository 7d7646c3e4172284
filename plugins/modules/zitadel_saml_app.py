#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: zitadel_saml_app
short_description: Create, update or delete the IAM Identity Center SAML application in ZITADEL
version_added: 0.2.0
description:
  - Manages the SAML application that makes ZITADEL the identity provider of IAM Identity Center, in a ZITADEL
    project, from the Identity Center SP facts (its metadata, or its issuer and ACS URLs).
  - ZITADEL configures a SAML application from SP metadata only. The module sends a minimal SP metadata document
    built from the SP (entity id = the Identity Center issuer, every Region's ACS URL with the HTTP-POST binding,
    NameID format emailAddress) and compares what ZITADEL stores by meaning (entity id, the set of ACS URLs, the
    NameID formats), so a second run sends no write.
  - The project is found by id or by exact name, and created (once) when a name is not found, unless
    O(create_project=false). The application is found by O(name) in the project before it is created; ZITADEL
    keeps application names unique in a project. After a create whose answer was lost, the module looks the
    application up again by name instead of creating a second one.
  - Returns what the next steps (the Identity Center external IdP) need, in RV(idp).
author:
  - idfed.aws_sso maintainers (@idfed)
extends_documentation_fragment:
  - idfed.aws_sso._zitadel
  - idfed.aws_sso._service_provider
  - idfed.aws_sso._service_provider.API
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff shows the application as RV(before) and RV(after) do (entity id, ACS URLs, NameID formats).
  platform:
    platforms: all
requirements:
  - python >= 3.10
  - requests >= 2.31.0
  - lxml >= 5.0.0
  - cryptography >= 42.0.0
options:
  project:
    description:
      - The ZITADEL project holding the application, by id or by exact name. An all-digit value is tried as a project
        id first.
      - Required for O(state=present) and O(state=absent).
    type: str
    required: true
  create_project:
    description:
      - Create the project when O(project) names none (never with O(state=absent)). With V(false) a missing project
        fails the task.
    type: bool
    default: true
  name:
    description:
      - The application's name, unique in the project; the key the application is found by. Users may see it on the
        ZITADEL login page.
    type: str
    default: AWS IAM Identity Center
  check_login_policy:
    description:
      - Read the organization's domain settings (v2 C(GetDomainSettings), v1 C(GET /management/v1/policies/domain))
        to report whether ZITADEL login names carry the organization domain, which decides the NameID ZITADEL sends
        (see the notes). One more read request.
    type: bool
    default: true
  state:
    description:
      - V(present) creates the application or updates its SAML configuration in place; V(absent) deletes it (the
        project stays).
    type: str
    choices: [present, absent]
    default: present
notes:
  - ZITADEL sends as SAML NameID the user's B(preferred login name), with the format emailAddress (zitadel/saml
    C(Attributes.GetNameID), the username set from C(PreferredLoginName)), whatever the SP metadata asks for; its
    IdP metadata advertises only the persistent format, which M(idfed.aws_sso.saml_metadata_info) reports as the
    warning C(name_id_email_missing).
  - So the C(UserName) of every Identity Center user must be exactly that user's ZITADEL preferred login name. When
    the organization's domain settings add the domain to login names (RV(name_id.login_name_includes_domain)), that
    is C(<username>@<organization primary domain>); otherwise it is the username. Give ZITADEL users their email
    address as username (and, if the domain is added, make the organization's primary domain the email domain) so
    that NameID, ZITADEL login name and Identity Center user name are the same email address.
  - ZITADEL has no SCIM client towards AWS; create the Identity Center users and groups yourself (RV(provisioning) is
    C(manual)), for example with M(idfed.aws_sso.identity_store_user).
  - ZITADEL requires a SAML entity id to be unique in the instance; a second application for the same Identity
    Center issuer (in another project) is refused with HTTP 409.
  - Upload the IdP metadata from RV(idp.metadata_url) (or the certificate from RV(idp.certificate_url) with
    RV(idp.sso_url) and RV(idp.entity_id)) to Identity Center; check it first with
    M(idfed.aws_sso.saml_metadata_info).
seealso:
  - module: idfed.aws_sso.saml_metadata_info
  - name: ZITADEL SAML applications (v2 API)
    description: The ApplicationService reference.
    link: https://zitadel.com/docs/apis/resources/application_service_v2
"""

EXAMPLES = r"""
- name: The Identity Center application in ZITADEL (v2 API, personal access token from ZITADEL_TOKEN)
  idfed.aws_sso.zitadel_saml_app:
    api_url: https://acme-prod.zitadel.cloud
    organization_id: "285107392112312345"
    project: AWS
    sp_metadata_path: files/identity-center-sp-metadata.xml
  register: zitadel_app

- name: Check the IdP metadata ZITADEL serves before giving it to Identity Center
  idfed.aws_sso.saml_metadata_info:
    url: "{{ zitadel_app.idp.metadata_url }}"
    target: identity_center

- name: Same with a service-user key and the v1 management API of an older self-hosted instance
  idfed.aws_sso.zitadel_saml_app:
    api_url: https://id.example.com
    key_file: /etc/zitadel/ansible-sa.json
    api_version: v1
    project: "285107392112398765"
    name: AWS IAM Identity Center
    sp_entity_id: https://eu-west-1.signin.aws.amazon.com/platform/saml/d-93670c4a5b
    sp_acs_urls:
      - https://eu-west-1.signin.aws.amazon.com/platform/saml/acs/65752d77-2b3c-4d5e-8f90-a1b2c3d4e5f6

- name: Remove the application (the project stays)
  idfed.aws_sso.zitadel_saml_app:
    api_url: https://acme-prod.zitadel.cloud
    project: AWS
    state: absent
"""

RETURN = r"""
outcome:
  description: What the task did (or would do in check mode).
  returned: always
  type: str
  choices: [created, updated, deleted, unchanged]
  sample: created
app_id:
  description: The ZITADEL id of the application; null when it is absent (or only predicted in check mode).
  returned: always
  type: str
  sample: "285107392112355555"
project:
  description: The project the application is in.
  returned: always
  type: dict
  contains:
    id:
      description: The project id; null when check mode predicts its creation.
      type: str
    name:
      description: The project name.
      type: str
    created:
      description: Whether the task created the project (or would, in check mode).
      type: bool
  sample: {"id": "285107392112312399", "name": "AWS", "created": false}
before:
  description: The application before the task, C({}) when it did not exist. Same keys as RV(after).
  returned: always
  type: dict
after:
  description: The application after the task (predicted in check mode), C({}) when absent.
  returned: always
  type: dict
  contains:
    app_id:
      description: The application id.
      type: str
    project_id:
      description: The project id.
      type: str
    name:
      description: The application name.
      type: str
    state:
      description: The application state as ZITADEL reports it (C(APPLICATION_STATE_ACTIVE), C(APP_STATE_ACTIVE)).
      type: str
    entity_id:
      description: The SP entity id of the stored metadata (the Identity Center issuer).
      type: str
    acs_urls:
      description: The ACS URLs of the stored metadata.
      type: list
      elements: str
    name_id_formats:
      description: The NameID formats of the stored metadata.
      type: list
      elements: str
    metadata_url:
      description: The URL ZITADEL fetched the metadata from, empty when it was given as XML (always, by this module).
      type: str
  sample:
    app_id: "285107392112355555"
    project_id: "285107392112312399"
    name: AWS IAM Identity Center
    state: APPLICATION_STATE_ACTIVE
    entity_id: https://eu-west-1.signin.aws.amazon.com/platform/saml/d-93670c4a5b
    acs_urls: [https://eu-west-1.signin.aws.amazon.com/platform/saml/acs/65752d77-2b3c-4d5e-8f90-a1b2c3d4e5f6]
    name_id_formats: ["urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"]
    metadata_url: ""
idp:
  description: The IdP side, for the Identity Center external IdP. Null for O(state=absent).
  returned: always
  type: dict
  contains:
    entity_id:
      description: The IdP entity id (issuer of the assertions), the URL of the metadata endpoint.
      type: str
      sample: https://acme-prod.zitadel.cloud/saml/v2/metadata
    metadata_url:
      description: Where ZITADEL serves its IdP metadata.
      type: str
      sample: https://acme-prod.zitadel.cloud/saml/v2/metadata
    sso_url:
      description: The SAML SSO endpoint (HTTP-Redirect and HTTP-POST).
      type: str
      sample: https://acme-prod.zitadel.cloud/saml/v2/SSO
    certificate_pem:
      description: Always null; the API does not return the signing certificate. Read it from RV(idp.certificate_url).
      type: str
    certificate_url:
      description: Where ZITADEL serves its SAML signing certificate (PEM).
      type: str
      sample: https://acme-prod.zitadel.cloud/saml/v2/certificate
    legacy_urls:
      description: The same endpoints under the older C(/saml/) prefix that older ZITADEL versions and guides use.
      type: dict
sp:
  description: The Identity Center SP the application was configured for. Null for O(state=absent).
  returned: always
  type: dict
  contains:
    entity_id:
      description: The Identity Center issuer.
      type: str
    acs_urls:
      description: Every ACS URL, the primary Region's first.
      type: list
      elements: str
    regions:
      description: The Region of each ACS URL.
      type: list
      elements: str
    name_id_format:
      description: The NameID format Identity Center needs.
      type: str
name_id:
  description: What ZITADEL sends as NameID, and what Identity Center user names must therefore be.
  returned: when O(state=present)
  type: dict
  contains:
    format:
      description: The NameID format of ZITADEL's assertions.
      type: str
      sample: urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress
    value:
      description: The user attribute ZITADEL puts in the NameID.
      type: str
      sample: preferred_login_name
    login_name_includes_domain:
      description: Whether login names are C(<username>@<organization domain>); null when not read.
      type: bool
provisioning:
  description: How users reach Identity Center with this IdP; ZITADEL has no SCIM client for AWS.
  returned: always
  type: str
  sample: manual
"""

import os

from ansible.module_utils.basic import AnsibleModule, env_fallback

from ansible_collections.idfed.aws_sso.plugins.module_utils import _deps
from ansible_collections.idfed.aws_sso.plugins.module_utils._idp.common import (
    API_ARGUMENT_SPEC, SP_ARGUMENT_SPEC, SP_MUTUALLY_EXCLUSIVE, SP_REQUIRED_TOGETHER, fail_api, read_service_provider,
    rest_client)
from ansible_collections.idfed.aws_sso.plugins.module_utils._saml.constants import EMAIL_NAME_ID
from ansible_collections.idfed.aws_sso.plugins.module_utils._state import CREATED, Plan, Spec, ensure

LIBRARIES = ("requests", "lxml", "cryptography")

SPEC = Spec(sets={"acs_urls", "name_id_formats"}, read_only={"app_id", "project_id", "state"})


def argument_spec() -> dict:
    spec = dict(
        api_url=dict(type="str", required=True, fallback=(env_fallback, ["ZITADEL_URL"])),
        token=dict(type="str", no_log=True, fallback=(env_fallback, ["ZITADEL_TOKEN"])),
        key_file=dict(type="path", fallback=(env_fallback, ["ZITADEL_KEY_FILE"])),
        key_content=dict(type="str", no_log=True, fallback=(env_fallback, ["ZITADEL_KEY_CONTENT"])),
        organization_id=dict(type="str", fallback=(env_fallback, ["ZITADEL_ORGANIZATION_ID"])),
        api_version=dict(type="str", choices=["v1", "v2"], default="v2"),
        project=dict(type="str", required=True),
        create_project=dict(type="bool", default=True),
        name=dict(type="str", default="AWS IAM Identity Center"),
        check_login_policy=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    spec.update(SP_ARGUMENT_SPEC)
    spec.update(API_ARGUMENT_SPEC)
    return spec


def check_input(params: dict) -> str | None:
    """The first problem of the task's options, found before any request; None when they are usable."""
    url = (params["api_url"] or "").strip()
    if not url.startswith("https://") or len(url) <= len("https://"):
        return "api_url must be the https:// URL of the ZITADEL instance (https://<instance domain>), not {0!r}.".format(
            params["api_url"])
    credentials = [name for name in ("token", "key_file", "key_content") if params.get(name)]
    if not credentials:
        return ("No ZITADEL credentials: give token (a personal access token, or ZITADEL_TOKEN) or key_file/key_content "
                "(a service-user JSON key, or ZITADEL_KEY_FILE).")
    if len(credentials) > 1:
        return "Give one of token, key_file and key_content, not {0}.".format(" and ".join(credentials))
    for option in ("project", "name"):
        if not (params[option] or "").strip():
            return "{0} cannot be empty.".format(option)
    if len(params["name"]) > 200:
        return "name is longer than the 200 characters ZITADEL allows."
    if params.get("key_file") and not os.path.isfile(params["key_file"]):
        return "key_file {0} does not exist or is not a file.".format(params["key_file"])
    return None


class Runner:
    """One task run: the project, the app, the comparison and the writes."""

    def __init__(self, module: AnsibleModule):
        from ansible_collections.idfed.aws_sso.plugins.module_utils._idp import zitadel  # pylint: disable=import-outside-toplevel

        self.module = module
        self.z = zitadel
        params = module.params
        self.params = params
        self.api_url = params["api_url"].strip().rstrip("/")
        self.sp = read_service_provider(module) if params["state"] == "present" else None
        try:
            auth = zitadel.make_auth(self.api_url, token=params["token"],
                                     key=params["key_file"] or params["key_content"])
        except zitadel.HttpError as error:
            module.fail_json(msg="Cannot use the service-user key: {0}".format(error))
        self.client = rest_client(module, self.api_url, auth=auth, error_parser=self._parser(),
                                  headers=zitadel.session_headers(params["api_version"], params["organization_id"]))
        self.api = zitadel.zitadel_api(self.client, params["api_version"], params["organization_id"])
        self.project: dict = {"id": None, "name": params["project"], "created": False}
        self.warnings: list[str] = []

    @staticmethod
    def _parser():
        from ansible_collections.idfed.aws_sso.plugins.module_utils._http.errors import parse_zitadel  # pylint: disable=import-outside-toplevel
        return parse_zitadel

    # ------------------------------------------------------------------------------ calls

    def call(self, doing: str, function, *args):
        try:
            return function(*args)
        except self.z.HttpError as error:
            fail_api(self.module, error, doing + self._advice(error), client=self.client)
            raise  # not reached

    def _advice(self, error) -> str:
        status = getattr(error, "status", None)
        if status == 401:
            return (" (ZITADEL did not accept the credentials: check token / ZITADEL_TOKEN is a valid personal access "
                    "token, or key_file is a current key of the service user, for the instance at api_url)")
        if status == 403:
            return (" (the service user lacks permission: give it ORG_OWNER or PROJECT_OWNER in the organization"
                    "{0})".format(", and check organization_id" if self.params["organization_id"] else ""))
        if status == 404 and self.params["api_version"] == "v2" and "/zitadel." in str(getattr(error, "url", "")):
            return " (the v2 API is not there: for ZITADEL older than v4 set api_version: v1)"
        return ""

    # ------------------------------------------------------------------------------ the run

    def run(self) -> None:
        params = self.params
        found = self.call("Looking up the project {0!r}".format(params["project"]), self.api.find_project,
                          params["project"])
        if found is not None:
            self.project.update(id=found["id"], name=found["name"])
        elif params["state"] == "present" and not params["create_project"]:
            self.module.fail_json(msg="No project {0!r} in ZITADEL{1}, and create_project is false.".format(
                params["project"], " organization " + params["organization_id"] if params["organization_id"] else ""))
        elif params["state"] == "present":
            self.project["created"] = True
        app = None
        if self.project["id"]:
            app = self.call("Looking up the application {0!r} in project {1}".format(params["name"], self.project["id"]),
                            self.api.find_app, self.project["id"], params["name"])
        before = app.view() if app else None
        desired = self.desired() if params["state"] == "present" else None
        result = ensure(self.module, SPEC, before, desired, state=params["state"], create=self.create,
                        update=self.update, delete=self.delete)
        if result.outcome != CREATED:
            self.project["created"] = False
        values = result.as_dict()
        values["changed"] = result.changed or self.project["created"]
        app_id = (values["after"] or {}).get("app_id") if params["state"] == "present" else None
        values.update(app_id=app_id, project=self.project, provisioning="manual",
                      idp=self.z.idp_facts(self.api_url) if params["state"] == "present" else None,
                      sp=self.sp.as_dict() if self.sp else None)
        if params["state"] == "present":
            values["name_id"] = self.name_id()
        for warning in (self.sp.warnings if self.sp else []) + self.warnings:
            self.module.warn(warning)
        self.module.exit_json(**values)

    def desired(self) -> dict:
        return {"name": self.params["name"], "entity_id": self.sp.entity_id, "acs_urls": list(self.sp.acs_urls),
                "name_id_formats": [EMAIL_NAME_ID], "metadata_url": ""}

    def metadata(self) -> bytes:
        return self.z.build_sp_metadata(self.sp.entity_id, self.sp.acs_urls, EMAIL_NAME_ID)

    def name_id(self) -> dict:
        includes = None
        if self.params["check_login_policy"]:
            includes = self.call("Reading the organization's domain settings (login names)",
                                 self.api.login_name_includes_domain)
            if includes:
                self.warnings.append(
                    "ZITADEL adds the organization domain to login names (domain settings: login name includes "
                    "domain), so the NameID it sends is <username>@<organization primary domain>: each Identity "
                    "Center user name must be exactly that.")
        return {"format": EMAIL_NAME_ID, "value": "preferred_login_name", "login_name_includes_domain": includes}

    # ------------------------------------------------------------------------------ writers

    def create(self, plan: Plan) -> dict:
        name = self.params["name"]
        if not self.project["id"]:
            self.project["id"] = self.call("Creating the project {0!r}".format(self.params["project"]),
                                           self.api.create_project, self.params["project"])
        project_id = self.project["id"]
        try:
            app_id = self.api.create_saml_app(project_id, name, self.metadata())
        except self.z.ApiError as error:
            return self._after_failed_create(error, project_id)
        except self.z.HttpError as error:
            fail_api(self.module, error, "Creating the application {0!r}".format(name), client=self.client)
            raise  # not reached
        return dict(plan.after, app_id=app_id, project_id=project_id, state="")

    def _after_failed_create(self, error, project_id: str) -> dict:
        """A create that may have been applied (answer lost, 5xx) or that clashed (409): look again by name."""
        name = self.params["name"]
        if not (error.may_have_applied or error.conflict):
            fail_api(self.module, error, "Creating the application {0!r}".format(name) + self._advice(error),
                     client=self.client)
        app = self.call("Looking the application {0!r} up again after the failed create".format(name),
                        self.api.find_app, project_id, name)
        if app is None:
            advice = ""
            if error.conflict:
                advice = (" No application of that name is in the project, so the SAML entity id {0} is taken by "
                          "another application of the instance (ZITADEL keeps entity ids unique): delete that one or "
                          "manage it instead".format(self.sp.entity_id))
            fail_api(self.module, error, "Creating the application {0!r}{1}".format(name, advice), client=self.client)
        self.warnings.append("The create of application {0!r} got no usable answer ({1}), but the application exists "
                             "(id {2}): it was created by this run or at the same time, and is used; not created "
                             "twice.".format(name, error.status or "connection lost", app.app_id))
        view = app.view()
        if self._differs(view):  # found, but not (yet) as the task wants it
            self.call("Updating the SAML configuration of {0!r}".format(name), self.api.update_saml_app,
                      project_id, app.app_id, self.metadata())
            view.update(self.desired())
        return view

    def _differs(self, view: dict) -> bool:
        from ansible_collections.idfed.aws_sso.plugins.module_utils._state import plan  # pylint: disable=import-outside-toplevel
        return plan(SPEC, view, self.desired()).changed

    def update(self, plan: Plan) -> dict:
        before = plan.before or {}
        self.call("Updating the SAML configuration of {0!r} ({1})".format(self.params["name"], before.get("app_id")),
                  self.api.update_saml_app, before["project_id"], before["app_id"], self.metadata())
        return dict(plan.after)

    def delete(self, plan: Plan) -> None:
        before = plan.before or {}
        self.call("Deleting the application {0!r} ({1})".format(self.params["name"], before.get("app_id")),
                  self.api.delete_app, before["project_id"], before["app_id"])
        return None


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           mutually_exclusive=SP_MUTUALLY_EXCLUSIVE, required_together=SP_REQUIRED_TOGETHER)
    problem = check_input(module.params)
    if problem:
        module.fail_json(msg=problem)
    _deps.require(module, *LIBRARIES)
    Runner(module).run()


if __name__ == "__main__":
    main()
