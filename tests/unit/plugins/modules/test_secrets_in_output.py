# -*- coding: utf-8 -*-
"""What a module prints back to Ansible (the JSON that -v shows, invocation included) never holds a
credential from `url`. Each module runs as Ansible runs it: a separate Python process reading its
arguments from a file, here against a local HTTP server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "support"))
import saml_factory as factory  # noqa: E402  pylint: disable=wrong-import-position

SIGNER = factory.make_certificate(subject_cn="secrets test signer")
DOCUMENTS = {"/idp.xml": factory.idp_metadata(signing=[SIGNER]), "/cert.pem": SIGNER.pem.encode("ascii")}
PASSWORD = "hunter2-password"
TOKEN = "hunter3-token"
# <root>/ansible_collections/idfed/aws_sso/tests/unit/plugins/modules/this file: the module process imports
# the collection from <root>, as Ansible's own module runner would find it.
COLLECTIONS_ROOT = Path(__file__).resolve().parents[7]


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *_args):
        pass

    def do_GET(self):  # noqa: N802 (http.server API)
        body = DOCUMENTS.get(self.path.split("?", 1)[0])
        self.send_response(200 if body else 404)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")


@pytest.fixture(scope="module")
def base_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://user:{0}@127.0.0.1:{1}".format(PASSWORD, server.server_address[1])
    server.shutdown()
    server.server_close()


def run_module(name: str, args: dict, tmp_path: Path) -> tuple[dict, str]:
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(COLLECTIONS_ROOT), os.environ.get("PYTHONPATH")])))
    completed = subprocess.run(
        [sys.executable, "-m", "ansible_collections.idfed.aws_sso.plugins.modules." + name, str(args_file)],
        capture_output=True, text=True, timeout=60, check=False, env=env)
    output = completed.stdout + completed.stderr
    lines = completed.stdout.strip().splitlines()
    assert lines, "the module printed no result (exit {0}): {1}".format(completed.returncode, completed.stderr[-2000:])
    return json.loads(lines[-1]), output


@pytest.mark.parametrize("module, path, should_fail", [
    ("saml_metadata_info", "/idp.xml", False),
    ("saml_metadata_info", "/missing", True),
    ("saml_certificate_info", "/cert.pem", False),
    ("saml_certificate_info", "/missing", True),
])
def test_url_credentials_never_leave_the_module(base_url, tmp_path, module, path, should_fail):
    url = "{0}{1}?access_token={2}&tenant=acme".format(base_url, path, TOKEN)
    result, output = run_module(module, {"url": url, "allow_http": True, "timeout": 5}, tmp_path)
    assert bool(result.get("failed")) is should_fail, result
    assert PASSWORD not in output and TOKEN not in output
    shown = result["invocation"]["module_args"]["url"]
    assert "127.0.0.1" in shown and path in shown and "tenant=acme" in shown  # still useful for debugging
    if not should_fail:
        facts = result.get("certificates") or [result.get("certificate")]
        assert facts[0]["fingerprint_sha256"] == SIGNER.fingerprint_sha256
