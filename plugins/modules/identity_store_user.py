#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: identity_store_user
short_description: Create, update or delete a user in the IAM Identity Center identity store
version_added: 0.2.0
description:
  - Manages one user of the IAM Identity Center identity store, keyed by its O(user_name).
  - The user is looked up by user name (C(GetUserId)) before anything is created, so a second run changes nothing
    and sends no write. A user that exists is updated in place (C(UpdateUser) with only the attributes that
    differ); its user id, which account assignments and group memberships point at, never changes.
  - With an external SAML identity provider, Identity Center signs a user in by matching the NameID (format
    emailAddress) to the user name, so O(user_name) must be an email address.
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
  diff_mode:
    support: full
    details: The diff shows the user's attributes before and after, as in RV(before) and RV(after).
  platform:
    platforms: posix
requirements:
  - python >= 3.10
  - boto3 >= 1.34.0
  - botocore >= 1.34.0
options:
  identity_store_id:
    description:
      - The identity store, C(d-) and ten hex digits (the C(IdentityStoreId) of the Identity Center instance).
      - When omitted, the identity store of the instance (see O(instance_arn)) is used. When set, O(instance_arn) is
        not used and no C(sso-admin) call is made.
    type: str
  user_name:
    description:
      - The user name, unique in the identity store; the key the user is found by.
      - With O(state=present) it must be an email address (C(name@example.com)); anything else is refused before any
        call. O(state=absent) accepts any user name, so users created otherwise can be removed.
      - A user cannot be renamed by this module; the user name is what the IdP's NameID is matched against.
    type: str
    required: true
  display_name:
    description:
      - The name shown in the AWS access portal and the console.
      - When the user is created without it, C(<given_name> <family_name>) is used. When omitted for an existing
        user, it is left as it is.
    type: str
  given_name:
    description:
      - The first name. Required to create a user (Identity Center requires it); left as it is when omitted.
    type: str
  family_name:
    description:
      - The last name. Required to create a user (Identity Center requires it); left as it is when omitted.
    type: str
  email:
    description:
      - The primary email address. When omitted, the user name (an email address) is used, on creation and on
        every later run.
      - Only the primary address is managed; other addresses the user has (for example from SCIM) are kept.
    type: str
  nickname:
    description:
      - The nickname. Leave out to keep the value the user has; an empty string removes it.
    type: str
  title:
    description:
      - The job title. Leave out to keep the value the user has; an empty string removes it.
    type: str
  preferred_language:
    description:
      - The preferred language, for example C(en-US). Leave out to keep the value the user has; an empty string
        removes it.
    type: str
  locale:
    description:
      - The locale, for example C(en_US). Leave out to keep the value the user has; an empty string removes it.
    type: str
  timezone:
    description:
      - The time zone, for example C(Europe/Paris). Leave out to keep the value the user has; an empty string
        removes it.
    type: str
  user_type:
    description:
      - A free-form user type, for example C(Employee) or C(Contractor). Leave out to keep the value the user has;
        an empty string removes it.
    type: str
  profile_url:
    description:
      - A URL of the user's profile. Leave out to keep the value the user has; an empty string removes it.
    type: str
  state:
    description:
      - V(present) creates the user or updates it in place; V(absent) deletes it (and its group memberships).
    type: str
    choices: [present, absent]
    default: present
notes:
  - Identity store calls go to the Region of the Identity Center instance (set O(region)).
  - Deleting a user removes its group memberships; account assignments made to the user stay in Identity Center
    until they are removed (M(idfed.aws_sso.account_assignment) with O(state=absent)).
  - When users are provisioned by SCIM from an identity provider, the provider overwrites attributes changed here
    at its next synchronisation. Manage such users at the provider.
seealso:
  - module: idfed.aws_sso.identity_store_group
  - module: idfed.aws_sso.identity_center_info
  - name: IdentityStore UpdateUser API reference
    description: The attributes Identity Center accepts and how an update replaces them.
    link: https://docs.aws.amazon.com/singlesignon/latest/IdentityStoreAPIReference/API_UpdateUser.html
"""

EXAMPLES = r"""
- name: Create a user whose user name matches the NameID the IdP sends
  idfed.aws_sso.identity_store_user:
    user_name: ada.lovelace@example.com
    given_name: Ada
    family_name: Lovelace
    title: Analyst
    region: eu-west-1

- name: Change the title in place, leaving every other attribute as it is
  idfed.aws_sso.identity_store_user:
    identity_store_id: d-93670c4a5b
    user_name: ada.lovelace@example.com
    title: Principal Analyst
    region: eu-west-1

- name: Remove an attribute with an empty string
  idfed.aws_sso.identity_store_user:
    user_name: ada.lovelace@example.com
    nickname: ""
    region: eu-west-1

- name: Preview the change without writing
  idfed.aws_sso.identity_store_user:
    user_name: grace.hopper@example.com
    given_name: Grace
    family_name: Hopper
    display_name: Rear Admiral Hopper
    region: eu-west-1
  check_mode: true
  diff: true
  register: preview

- name: Delete a user
  idfed.aws_sso.identity_store_user:
    user_name: former.colleague@example.com
    state: absent
    region: eu-west-1
"""

RETURN = r"""
outcome:
  description: What the task did (or would do in check mode).
  returned: always
  type: str
  choices: [created, updated, deleted, unchanged]
  sample: updated
identity_store_id:
  description: The identity store worked in (given, or discovered from the instance).
  returned: always
  type: str
  sample: d-93670c4a5b
before:
  description: The user before the task, C({}) when it did not exist. Same keys as RV(after).
  returned: always
  type: dict
  sample:
    user_name: ada.lovelace@example.com
    user_id: 9067a1b2c3-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d
    identity_store_id: d-93670c4a5b
    display_name: Ada Lovelace
    given_name: Ada
    family_name: Lovelace
    email: ada.lovelace@example.com
    nickname: ""
    title: Analyst
    preferred_language: ""
    locale: ""
    timezone: ""
    user_type: ""
    profile_url: ""
after:
  description:
    - The user after the task (predicted in check mode), C({}) when it is absent.
    - An attribute that is not set is an empty string.
  returned: always
  type: dict
  contains:
    user_name:
      description: The user name.
      type: str
    user_id:
      description: The user id, what account assignments and group memberships refer to. Unknown (absent) when
        check mode predicts a creation.
      type: str
    identity_store_id:
      description: The identity store holding the user.
      type: str
    display_name:
      description: The display name.
      type: str
    given_name:
      description: The first name.
      type: str
    family_name:
      description: The last name.
      type: str
    email:
      description: The primary email address.
      type: str
    nickname:
      description: The nickname.
      type: str
    title:
      description: The job title.
      type: str
    preferred_language:
      description: The preferred language.
      type: str
    locale:
      description: The locale.
      type: str
    timezone:
      description: The time zone.
      type: str
    user_type:
      description: The user type.
      type: str
    profile_url:
      description: The profile URL.
      type: str
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.idfed.aws_sso.plugins.module_utils._aws.identity_center import (
    EMAIL, IDENTITY_STORE_ARGUMENT_SPEC, IdentityCenterError, IdentityCenterErrorHandler, check_email_user_name,
    clients, find_user_id, identity_store_of, primary_email, with_primary_email)
from ansible_collections.idfed.aws_sso.plugins.module_utils._state import Plan, Spec, ensure

LIBRARIES = ("boto3", "botocore")

# option -> the User member of CreateUser/DescribeUser; UpdateUser's attribute path is its camelCase form.
ATTRIBUTES = {
    "display_name": "DisplayName",
    "nickname": "NickName",
    "title": "Title",
    "preferred_language": "PreferredLanguage",
    "locale": "Locale",
    "timezone": "Timezone",
    "user_type": "UserType",
    "profile_url": "ProfileUrl",
}
NAME_PARTS = {"given_name": "GivenName", "family_name": "FamilyName"}
# Identity Center requires these: they can change, never be removed.
REQUIRED = ("display_name", "given_name", "family_name", "email")
SPEC = Spec(read_only={"user_id", "identity_store_id"})


def attribute_path(member: str) -> str:
    return member[0].lower() + member[1:]


def user_view(user: dict) -> dict:
    """A DescribeUser answer in the module's terms; an unset attribute is "" so that "" can ask to remove one."""
    name = user.get("Name") or {}
    view = {
        "user_name": user["UserName"],
        "user_id": user["UserId"],
        "identity_store_id": user["IdentityStoreId"],
        "email": primary_email(user.get("Emails")) or "",
    }
    view.update({option: name.get(member, "") for option, member in NAME_PARTS.items()})
    view.update({option: user.get(member, "") for option, member in ATTRIBUTES.items()})
    return view


def check_input(params: dict) -> str | None:
    """What can be refused before any call."""
    if params["state"] == "absent":
        return None if params["user_name"] else "user_name cannot be empty."
    problem = check_email_user_name(params["user_name"], "user_name")
    if problem:
        return problem
    if params["email"] is not None and not EMAIL.match(params["email"]):
        return "email: {0!r} is not an email address.".format(params["email"])
    empty = [option for option in REQUIRED if params[option] == ""]
    if empty:
        return "{0} cannot be empty: Identity Center requires a value.".format(", ".join(empty))
    return None


def desired_user(params: dict, before: dict | None) -> dict:
    """The user the task asks for; None values are left as they are."""
    desired = {"user_name": params["user_name"], "email": params["email"] or params["user_name"]}
    desired.update({option: params[option] for option in (*NAME_PARTS, *ATTRIBUTES)})
    if before is not None:
        return desired
    # A new user: fill what Identity Center requires, and spell every unset attribute as the view does.
    desired.update({option: "" for option in ATTRIBUTES if desired[option] is None})
    if not desired["display_name"]:
        desired["display_name"] = "{0} {1}".format(desired["given_name"], desired["family_name"])
    return desired


def check_creatable(desired: dict) -> str | None:
    missing = [option for option in NAME_PARTS if not desired[option]]
    if missing:
        return ("{0} required to create the user {1}: Identity Center requires a given and a family name."
                .format(" and ".join(missing) + (" are" if len(missing) > 1 else " is"), desired["user_name"]))
    return None


@IdentityCenterErrorHandler.list_error_handler("describe the user")
def describe_user(identitystore, store_id: str, user_id: str) -> dict | None:
    return identitystore.describe_user(aws_retry=True, IdentityStoreId=store_id, UserId=user_id)


@IdentityCenterErrorHandler.common_error_handler("create the user")
def create_user(identitystore, store_id: str, user: dict) -> str:
    arguments = {
        "IdentityStoreId": store_id,
        "UserName": user["user_name"],
        "Name": {member: user[option] for option, member in NAME_PARTS.items()},
        "Emails": with_primary_email([], user["email"]),
    }
    arguments.update({member: user[option] for option, member in ATTRIBUTES.items() if user[option]})
    return identitystore.create_user(aws_retry=True, **arguments)["UserId"]


def update_operations(planned: Plan, emails: list[dict] | None) -> list[dict]:
    """One UpdateUser operation per changed attribute; an empty value removes the attribute (null)."""
    operations = []
    for option in planned.changed_keys:
        value = planned.after[option]
        if option == "user_name":  # found under another spelling (a case-insensitive match): take the task's
            operations.append({"AttributePath": "userName", "AttributeValue": value})
        elif option == "email":
            operations.append({"AttributePath": "emails", "AttributeValue": with_primary_email(emails, value)})
        elif option in NAME_PARTS:
            operations.append({"AttributePath": "name." + attribute_path(NAME_PARTS[option]), "AttributeValue": value})
        else:
            operations.append({"AttributePath": attribute_path(ATTRIBUTES[option]), "AttributeValue": value or None})
    return operations


@IdentityCenterErrorHandler.common_error_handler("update the user")
def update_user(identitystore, store_id: str, user_id: str, operations: list[dict]) -> None:
    identitystore.update_user(aws_retry=True, IdentityStoreId=store_id, UserId=user_id, Operations=operations)


@IdentityCenterErrorHandler.deletion_error_handler("delete the user")
def delete_user(identitystore, store_id: str, user_id: str) -> None:
    identitystore.delete_user(aws_retry=True, IdentityStoreId=store_id, UserId=user_id)


def run(module: AnsibleAWSModule) -> dict:
    params = module.params
    sso_admin, identitystore = clients(module)
    store_id = identity_store_of(module, sso_admin)
    user_id = find_user_id(identitystore, store_id, params["user_name"])
    found = describe_user(identitystore, store_id, user_id) if user_id else None
    before = user_view(found) if found else None

    desired = None
    if params["state"] == "present":
        desired = desired_user(params, before)
        problem = check_creatable(desired) if before is None else None
        if problem:
            module.fail_json(msg=problem)

    def create(planned: Plan) -> dict:
        new_id = create_user(identitystore, store_id, planned.after)
        return dict(planned.after, user_id=new_id, identity_store_id=store_id)

    def update(planned: Plan) -> None:
        update_user(identitystore, store_id, before["user_id"], update_operations(planned, found.get("Emails")))

    def delete(_planned: Plan) -> None:
        delete_user(identitystore, store_id, before["user_id"])

    result = ensure(module, SPEC, before, desired, state=params["state"], create=create, update=update, delete=delete)
    return dict(result.as_dict(), identity_store_id=store_id)


def main() -> None:
    argument_spec = dict(
        user_name=dict(type="str", required=True),
        display_name=dict(type="str"),
        given_name=dict(type="str"),
        family_name=dict(type="str"),
        email=dict(type="str"),
        nickname=dict(type="str"),
        title=dict(type="str"),
        preferred_language=dict(type="str"),
        locale=dict(type="str"),
        timezone=dict(type="str"),
        user_type=dict(type="str"),
        profile_url=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        **IDENTITY_STORE_ARGUMENT_SPEC,
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    problem = check_input(module.params)
    if problem:
        module.fail_json(msg=problem)
    try:
        module.exit_json(**run(module))
    except IdentityCenterError as error:
        module.fail_json_aws_error(error)


if __name__ == "__main__":
    main()
