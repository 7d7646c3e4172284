#!/usr/bin/env bash
# Install the Debian packages that `make test` and `make bench` need, when any is missing:
# xmlsec1 is the peer pysaml2 calls (tests and benchmark); the -dev packages build lxml/xmlsec wheels
# if pip must; shellcheck lets ansible-test sanity check the shell scripts instead of skipping them.
# Needs root or sudo only when something is missing; elsewhere (not Debian) it names what to install.
set -euo pipefail

python=${PYTHON:-python3.11}
# lemonldap-ng, its FastCGI server, nginx and the Lasso SAML engine are the real IdP the lemonldap_saml_sp tests
# and the demo run on 127.0.0.1 (tests/support/lemonldap_ng.py); Recommends stay on, or its portal answers HTTP 500.
packages=(xmlsec1 libxml2-dev libxslt1-dev libxmlsec1-dev pkg-config git make tar shellcheck
          lemonldap-ng lemonldap-ng-fastcgi-server nginx liblasso-perl)
if ! command -v "$python" >/dev/null; then
  echo "error: $python is required (Python 3.11: ansible-core 2.19 is the newest that runs on it)" >&2
  exit 1
fi
# A Debian python3.11 makes venvs only with python3.11-venv (a pyenv or python.org build has ensurepip).
"$python" -c 'import ensurepip' 2>/dev/null || packages+=("$(basename "$python")-venv")

if ! command -v dpkg >/dev/null; then
  command -v xmlsec1 >/dev/null || echo "warning: install xmlsec1 (see bindep.txt [test]) or the pysaml2 tests fail" >&2
  exit 0
fi
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo)
else
  echo "error: missing Debian packages: ${missing[*]}; install them as root: apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "Installing ${missing[*]}"
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq -o APT::Install-Recommends=true "${missing[@]}" \
  > /dev/null 2> >(grep -v 'since apt-utils is not installed' >&2)
# The tests run their own private nginx and FastCGI server: Debian's services, started by the install where
# systemd runs, are not wanted (nginx would hold port 80). Only those this run installed are stopped.
if [ -d /run/systemd/system ]; then
  for service in nginx lemonldap-ng-fastcgi-server; do
    if [[ " ${missing[*]} " == *" $service "* ]]; then
      "${as_root[@]}" systemctl disable --now --quiet "$service" 2>/dev/null || true
    fi
  done
fi
