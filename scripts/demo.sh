#!/usr/bin/env bash
# `make demo`: serve an IdP's SAML metadata over HTTPS on 127.0.0.1 (with its own CA), then run
# playbooks/demo.yml, which validates it and an IAM Identity Center SP metadata file with the
# idfed.aws_sso.metadata_validation role, prints the findings and writes the upload-ready IdP metadata.
#
# Environment: VENV (default .venv), ANSIBLE_COLLECTIONS_PATH (default: the tree under build/, built
# with scripts/build-tree.sh when missing), DEMO_DEST (default build/demo/idp-metadata.xml),
# DEMO_SP_PATH (default: the synthetic Identity Center sample of ../shared/corpus, else the served /sp.xml).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv=${VENV:-$root/.venv}
python=$venv/bin/python

if [[ -z "${ANSIBLE_COLLECTIONS_PATH:-}" ]]; then
  for candidate in "$root/build/collections" "$root/build"; do
    if [[ -f "$candidate/ansible_collections/idfed/aws_sso/galaxy.yml" ]]; then
      ANSIBLE_COLLECTIONS_PATH=$candidate
      break
    fi
  done
  if [[ -z "${ANSIBLE_COLLECTIONS_PATH:-}" ]]; then
    PYTHON=$python "$root/scripts/build-tree.sh" >/dev/null
    ANSIBLE_COLLECTIONS_PATH=$root/build/collections
  fi
fi
export ANSIBLE_COLLECTIONS_PATH
# Implicit localhost (runs with this venv's python); no inventory needed.
export ANSIBLE_LOCALHOST_WARNING=False ANSIBLE_INVENTORY_UNPARSED_WARNING=False
export ANSIBLE_FORCE_COLOR=${ANSIBLE_FORCE_COLOR:-$([[ -t 1 ]] && echo 1 || echo 0)}

state=$(mktemp -d "${TMPDIR:-/tmp}/idfed-demo.XXXXXX")
stop_server() {
  "$python" "$root/tests/support/metadata_server.py" --stop "$state" >/dev/null 2>&1 || true
  rm -rf "$state"
}
trap stop_server EXIT
trap 'exit 130' INT TERM

echo "== Starting the local metadata server (HTTPS with its own CA, 127.0.0.1)"
info=$("$python" "$root/tests/support/metadata_server.py" --dir "$state" --background --max-lifetime 900)
https_url=$("$python" -c 'import json, sys; print(json.loads(sys.argv[1])["https_url"])' "$info")
ca_path=$state/ca.pem
echo "   $https_url/idp.xml (CA: $ca_path)"

sp_path=${DEMO_SP_PATH:-}
sample="$root/../shared/corpus/saml/sp/aws-iam-identity-center__synthetic__us-east-1-dualstack.xml"
if [[ -z "$sp_path" && -f "$sample" ]]; then
  sp_path=$(cd "$(dirname "$sample")" && pwd)/$(basename "$sample")
fi
if [[ -z "$sp_path" ]]; then
  sp_path=$state/identity-center-sp-metadata.xml
  "$python" - "$https_url/sp.xml" "$ca_path" "$sp_path" <<'EOF'
import ssl, sys, urllib.request
url, ca, dest = sys.argv[1:]
with urllib.request.urlopen(url, context=ssl.create_default_context(cafile=ca), timeout=30) as response:
    open(dest, "wb").write(response.read())
EOF
fi
echo "   Identity Center SP metadata: $sp_path"

dest=${DEMO_DEST:-$root/build/demo/idp-metadata.xml}
echo "== Running playbooks/demo.yml"
"$venv/bin/ansible-playbook" "$root/playbooks/demo.yml" \
  -e "demo_idp_url=$https_url/idp.xml" \
  -e "demo_expired_url=$https_url/expired.xml" \
  -e "demo_ca_path=$ca_path" \
  -e "demo_sp_path=$sp_path" \
  -e "demo_dest=$dest"
echo "== Upload-ready IdP metadata: $dest ($(wc -c <"$dest") bytes)"
