# Offline stand-in for ansible-test's get-pip bootstrap (https://github.com/ansible/ansible/issues/77304).
# ansible-test downloads get-pip-24.2.py for every venv it makes; with no internet, `make` copies this
# file to ~/.ansible/test/cache/get_pip_24_2.py: it bootstraps pip from ensurepip, then lets pip
# (configured with the machine's package indexes) install what ansible-test asked for.
import ensurepip
import os
import subprocess
import sys

saved = {name: os.environ.get(name) for name in ("PIP_CONFIG_FILE", "ENSUREPIP_OPTIONS")}
ensurepip.bootstrap(upgrade=True)
for name, value in saved.items():  # ensurepip sets both; they would hide the machine's pip config
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
if args:
    sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--upgrade"] + args))
