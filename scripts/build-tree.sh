#!/usr/bin/env bash
# Build <tree>/ansible_collections with a copy of this checkout as idfed.aws_sso and the dependency
# collections that the `ansible` pip package ships. ansible-test needs the collection to really sit
# at ansible_collections/<namespace>/<name> (it resolves symlinks) and its dependencies in the same tree.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tree=${1:-$root/build/collections}
python=${PYTHON:-$root/.venv/bin/python}
site=$("$python" -c 'import ansible_collections, os; print(os.path.dirname(list(ansible_collections.__path__)[0]))')
dest="$tree/ansible_collections/idfed/aws_sso"
rm -rf "$dest"
mkdir -p "$dest" "$tree/ansible_collections/amazon"
# What git would test: tracked files plus new files that are not ignored.
(cd "$root" && git ls-files -z --cached --others --exclude-standard \
  | tar --null --files-from=- --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$dest"
# The tree sits inside this checkout's ignored build/ folder: give the copy its own git index, or
# ansible-test would list files through the outer repository and find none.
(cd "$dest" && git init -q && git add -A)
ln -sfn "$site/ansible_collections/amazon/aws" "$tree/ansible_collections/amazon/aws"
echo "$dest"
