# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""idp: the requests each IdP module sends for a create, a no-op re-run and an update (new ACS URLs in the SP),
counted from the server's request log, next to the fewest the vendor's API needs. Cloudflare and ZITADEL against
their emulators, LemonLDAP::NG for real (through the fault layer's proxy, which logs). Each run is a real
ansible-playbook over the built tree. Target: the no-op re-run sends no write and only the reads that find the
application and compare it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

import lemonldap_ng  # tests/support, on sys.path through bench/__init__.py
from test_server import ControlClient

from . import ROOT
from .aws import playbook_env, run_playbook
from .runner import Report, print_table
from .startup import build_tree

SUPPORT = ROOT / "tests" / "support"
ISSUER = "https://us-east-1.signin.aws.amazon.com/platform/saml/d-1234567890"
ACS = "https://us-east-1.signin.aws/platform/saml/acs/6e0b2f4c-1111-2222-3333-444455556666"
# The update: the instance was recreated (another ACS tenant) with a second Region: a change every vendor registers
# (Cloudflare takes the primary Region's ACS URL alone).
UPDATED_ACS = ["https://us-east-1.signin.aws/platform/saml/acs/6e0b2f4c-1111-2222-3333-777788889999",
               "https://eu-west-1.signin.aws/platform/saml/acs/6e0b2f4c-1111-2222-3333-777788889999"]
PHASES = ("create", "no-op re-run", "update")
# The fewest requests each phase needs: find the app (one listing or look-up), then the one write it asks for.
# Cloudflare: GET apps?name=..; POST | PUT. ZITADEL v2 (project found by name, created on the first run):
# ListProjects (+ CreateProject), ListApplications, CreateApplication | UpdateApplication. LemonLDAP::NG: GET the SP by
# conf key; POST | PATCH.
MINIMUM = {"cloudflare": {"create": (1, 1), "no-op re-run": (1, 0), "update": (1, 1)},
           "zitadel": {"create": (1, 2), "no-op re-run": (2, 0), "update": (2, 1)},
           "lemonldap": {"create": (1, 1), "no-op re-run": (1, 0), "update": (1, 1)}}
READ_OPERATIONS = ("/List", "/Get", "_search")  # POST reads: ZITADEL's Connect and v1 search calls


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument_group("idp")  # no options: three small runs per vendor


def is_write(entry: dict[str, Any]) -> bool:
    method, path = entry.get("method", "GET"), entry.get("path", "")
    if method in ("GET", "HEAD"):
        return False
    return not (method == "POST" and any(marker in path for marker in READ_OPERATIONS))


def _emulator(script: str, folder: Path) -> dict[str, Any]:
    completed = subprocess.run([sys.executable, str(SUPPORT / script), "--dir", str(folder), "--background",
                                "--max-lifetime", "900"], check=True, capture_output=True, text=True)
    return json.loads(completed.stdout)


def _stop_emulator(script: str, folder: Path) -> None:
    subprocess.run([sys.executable, str(SUPPORT / script), "--stop", str(folder)], check=False, capture_output=True)


def cloudflare(folder: Path) -> tuple[str, dict, dict, Callable[[], None]]:
    info = _emulator("cloudflare_emulator.py", folder)
    args = {"api_url": info["api_url"], "account_id": info["account_id"], "api_token": info["api_token"],
            "ca_path": info["ca"], "name": "AWS IAM Identity Center"}
    return "idfed.aws_sso.cloudflare_access_saas_app", args, info, lambda: _stop_emulator("cloudflare_emulator.py", folder)


def zitadel(folder: Path) -> tuple[str, dict, dict, Callable[[], None]]:
    info = _emulator("zitadel_emulator.py", folder)
    args = {"api_url": info["issuer"], "token": info["pat"], "organization_id": info["org_id"], "project": "AWS",
            "ca_path": info["ca"], "check_login_policy": False}
    return "idfed.aws_sso.zitadel_saml_app", args, info, lambda: _stop_emulator("zitadel_emulator.py", folder)


def lemonldap(folder: Path) -> tuple[str, dict, dict, Callable[[], None]]:
    info = lemonldap_ng.start(str(folder))
    args = {"api_url": info["manager_api_proxy_url"], "api_username": info["api_username"],
            "api_password": info["api_password"], "ca_path": info["ca"]}
    return "idfed.aws_sso.lemonldap_saml_sp", args, info, lambda: lemonldap_ng.stop(str(folder))


VENDORS = {"cloudflare": cloudflare, "zitadel": zitadel, "lemonldap": lemonldap}


def phase_playbook(path: Path, module: str, args: dict, acs_urls: list[str]) -> Path:
    options = dict(args, sp_entity_id=ISSUER, sp_acs_urls=acs_urls)
    task = {"name": "The IdP application for Identity Center", module: options}
    play = [{"name": "bench", "hosts": "localhost", "connection": "local", "gather_facts": False,
             "vars": {"ansible_python_interpreter": sys.executable}, "tasks": [task]}]
    path.write_text(json.dumps(play), encoding="utf-8")  # JSON is YAML
    return path


def measure(vendor: str, folder: Path, env: dict[str, str], report: Report) -> list[list[str]]:
    module, args, info, stop = VENDORS[vendor](folder / vendor)
    rows = []
    try:
        control = ControlClient(info)
        for phase, acs_urls in zip(PHASES, ([ACS], [ACS], UPDATED_ACS)):
            control.clear_log()
            run = run_playbook(phase_playbook(folder / "{0}-{1}.yml".format(vendor, phase.split()[0]), module, args,
                                              acs_urls), env)
            if run.rc != 0:
                report.crashes.append("idp {0} {1}: the playbook failed (rc {2}): ...{3}".format(
                    vendor, phase, run.rc, run.tail[-1500:]))
            entries = control.requests()
            writes = sum(1 for entry in entries if is_write(entry))
            reads = len(entries) - writes
            need_reads, need_writes = MINIMUM[vendor][phase]
            rows.append([vendor, phase, str(reads), str(writes), "{0} + {1}".format(need_reads, need_writes),
                         "{0:.2f}x".format(len(entries) / (need_reads + need_writes)), "{0:.1f}".format(run.wall_s),
                         " ".join(sorted("{0} {1}".format(entry.get("method"), entry.get("path", "").split("?")[0])
                                         for entry in entries))[:150]])
    finally:
        stop()
    return rows


def run(_args: argparse.Namespace) -> Report:
    report = Report()
    missing = lemonldap_ng.missing_packages()
    vendors = [name for name in VENDORS if name != "lemonldap" or not missing]
    if missing:
        report.notes.append("idp: LemonLDAP::NG is not installed ({0}): make system-deps".format(", ".join(missing)))
    with tempfile.TemporaryDirectory(prefix="idfed-bench-idp-") as temporary:
        folder = Path(temporary)
        folder.chmod(0o755)  # LemonLDAP::NG runs as www-data, which must reach its folder
        build_tree(folder)
        env = playbook_env(folder / "tree")
        rows = [row for vendor in vendors for row in measure(vendor, folder, env, report)]
    print_table(["vendor", "run", "reads", "writes", "minimum (r + w)", "calls/min", "wall s", "requests"], rows)
    for row in rows:
        report.summary.append("idp {0} {1}: {2} reads, {3} writes; minimum {4}; {5}{6}".format(
            row[0], row[1], row[2], row[3], row[4], row[5],
            " (target: no write: {0})".format("met" if row[3] == "0" else "NOT met") if row[1] == "no-op re-run" else ""))
    report.data = {"runs": rows}
    return report
