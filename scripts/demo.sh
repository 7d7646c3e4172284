#!/usr/bin/env bash
# `make demo`: the whole federation procedure on the local stack, then a real SAML login.
#   1. brings up moto (the AWS APIs), the AWS sign-in stand-in (Identity Center's SP metadata, the console's
#      "change identity source" step, its ACS and portal) and a real LemonLDAP::NG IdP, all on 127.0.0.1
#      (tests/support/local_stack.py; state under build/demo);
#   2. runs playbooks/demo.yml: the identity_center_federation role with provider lemonldap and manual
#      provisioning, the console step played on the stand-in, then the same playbook again (changed=0);
#   3. signs in as dwho (provisioned: lists his accounts) and as rtyler (not provisioned: refused), and posts
#      dwho's response re-signed with a key the uploaded metadata does not hold (refused);
#   4. stops every process it started. LemonLDAP::NG keeps its keys and configuration in build/demo (or
#      /tmp/idfed-aws_sso-demo, see below) between runs; `make demo-clean` removes them.
# Environment: VENV (default .venv), ANSIBLE_COLLECTIONS_PATH (default: the tree under build/).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv=${VENV:-$root/.venv}
python=$venv/bin/python
# LemonLDAP::NG runs as www-data, which must reach its folder: build/demo unless a folder above the checkout is
# closed to others (a checkout under /root), then DEMO_DIR or /tmp/idfed-aws_sso-demo.
demo=${DEMO_DIR:-$root/build/demo}
if [[ -z "${DEMO_DIR:-}" ]] && ! "${VENV:-$root/.venv}/bin/python" -c '
import os, stat, sys
path = sys.argv[1]
while path != "/":
    if os.path.exists(path) and not os.stat(path).st_mode & stat.S_IXOTH:
        sys.exit(1)
    path = os.path.dirname(path)' "$demo"; then
  demo=/tmp/idfed-aws_sso-demo
  echo "note: $root is not reachable by www-data (LemonLDAP::NG's user): the demo's state goes to $demo"
fi
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$root/build/collections}
if [[ ! -f "$ANSIBLE_COLLECTIONS_PATH/ansible_collections/idfed/aws_sso/galaxy.yml" ]]; then
  PYTHON=$python "$root/scripts/build-tree.sh" "$ANSIBLE_COLLECTIONS_PATH" >/dev/null
fi
export ANSIBLE_LOCALHOST_WARNING=False ANSIBLE_INVENTORY_UNPARSED_WARNING=False ANSIBLE_DISPLAY_SKIPPED_HOSTS=False
stack() { "$python" "$root/tests/support/local_stack.py" "$@" --dir "$demo"; }
trap 'stack down >/dev/null 2>&1 || true' EXIT
trap 'exit 130' INT TERM

echo "== 1. The local stack: moto, the AWS sign-in stand-in, LemonLDAP::NG (127.0.0.1)"
stack up >/dev/null
"$python" - "$demo/stack.json" <<'PY'
import json, sys
stack = json.load(open(sys.argv[1]))
print("   AWS APIs (moto)          {0}".format(stack["moto_endpoint"]))
print("   Identity Center SP       {0}".format(stack["sp_metadata_url"]))
print("   LemonLDAP::NG portal     {0} (Manager API {1})".format(stack["lemonldap"]["portal_url"],
                                                               stack["lemonldap"]["manager_api_url"]))
PY

run_playbook() {
  "$venv/bin/ansible-playbook" "$root/playbooks/demo.yml" -e "@$demo/federation.json" | tee "$demo/$1.log"
}
echo "== 2. playbooks/demo.yml: the whole procedure (the console step played on the stand-in)"
run_playbook first
echo "== 2b. The same playbook again: nothing to change"
run_playbook second >/dev/null
grep -E '^localhost +:' "$demo/second.log" | sed 's/^/   second run: /'
if ! grep -qE '^localhost +: .*changed=0 ' "$demo/second.log"; then
  echo "error: the second run changed something (see $demo/second.log)" >&2
  exit 1
fi

echo "== 3. A real SAML login: dwho (provisioned) through LemonLDAP::NG to the Identity Center stand-in"
stack login --user dwho --password dwho >"$demo/login-dwho.json"
"$python" - "$demo/login-dwho.json" <<'PY'
import json, sys
result = json.load(open(sys.argv[1]))
print("   signed in as {0} (ACS {1})".format(result["user"], result["acs_url"]))
for account in result["accounts"]:
    print("   account {0}: {1}".format(account["account_id"],
                                     ", ".join(item["name"] for item in account["permission_sets"])))
PY
echo "== 3b. rtyler is a LemonLDAP::NG user who was not provisioned in Identity Center"
if stack login --user rtyler --password rtyler >"$demo/login-rtyler.json"; then
  echo "error: rtyler signed in although not provisioned" >&2
  exit 1
fi
"$python" -c 'import json,sys; r=json.load(open(sys.argv[1])); print("   refused at the {0}: {1} ({2})".format(r["step"], r.get("reason"), r.get("message", "")))' "$demo/login-rtyler.json"
echo "== 3c. dwho's real response re-signed with a key that is not in the uploaded IdP metadata"
if stack login --user dwho --password dwho --forge >"$demo/login-forged.json"; then
  echo "error: a response signed by an unknown key was accepted" >&2
  exit 1
fi
"$python" -c 'import json,sys; r=json.load(open(sys.argv[1])); print("   refused at the {0}: {1} ({2})".format(r["step"], r.get("reason"), r.get("message", "")))' "$demo/login-forged.json"
echo "== Done: the artifact is in $demo/artifacts; \`make demo-clean\` removes the demo's state"
