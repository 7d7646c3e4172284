# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The local stack of `make demo` and the end-to-end scenarios: moto (AWS APIs, with the idfed plug-in), the
AWS sign-in stand-in (Identity Center's SP metadata, console step, ACS and portal; aws_standin.py) and a real
LemonLDAP::NG IdP (lemonldap_ng.py), all on 127.0.0.1, each in a folder under --dir.

    python local_stack.py up --dir D [--idp lemonldap|zitadel|cloudflare]
                                            start all three (the IdP: LemonLDAP::NG for real, or the vendor's
                                            emulator); prints and writes D/stack.json
    python local_stack.py state --dir D     what the IdP and the stand-in hold (their /_control/state)
    python local_stack.py login --dir D --user dwho --password dwho
                                            a real SP-initiated SAML login: the stand-in's AuthnRequest, the
                                            IdP's login form, the SAMLResponse posted to the stand-in's ACS, then
                                            the portal's accounts; prints JSON, exit 0 signed in, 3 refused
    python local_stack.py login ... --forge re-sign the IdP's real response with a key the uploaded metadata does
                                            not hold (what an attacker without the IdP's key can do): refused
    python local_stack.py down --dir D      stop every process `up` started

`up` also writes D/federation.json: the variables of one federation on this stack (the
identity_center_federation role's idfed_* inputs, the console step's URL), read by `make demo` and the
lemonldap Molecule scenario alike.

LemonLDAP::NG keeps its keys and configuration in D/lemonldap between runs, as a real IdP does; moto holds its
state in memory, so a stack brought up again starts with an empty AWS.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import Any
from urllib.parse import urlsplit, urlunsplit

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import lemonldap_ng  # noqa: E402  pylint: disable=wrong-import-position

LAUNCHER = os.path.join(HERE, "moto_ext", "launcher.py")
STANDIN = os.path.join(HERE, "aws_standin.py")
LIFETIME = "3600"  # every server stops on its own after an hour, whatever happens to the caller


def _json_of(argv: list[str]) -> dict[str, Any]:
    return json.loads(subprocess.run(argv, check=True, capture_output=True, text=True).stdout)


EMULATORS = {"zitadel": "zitadel_emulator.py", "cloudflare": "cloudflare_emulator.py"}


def up(root: str, idp_name: str = "lemonldap") -> dict[str, Any]:
    os.makedirs(root, exist_ok=True)
    moto_dir, standin_dir, idp_dir = (os.path.join(root, name) for name in ("moto", "standin", idp_name))
    os.makedirs(moto_dir, exist_ok=True)
    # moto keeps its state in memory: a leftover one (and the stand-in reading it) is replaced, never reused.
    _stop_aws(root)
    moto = _json_of([sys.executable, LAUNCHER, "start", "--dir", moto_dir, "--max-lifetime", LIFETIME])
    standin = _json_of([sys.executable, STANDIN, "--dir", standin_dir, "--moto-url", moto["endpoint_url"],
                        "--background", "--max-lifetime", LIFETIME])
    stack = {
        "idp": idp_name,
        "moto_endpoint": moto["endpoint_url"],
        "standin_url": standin["https_url"],
        "standin_ca": os.path.join(standin_dir, "ca.pem"),
        "sp_metadata_url": standin["sp_metadata_url"],
        "identity_source_url": standin["identity_source_url"],
    }
    if idp_name == "lemonldap":
        idp = lemonldap_ng.start(idp_dir, max_lifetime=float(LIFETIME))
        stack["lemonldap"] = {key: idp[key] for key in ("portal_url", "metadata_url", "manager_api_url", "api_username",
                                                        "api_password", "ca", "idp_entity_id")}
    else:  # an emulator: a new one each time (its state is in memory, as moto's)
        script = os.path.join(HERE, EMULATORS[idp_name])
        subprocess.run([sys.executable, script, "--stop", idp_dir], check=False, capture_output=True)
        stack[idp_name] = _json_of([sys.executable, script, "--dir", idp_dir, "--background",
                                    "--max-lifetime", LIFETIME])
    _write_private(os.path.join(root, "stack.json"), stack)  # it holds the Manager API password
    _write_private(os.path.join(root, "federation.json"), federation_vars(stack, os.path.join(root, "artifacts")))
    return stack


def _write_private(path: str, data: Any) -> None:
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)


# dwho is provisioned and gets access; rtyler, the IdP's other demo user, is not.
USERS = [{"user_name": "dwho@badwolf.org", "given_name": "Doctor", "family_name": "Who"}]
GROUPS = [{"display_name": "platform", "members": ["dwho@badwolf.org"]}]
PERMISSION_SETS = [
    {"name": "ReadOnly", "managed_policies": ["arn:aws:iam::aws:policy/ReadOnlyAccess"], "session_duration": "PT4H"},
    {"name": "PlatformAdmin", "managed_policies": ["arn:aws:iam::aws:policy/AdministratorAccess"],
     "session_duration": "PT1H"},
]
ASSIGNMENTS = [
    {"principal_type": "GROUP", "principal": "platform", "permission_set": "ReadOnly", "account_id": "111111111111"},
    {"principal_type": "GROUP", "principal": "platform", "permission_set": "ReadOnly", "account_id": "222222222222"},
    {"principal_type": "USER", "principal": "dwho@badwolf.org", "permission_set": "PlatformAdmin",
     "account_id": "222222222222"},
]


def idp_vars(stack: dict[str, Any]) -> dict[str, Any]:
    """The role's settings for the stack's IdP: its API, credentials and CA."""
    if stack["idp"] == "zitadel":
        idp = stack["zitadel"]
        return {"idfed_zitadel_api_url": idp["issuer"], "idfed_zitadel_token": idp["pat"],
                "idfed_zitadel_organization_id": idp["org_id"], "idfed_idp_ca_path": idp["ca"],
                "idfed_idp_metadata_ca_path": idp["ca"]}
    if stack["idp"] == "cloudflare":
        idp = stack["cloudflare"]
        return {"idfed_cloudflare_api_url": idp["api_url"], "idfed_cloudflare_api_token": idp["api_token"],
                "idfed_cloudflare_account_id": idp["account_id"], "idfed_cloudflare_policies": ["Employees"],
                "idfed_idp_ca_path": idp["ca"], "idfed_idp_metadata_ca_path": idp["ca"]}
    idp = stack["lemonldap"]
    return {"idfed_lemonldap_api_url": idp["manager_api_url"], "idfed_lemonldap_api_username": idp["api_username"],
            "idfed_lemonldap_api_password": idp["api_password"], "idfed_lemonldap_portal_url": idp["portal_url"],
            "idfed_idp_ca_path": idp["ca"], "idfed_idp_metadata_ca_path": idp["ca"]}


def federation_vars(stack: dict[str, Any], artifact_dir: str) -> dict[str, Any]:
    """Extra variables for playbooks/demo.yml: one federation with the stack's IdP, manual provisioning."""
    federation = {
        "idfed_idp_provider": stack["idp"], "idfed_federation_name": "demo",
        "idfed_sp_metadata_url": stack["sp_metadata_url"], "idfed_sp_metadata_ca_path": stack["standin_ca"],
        "idfed_aws_endpoint_url": stack["moto_endpoint"], "idfed_aws_region": "us-east-1",
        "idfed_aws_access_key": "testing", "idfed_aws_secret_key": "testing",
        "idfed_artifact_dir": artifact_dir,
        "idfed_users": USERS, "idfed_groups": GROUPS, "idfed_permission_sets": PERMISSION_SETS,
        "idfed_assignments": ASSIGNMENTS,
        **idp_vars(stack),
    }
    return {"demo_federation": federation, "demo_console_upload_url": stack["identity_source_url"],
            "demo_console_ca_path": stack["standin_ca"]}


def state(root: str) -> dict[str, Any]:
    """What the IdP and the stand-in now hold, from their control endpoints (not from the modules)."""
    from test_server import ControlClient  # pylint: disable=import-outside-toplevel

    with open(os.path.join(root, "stack.json"), encoding="utf-8") as handle:
        stack = json.load(handle)
    idp_info = stack[stack["idp"]] if stack["idp"] != "lemonldap" else lemonldap_ng.read_info(
        os.path.join(root, "lemonldap"))
    return {"idp": ControlClient(idp_info).state(),
            "standin": ControlClient(os.path.join(root, "standin")).state()}


def _stop_emulators(root: str) -> None:
    for name, script in EMULATORS.items():
        subprocess.run([sys.executable, os.path.join(HERE, script), "--stop", os.path.join(root, name)], check=False,
                       capture_output=True)


def _stop_aws(root: str) -> None:
    subprocess.run([sys.executable, STANDIN, "--stop", os.path.join(root, "standin")], check=False,
                   capture_output=True)
    subprocess.run([sys.executable, LAUNCHER, "stop", "--dir", os.path.join(root, "moto")], check=False,
                   capture_output=True)


def down(root: str) -> None:
    _stop_aws(root)
    _stop_emulators(root)
    lemonldap_ng.stop(os.path.join(root, "lemonldap"))


def forged(saml_response: str) -> str:
    """The IdP's real response with its signatures replaced by a fresh key's (as an attacker could sign it)."""
    import base64  # pylint: disable=import-outside-toplevel
    from lxml import etree  # pylint: disable=import-outside-toplevel
    import saml_factory  # pylint: disable=import-outside-toplevel

    root = etree.fromstring(base64.b64decode(saml_response))
    for signature in root.iter("{http://www.w3.org/2000/09/xmldsig#}Signature"):
        signature.getparent().remove(signature)
    issued = saml_factory.make_certificate(saml_factory.make_key("rsa", 2048, index=7), subject_cn="attacker")
    signed = saml_factory.sign_saml_response(etree.tostring(root), issued, what="both")
    return base64.b64encode(signed).decode("ascii")


def login(root: str, user: str, password: str, forge: bool = False) -> tuple[int, dict[str, Any]]:
    import requests  # pylint: disable=import-outside-toplevel

    with open(os.path.join(root, "stack.json"), encoding="utf-8") as handle:
        stack = json.load(handle)
    standin = requests.Session()
    standin.trust_env = False  # else REQUESTS_CA_BUNDLE replaces verify, and a proxy variable catches 127.0.0.1
    standin.verify = stack["standin_ca"]
    start = standin.get(stack["standin_url"] + "/login", allow_redirects=False, timeout=30)
    if start.status_code != 302:
        return 3, {"signed_in": False, "step": "AuthnRequest", "status": start.status_code, "answer": start.text}
    try:
        acs_url, response, relay_state = lemonldap_ng.login(start.headers["Location"], user, password,
                                                            server=os.path.join(root, "lemonldap"))
    except lemonldap_ng.LoginError as error:
        return 3, {"signed_in": False, "step": "IdP login", "reason": str(error)}
    # The browser would post to https://<region>.signin.aws/...: the stand-in plays that host.
    local = urlsplit(stack["standin_url"])
    posted = urlunsplit(urlsplit(acs_url)._replace(scheme=local.scheme, netloc=local.netloc))
    form = {"SAMLResponse": forged(response) if forge else response, **({"RelayState": relay_state} if relay_state else {})}
    answer = standin.post(posted, data=form, timeout=30)
    if answer.status_code != 200:
        return 3, {"signed_in": False, "step": "ACS", "acs_url": acs_url, **answer.json()}
    session = answer.json()
    portal = standin.get(stack["standin_url"] + "/portal/accounts", params={"session": session["session"]},
                         timeout=30).json()
    granted = sorted({"{0}/{1}".format(item["account_id"], item["permission_set"]) for item in portal["assignments"]})
    return 0, {"signed_in": True, "user": session["user"], "acs_url": acs_url, "accounts": portal["accounts"],
               "granted": granted}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("action", choices=("up", "down", "login", "state"))
    parser.add_argument("--idp", choices=("lemonldap",) + tuple(EMULATORS), default="lemonldap",
                        help="up: the IdP (LemonLDAP::NG for real, or an emulator)")
    parser.add_argument("--dir", required=True)
    parser.add_argument("--user", default="dwho")
    parser.add_argument("--password", default="dwho")
    parser.add_argument("--forge", action="store_true", help="re-sign the response with a key the IdP does not hold")
    args = parser.parse_args(argv)
    root = os.path.abspath(args.dir)
    if args.action == "up":
        missing = lemonldap_ng.missing_packages() if args.idp == "lemonldap" else []
        if missing:
            sys.stderr.write("local_stack: LemonLDAP::NG is not installed (missing: {0}); run `make system-deps`\n"
                             .format(", ".join(missing)))
            return 2
        print(json.dumps(up(root, args.idp), indent=2))
        return 0
    if args.action == "state":
        print(json.dumps(state(root), indent=2, default=str))
        return 0
    if args.action == "down":
        down(root)
        print("stopped")
        return 0
    status, result = login(root, args.user, args.password, args.forge)
    print(json.dumps(result, indent=2))
    return status


if __name__ == "__main__":
    sys.exit(main())
