# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print, as JSON, the identity store as the server holds it, and how it differs from an expected estate.

    read_store.py ENDPOINT [EXPECTED_JSON]

EXPECTED_JSON is {"users": [...], "groups": [...]} shaped as identity_store_sync's options. The output holds
"users" (user name -> attributes and id), "groups" (display name -> description, members, id), "duplicates"
(user names or group names found more than once, memberships listed twice) and "mismatches" (every way the store
differs from the expected estate: users and groups exactly those listed, attributes, descriptions, members).
"""

from __future__ import annotations

import json
import sys
from collections import Counter

import boto3

CREDENTIALS = {"region_name": "us-east-1", "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def pages(call, key: str, **kwargs) -> list:
    items, token = [], None
    while True:
        page = call(**kwargs, **({"NextToken": token} if token else {}))
        items += page[key]
        token = page.get("NextToken")
        if not token:
            return items


def read(endpoint: str) -> dict:
    sso = boto3.client("sso-admin", endpoint_url=endpoint, **CREDENTIALS)
    ids = boto3.client("identitystore", endpoint_url=endpoint, **CREDENTIALS)
    store = sso.list_instances()["Instances"][0]["IdentityStoreId"]
    users = pages(ids.list_users, "Users", IdentityStoreId=store)
    groups = pages(ids.list_groups, "Groups", IdentityStoreId=store)
    names = {user["UserId"]: user["UserName"] for user in users}
    state = {"users": {}, "groups": {}, "duplicates": []}
    for user in users:
        email = next((item["Value"] for item in user.get("Emails", []) if item.get("Primary")), None)
        state["users"][user["UserName"]] = {
            "id": user["UserId"], "display_name": user.get("DisplayName"), "given_name": user["Name"].get("GivenName"),
            "family_name": user["Name"].get("FamilyName"), "email": email}
    for group in groups:
        members = [names.get(item["MemberId"]["UserId"], item["MemberId"]["UserId"])
                   for item in pages(ids.list_group_memberships, "GroupMemberships", IdentityStoreId=store, GroupId=group["GroupId"])]
        state["duplicates"] += ["membership {0} in {1}".format(name, group["DisplayName"])
                                for name, count in Counter(members).items() if count > 1]
        state["groups"][group["DisplayName"]] = {"id": group["GroupId"], "description": group.get("Description", ""),
                                                 "members": sorted(members)}
    for kind, items, key in (("user", users, "UserName"), ("group", groups, "DisplayName")):
        state["duplicates"] += ["{0} {1}".format(kind, name) for name, count in Counter(i[key] for i in items).items() if count > 1]
    return state


def mismatches(state: dict, expected: dict) -> list[str]:
    found = []
    wanted_users = {user["user_name"]: user for user in expected["users"]}
    if set(wanted_users) != set(state["users"]):
        found.append("users: missing {0}, unexpected {1}".format(sorted(set(wanted_users) - set(state["users"])),
                                                                 sorted(set(state["users"]) - set(wanted_users))))
    for name, user in wanted_users.items():
        have = state["users"].get(name)
        want = {"display_name": user.get("display_name") or "{0} {1}".format(user["given_name"], user["family_name"]),
                "given_name": user["given_name"], "family_name": user["family_name"], "email": user.get("email") or name}
        if have is not None and {key: have[key] for key in want} != want:
            found.append("user {0}: {1} != {2}".format(name, have, want))
    wanted_groups = {group["display_name"]: group for group in expected["groups"]}
    if set(wanted_groups) != set(state["groups"]):
        found.append("groups: missing {0}, unexpected {1}".format(sorted(set(wanted_groups) - set(state["groups"])),
                                                                  sorted(set(state["groups"]) - set(wanted_groups))))
    for name, group in wanted_groups.items():
        have = state["groups"].get(name)
        if have is None:
            continue
        if group.get("description") is not None and have["description"] != group["description"]:
            found.append("group {0}: description {1!r} != {2!r}".format(name, have["description"], group["description"]))
        if group.get("members") is not None and have["members"] != sorted(group["members"]):
            found.append("group {0}: members {1} != {2}".format(name, have["members"], sorted(group["members"])))
    return found


def main(endpoint: str, expected: str | None = None) -> None:
    state = read(endpoint)
    state["mismatches"] = mismatches(state, json.loads(expected)) if expected else []
    print(json.dumps(state))


if __name__ == "__main__":
    main(*sys.argv[1:3])
