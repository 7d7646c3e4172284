# -*- coding: utf-8 -*-
"""What a module prints back to Ansible (the JSON that -v shows, invocation included) and what it logs
at -vvvv with debug on never holds a credential from `url`. Each module runs as Ansible runs it: a
separate Python process reading its arguments from a file, here against a local HTTP server
(tests/support/test_server.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "support"))
import saml_factory as factory  # noqa: E402  pylint: disable=wrong-import-position
from test_server import Reply, TestServer  # noqa: E402  pylint: disable=wrong-import-position

SIGNER = factory.make_certificate(subject_cn="secrets test signer")
DOCUMENTS = {"/idp.xml": factory.idp_metadata(signing=[SIGNER]), "/cert.pem": SIGNER.pem.encode("ascii")}
PASSWORD = "hunter2-password"
TOKEN = "hunter3-token"
# <root>/ansible_collections/idfed/aws_sso/tests/unit/plugins/modules/this file: the module process imports
# the collection from <root>, as Ansible's own module runner would find it.
COLLECTIONS_ROOT = Path(__file__).resolve().parents[7]
# Runs a module with syslog.syslog (where AnsibleModule.log() writes on a host without journald) sent to
# stderr, so the test sees every log line the module writes.
RUNNER = """
import runpy, sys, syslog
syslog.openlog = lambda *args, **kwargs: None
syslog.syslog = lambda *args: sys.stderr.write("SYSLOG " + str(args[-1]) + "\\n")
sys.argv = sys.argv[1:]
runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
"""


class Documents(TestServer):
    """The documents, and /rate-limited/<document>: one 429 first (Retry-After: 0), so the module retries."""

    def setup_routes(self) -> None:
        self.add_route("GET", "/rate-limited/{name}", self._rate_limited)
        self.add_route("GET", "/{name}", lambda request: self._document(request.path))

    def not_found(self, request) -> Reply:
        return Reply.text(b"", 404)

    def _document(self, path: str) -> Reply:
        body = DOCUMENTS.get(path)
        return Reply.text(body, content_type="application/xml") if body else Reply.text(b"", 404)

    def _rate_limited(self, request) -> Reply:
        if len(self.requests("GET", request.path)) == 1:
            return Reply.text(b"slow down", 429, headers={"Retry-After": "0"})
        return self._document("/" + request.params["name"])


@pytest.fixture(scope="module")
def server():
    with Documents(http_port=0) as running:
        yield running


@pytest.fixture(scope="module")
def base_url(server):
    return "http://user:{0}@127.0.0.1:{1}".format(PASSWORD, server.http_port)


def run_module(name: str, args: dict, tmp_path: Path) -> tuple[dict, str, list[str]]:
    """(result, what the process printed, the lines it logged)"""
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(COLLECTIONS_ROOT), os.environ.get("PYTHONPATH")])))
    completed = subprocess.run(
        [sys.executable, "-c", RUNNER, "ansible_collections.idfed.aws_sso.plugins.modules." + name, str(args_file)],
        capture_output=True, text=True, timeout=60, check=False, env=env)
    logged = [line for line in completed.stderr.splitlines() if line.startswith("SYSLOG ")]
    printed = completed.stdout + "".join(
        line + "\n" for line in completed.stderr.splitlines() if not line.startswith("SYSLOG "))
    lines = completed.stdout.strip().splitlines()
    assert lines, "the module printed no result (exit {0}): {1}".format(completed.returncode, completed.stderr[-2000:])
    return json.loads(lines[-1]), printed, logged


@pytest.mark.parametrize("module, path, should_fail", [
    ("saml_metadata_info", "/idp.xml", False),
    ("saml_metadata_info", "/missing", True),
    ("saml_certificate_info", "/cert.pem", False),
    ("saml_certificate_info", "/missing", True),
])
def test_url_credentials_never_leave_the_module(base_url, tmp_path, module, path, should_fail):
    url = "{0}{1}?access_token={2}&tenant=acme".format(base_url, path, TOKEN)
    result, printed, _logged = run_module(module, {"url": url, "allow_http": True, "timeout": 5}, tmp_path)
    assert bool(result.get("failed")) is should_fail, result
    assert PASSWORD not in printed and TOKEN not in printed
    shown = result["invocation"]["module_args"]["url"]
    assert "127.0.0.1" in shown and path in shown and "tenant=acme" in shown  # still useful for debugging
    if not should_fail:
        facts = result.get("certificates") or [result.get("certificate")]
        assert facts[0]["fingerprint_sha256"] == SIGNER.fingerprint_sha256


VERBOSE = {"allow_http": True, "timeout": 5, "_ansible_verbosity": 4, "_ansible_debug": True}


@pytest.mark.parametrize("module, document", [("saml_metadata_info", "idp.xml"), ("saml_certificate_info", "cert.pem")])
def test_nothing_leaks_at_high_verbosity_with_debug(server, base_url, tmp_path, module, document):
    """-vvvv with ANSIBLE_DEBUG: the retry after a 429 is logged, and neither it nor anything the module
    prints carries the URL's password or token."""
    url = "{0}/rate-limited/{1}?access_token={2}&tenant=acme".format(base_url, document, TOKEN)
    result, printed, logged = run_module(module, dict(VERBOSE, url=url), tmp_path)
    assert not result.get("failed"), result
    assert PASSWORD not in printed and TOKEN not in printed
    retries = [line for line in logged if "Retry 1/2 of GET" in line]
    assert len(retries) == 1 and "access_token=***" in retries[0] and "tenant=acme" in retries[0]
    assert PASSWORD not in retries[0] and TOKEN not in retries[0]


def test_the_invocation_log_line_masks_the_url_token(server, base_url, tmp_path):
    url = "{0}/idp.xml?access_token={1}".format(base_url, TOKEN)
    _result, _printed, logged = run_module("saml_metadata_info", dict(VERBOSE, url=url), tmp_path)
    assert logged and not any(TOKEN in line or PASSWORD in line for line in logged)
