#!/usr/bin/env bash
# The identity_center_federation role, generic provider, end to end against moto and the metadata server:
# bad input and the console stop (tests.yml), a converge, a second converge that must report changed=0 and send no
# write (converge.yml twice, verify.yml), and a check-mode run on the converged state.
set -euo pipefail

support="$(cd ../../../support && pwd)"
work="$(mktemp -d)"
python="$(command -v python)"
stop() {
  "$python" "$support/moto_ext/launcher.py" stop --dir "$work/moto" >/dev/null 2>&1 || true
  "$python" "$support/metadata_server.py" --stop "$work/metadata" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap stop EXIT

mkdir -p "$work/moto" "$work/metadata"
moto_endpoint="$("$python" "$support/moto_ext/launcher.py" start --dir "$work/moto" --max-lifetime 900 \
  | "$python" -c 'import json, sys; print(json.load(sys.stdin)["endpoint_url"])')"
metadata="$("$python" "$support/metadata_server.py" --dir "$work/metadata" --background --max-lifetime 900)"
metadata_url="$("$python" -c 'import json, sys; print(json.loads(sys.argv[1])["https_url"])' "$metadata")"
metadata_ca="$("$python" -c 'import json, sys; print(json.loads(sys.argv[1])["ca"])' "$metadata")"

run() {
  ansible-playbook -i "${INVENTORY_PATH:-localhost,}" -c local -e "ansible_python_interpreter=$python" \
    -e "moto_endpoint=$moto_endpoint" -e "metadata_server_url=$metadata_url" -e "metadata_server_ca=$metadata_ca" \
    -e "work_dir=$work" -e "aws_cli_script=$(pwd)/../setup_moto/files/aws.py" "$@"
}

timed() {
  local started=$SECONDS
  "$@"
  echo "TIMING $((SECONDS - started))s: ${*:2:2}"
}

timed run tests.yml "$@"
timed run converge.yml "$@"
timed run converge.yml "$@" | tee "$work/second.log"
grep -Eq 'localhost +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=0' "$work/second.log" \
  || { echo 'The second converge changed something (expected changed=0).'; exit 1; }
timed run verify.yml "$@"
timed run converge.yml --check "$@" | tee "$work/check.log"
grep -Eq 'localhost +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=0' "$work/check.log" \
  || { echo 'The check-mode run on the converged state predicted a change (expected changed=0).'; exit 1; }
timed run verify.yml "$@"

# The audit playbook on the converged state, in check mode, with one listed user who is not provisioned: it writes
# its report and nothing else (verify.yml again: no write reached moto, the store is as the converge left it).
timed run idfed.aws_sso.audit_federation --check -e federation_hosts=localhost -e @vars.yml -e "audit_report_path=$work/audit/report.json" \
  -e '{"idfed_users": [{"user_name": "ada.lovelace@example.com", "given_name": "Ada", "family_name": "Lovelace"},
                        {"user_name": "grace.hopper@example.com", "given_name": "Grace", "family_name": "Hopper"},
                        {"user_name": "linus@example.com", "given_name": "Linus", "family_name": "Torvalds"}]}' "$@"
"$python" - "$work/audit/report.json" <<'PYTHON'
import json, sys
report = json.load(open(sys.argv[1]))["federations"]["localhost"]
assert report["sp_metadata_belongs"] is True, report
assert report["idp_drift"] is None, report  # generic: configured by hand
assert report["metadata_valid"] is True, report
assert int(report["certificate_days_left"]) > 300, report
assert report["users_not_provisioned"] == ["linus@example.com"], report
assert report["users_drifted"] == [], report
print("audit report OK")
PYTHON
timed run verify.yml "$@"
