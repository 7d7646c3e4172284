# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A private, real LemonLDAP::NG SAML IdP on 127.0.0.1 for tests and the demo, and a scripted login.

Needs the Debian packages lemonldap-ng, lemonldap-ng-fastcgi-server, nginx and liblasso-perl (with their
Recommends: scripts/system-deps.sh installs them); Python: the standard library, ``cryptography`` and
``requests`` (the collection's venv), and test_server.py next to this file (copy both).

    python lemonldap_ng.py start --dir DIR [--background] [--domain example.test] [--max-lifetime 3600]
    python lemonldap_ng.py stop --dir DIR
    python lemonldap_ng.py status --dir DIR

Nothing under /etc or /var/lib is written, no Debian service is started and /etc/hosts is not used:
- DIR holds everything: ``lemonldap-ng.ini`` (selected with LLNG_DEFAULTCONFFILE), the configuration
  ``conf/lmConf-N.json`` (seeded from Debian's lmConf-1.json: Demo users dwho/dwho, rtyler/rtyler, rtyler's
  and dwho's mail @badwolf.org; the SAML issuer enabled with keys made here), sessions, caches, TLS material
  (``tls/ca.pem`` is the CA every listener's certificate chains to), the Manager API's basic-auth password
  (``api-password``), logs (``logs/``) and ``server.json``. Keys, configuration and registered SPs are kept
  between runs, so a re-run serves the same signing certificate and entity id.
- The IdP knows itself as ``https://auth.<domain>`` (its entity id ``https://auth.<domain>/saml/metadata``).
  A private nginx listens on free ports of 127.0.0.1, one port per virtual host, each the default server of
  its port, so a client reaches the portal at ``https://127.0.0.1:<port>`` with or without a ``Host:`` header;
  login() maps the host names of the IdP's URLs to those ports (``hosts`` in server.json).
- The Manager REST API (``manager_api_url``) is allowed from 127.0.0.1 only and asks for HTTP basic auth
  (user ``api_username``, password ``api_password`` in server.json), as a real deployment protects it.
- ``manager_api_proxy_url`` is the same API behind a fault layer (test_server.TestServer): a request log with
  secrets masked and the fault switches (429 storms, 5xx, a connection dropped before or AFTER the write);
  test_server.ControlClient(server.json) drives it, and its ``/_control/state`` returns the SAML SPs as
  LemonLDAP::NG stores them (read from the newest lmConf-N.json) with the configuration number.
- ``stop`` ends every process ``start`` made (FastCGI server and its workers, nginx master and workers, the
  supervisor) and removes server.json; the supervisor also stops on its own after --max-lifetime seconds.

From Python (what another test or the demo calls)::

    import lemonldap_ng
    info = lemonldap_ng.start("/tmp/llng")          # dict of server.json; reuses a running one
    acs, saml_response, relay_state = lemonldap_ng.login(authn_request_url, "dwho", "dwho", server=info)
    lemonldap_ng.stop("/tmp/llng")
"""

from __future__ import annotations

import argparse
import base64
import glob
import hashlib
import html.parser
import ipaddress
import json
import os
import pwd
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

import test_server
from test_server import DAY, Reply, Request, TestServer, keypair, make_name, now, write_atomic, write_private

SEED_CONF = "/var/lib/lemonldap-ng/conf/lmConf-1.json"
DEBIAN_INI = "/etc/lemonldap-ng/lemonldap-ng.ini"
FASTCGI_SERVER = "/usr/sbin/llng-fastcgi-server"
NGINX = "/usr/sbin/nginx"
PORTAL_ROOT = "/usr/share/lemonldap-ng/portal/htdocs/"
API_ROOT = "/usr/share/lemonldap-ng/manager/api/"
PACKAGES = ("lemonldap-ng", "lemonldap-ng-fastcgi-server", "nginx", "liblasso-perl")
RUN_AS = "www-data"  # llng-fastcgi-server refuses to run as root
API_USERNAME = "llng-api"
DEMO_USERS = {"dwho": "dwho@badwolf.org", "rtyler": "rtyler@badwolf.org"}  # password = user name
SCRIPT = os.path.basename(__file__)


# ------------------------------------------------------------------------------------------ checks

def missing_packages() -> list[str]:
    """The Debian packages (or programs) this launcher needs and does not find; [] when it can run."""
    missing = [path for path in (FASTCGI_SERVER, NGINX, SEED_CONF, API_ROOT + "api.psgi") if not os.path.exists(path)]
    try:
        import importlib.util  # pylint: disable=import-outside-toplevel
        if importlib.util.find_spec("requests") is None:
            missing.append("python requests")
    except ImportError:  # pragma: no cover
        pass
    if not glob.glob("/usr/lib/*/perl5/*/Lasso.pm") and not glob.glob("/usr/lib/*/perl5/Lasso.pm"):
        missing.append("liblasso-perl (Lasso.pm)")
    return missing


# ------------------------------------------------------------------------------------------ layout

class Layout:
    """Every path under the work dir."""

    def __init__(self, root: str):
        self.root = os.path.abspath(root)
        self.conf = os.path.join(self.root, "conf")
        self.sessions = os.path.join(self.root, "sessions")
        self.psessions = os.path.join(self.root, "psessions")
        self.notifications = os.path.join(self.root, "notifications")
        self.cache = os.path.join(self.root, "cache")
        self.run = os.path.join(self.root, "run")
        self.logs = os.path.join(self.root, "logs")
        self.tls = os.path.join(self.root, "tls")
        self.keys = os.path.join(self.root, "keys")
        self.nginx_temp = os.path.join(self.root, "nginx")
        self.ini = os.path.join(self.root, "lemonldap-ng.ini")
        self.nginx_conf = os.path.join(self.root, "nginx.conf")
        self.htpasswd = os.path.join(self.root, "api.htpasswd")
        self.password = os.path.join(self.root, "api-password")
        self.socket = os.path.join(self.run, "llng-fastcgi.sock")
        self.info = os.path.join(self.root, "server.json")

    @property
    def writable_by_llng(self) -> list[str]:
        return [self.conf, self.sessions, os.path.join(self.sessions, "lock"), self.psessions,
                os.path.join(self.psessions, "lock"), self.notifications, self.cache, self.run]


def read_info(root: str) -> dict[str, Any]:
    try:
        with open(Layout(root).info, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {}


def latest_conf(conf_dir: str) -> tuple[int, dict[str, Any]]:
    """The newest lmConf-N.json: (N, its content); (0, {}) when there is none."""
    numbers = []
    for path in glob.glob(os.path.join(conf_dir, "lmConf-*.json")):
        stem = os.path.basename(path)[len("lmConf-"):-len(".json")]
        if stem.isdigit():
            numbers.append(int(stem))
    if not numbers:
        return 0, {}
    number = max(numbers)
    with open(os.path.join(conf_dir, "lmConf-{0}.json".format(number)), encoding="utf-8") as handle:
        return number, json.load(handle)


# ------------------------------------------------------------------------------------------ material

def _tls_builder(ca_key, ca_cert, domain: str):
    def build(key):
        start = now()
        names = [x509.DNSName(name) for name in ("auth." + domain, "manager-api." + domain, "reload." + domain,
                                                 "localhost")]
        names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
        return (x509.CertificateBuilder()
                .subject_name(make_name("auth." + domain)).issuer_name(ca_cert.subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(start - DAY).not_valid_after(min(start + 90 * DAY, ca_cert.not_valid_after_utc))
                .add_extension(x509.SubjectAlternativeName(names), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .sign(ca_key, hashes.SHA256()))
    return build


def _saml_builder(common_name: str):
    def build(key):
        start = now()
        return (x509.CertificateBuilder()
                .subject_name(make_name(common_name)).issuer_name(make_name(common_name))
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(start - DAY).not_valid_after(start + 3650 * DAY)
                .sign(key, hashes.SHA256()))
    return build


def _pem_pair(key, cert) -> tuple[str, str]:
    """(private key, certificate) PEM: LemonLDAP::NG takes the certificate as the "public key", and its metadata
    then carries the certificate, as Identity Center needs."""
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode("ascii")
    return private, cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _htpasswd_line(user: str, password: str) -> str:
    """{SSHA}: a salted SHA-1 nginx's auth_basic understands (the crypt module is gone from newer Pythons)."""
    salt = secrets.token_bytes(8)
    digest = hashlib.sha1(password.encode("utf-8") + salt).digest()  # noqa: S324 - the format nginx reads
    return "{0}:{{SSHA}}{1}\n".format(user, base64.b64encode(digest + salt).decode("ascii"))


def _rewrite(value: Any, old: str, new: str) -> Any:
    if isinstance(value, dict):
        return {_rewrite(key, old, new): _rewrite(item, old, new) for key, item in value.items()}
    if isinstance(value, list):
        return [_rewrite(item, old, new) for item in value]
    return value.replace(old, new) if isinstance(value, str) else value


def seed_configuration(layout: Layout, domain: str) -> None:
    """lmConf-1.json from Debian's, for the test domain, storage in the work dir, the SAML issuer on."""
    with open(SEED_CONF, encoding="utf-8") as handle:
        conf = json.load(handle)
    conf = _rewrite(_rewrite(conf, "example.com", domain), "/var/lib/lemonldap-ng", layout.root)
    conf["portal"] = "https://auth.{0}/".format(domain)
    conf["securedCookie"] = 1  # the portal is https only
    conf["reloadUrls"] = {}  # the [apply] section of the private ini names the reload vhost (its port varies)
    sig_key, sig_cert = keypair(layout.keys, "saml-signing", _saml_builder("auth." + domain))
    enc_key, enc_cert = keypair(layout.keys, "saml-encryption", _saml_builder("auth." + domain))
    conf["issuerDBSAMLActivation"] = 1
    conf["samlServicePrivateKeySig"], conf["samlServicePublicKeySig"] = _pem_pair(sig_key, sig_cert)
    conf["samlServicePrivateKeyEnc"], conf["samlServicePublicKeyEnc"] = _pem_pair(enc_key, enc_cert)
    conf["cfgNum"] = 1
    conf["cfgAuthor"] = "idfed.aws_sso tests (lemonldap_ng.py)"
    conf["cfgDate"] = str(int(time.time()))
    write_atomic(os.path.join(layout.conf, "lmConf-1.json"), json.dumps(conf, indent=3, sort_keys=True).encode())


def write_ini(layout: Layout, reload_port: int) -> None:
    """Debian's lemonldap-ng.ini with the configuration, cache and reload target moved to the work dir."""
    lines, section = [], ""
    with open(DEBIAN_INI, encoding="utf-8") as handle:
        source = handle.read().replace("\\\n", " ")  # continuation lines, as the ini parser joins them
    for raw in source.splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            if section == "apply":
                continue
        elif section == "apply":
            continue  # replaced below
        elif section == "configuration" and line.split("=", 1)[0].strip() == "dirName":
            raw = "dirName = {0}".format(layout.conf)
        elif "/var/lib/lemonldap-ng/cache" in raw:
            raw = raw.replace("/var/lib/lemonldap-ng/cache", layout.cache)
        lines.append(raw)
    # Manager::Plugin::applyConf sends GET http://<key><value> for each entry: the reload vhost's own port.
    lines += ["", "[apply]", "127.0.0.1:{0} = /reload".format(reload_port), ""]
    write_atomic(layout.ini, "\n".join(lines).encode("utf-8"))


def write_nginx_conf(layout: Layout, domain: str, ports: dict[str, int], as_root: bool) -> None:
    fastcgi = """
    location ~ ^(?<sc>/.*\\.psgi)(?:$|/) {{
      include /etc/nginx/fastcgi_params;
      fastcgi_pass llng;
      fastcgi_param HTTP_HOST $host;
      fastcgi_param LLTYPE psgi;
      fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
      fastcgi_split_path_info ^(.*\\.psgi)(/.*)$;
      fastcgi_param PATH_INFO $fastcgi_path_info;
      {extra}
    }}"""
    denied = "\n".join("      location ~ ^/index.psgi/{0} {{ deny all; }}".format(name) for name in (
        "adminSessions", "proxy", "sessions", "config", "notification"))
    temp = layout.nginx_temp
    conf = """# Made by lemonldap_ng.py for {root}: the three virtual hosts of Debian's portal-, api- and handler-nginx.conf,
# each the default server of its own port on 127.0.0.1.
{user}worker_processes 1;
daemon off;
pid {run}/nginx.pid;
error_log {logs}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log {logs}/nginx-access.log;
  client_body_temp_path {temp}/body;
  proxy_temp_path {temp}/proxy;
  fastcgi_temp_path {temp}/fastcgi;
  uwsgi_temp_path {temp}/uwsgi;
  scgi_temp_path {temp}/scgi;
  ssl_certificate {tls}/nginx.pem;
  ssl_certificate_key {tls}/nginx.key;
  upstream llng {{ server unix:{socket}; }}

  server {{
    listen 127.0.0.1:{portal} ssl default_server;
    server_name auth.{domain};
    root {portal_root};
    if ($uri !~ ^/((static|javascript|favicon).*|.*\\.psgi)) {{
      rewrite ^/(.*)$ /index.psgi/$1 break;
    }}
    {portal_fastcgi}
    index index.psgi;
    location / {{ try_files $uri $uri/ =404; }}
    location /static/ {{ alias {portal_root}static/; }}
    location /javascript/ {{ alias /usr/share/javascript/; }}
  }}

  server {{
    listen 127.0.0.1:{api} ssl default_server;
    server_name manager-api.{domain};
    root {api_root};
    allow 127.0.0.1;
    deny all;
    auth_basic "LemonLDAP::NG Manager API";
    auth_basic_user_file {htpasswd};
    location / {{ rewrite ^/(.*)$ /api.psgi/$1; }}
    {api_fastcgi}
  }}

  server {{
    listen 127.0.0.1:{reload} default_server;
    server_name reload.{domain};
    location = /reload {{
      allow 127.0.0.1;
      deny all;
      include /etc/nginx/fastcgi_params;
      fastcgi_pass llng;
      fastcgi_param LLTYPE reload;
    }}
    location / {{ deny all; }}
  }}
}}
""".format(root=layout.root, user="user {0} {0};\n".format(RUN_AS) if as_root else "", run=layout.run,
           logs=layout.logs, temp=temp, tls=layout.tls, socket=layout.socket, domain=domain,
           portal=ports["portal"], api=ports["api"], reload=ports["reload"], portal_root=PORTAL_ROOT,
           api_root=API_ROOT, htpasswd=layout.htpasswd,
           portal_fastcgi=fastcgi.format(extra=denied.strip()), api_fastcgi=fastcgi.format(extra=""))
    write_atomic(layout.nginx_conf, conf.encode("utf-8"))


def prepare(layout: Layout, domain: str, ports: dict[str, int], as_root: bool) -> dict[str, Any]:
    """Make (or reuse) everything in the work dir; returns the facts server.json publishes."""
    for path in [layout.root, layout.logs, layout.tls, layout.keys, layout.nginx_temp] + layout.writable_by_llng:
        os.makedirs(path, exist_ok=True)
    tls = test_server.ensure_tls(layout.tls, "rsa")  # ca.pem/ca.key, and the fault proxy's server.pem
    keypair(layout.tls, "nginx", _tls_builder(*tls["ca"], domain), key_type="rsa")
    if not glob.glob(os.path.join(layout.conf, "lmConf-*.json")):
        seed_configuration(layout, domain)
    if not os.path.exists(layout.password):
        write_private(layout.password, secrets.token_urlsafe(18).encode("ascii"))
    with open(layout.password, encoding="ascii") as handle:
        password = handle.read().strip()
    write_atomic(layout.htpasswd, _htpasswd_line(API_USERNAME, password).encode("ascii"))
    write_ini(layout, ports["reload"])
    write_nginx_conf(layout, domain, ports, as_root)
    if as_root:
        _hand_over(layout)
    number, conf = latest_conf(layout.conf)
    return {"api_username": API_USERNAME, "api_password": password, "conf_number": number,
            "portal": conf.get("portal")}


def _hand_over(layout: Layout) -> None:
    """The FastCGI server runs as www-data: it must reach the work dir and own what it writes."""
    account = pwd.getpwnam(RUN_AS)
    os.chmod(layout.root, 0o711)
    for path in layout.writable_by_llng:
        for base, dirs, files in os.walk(path):
            for name in [base] + [os.path.join(base, item) for item in dirs + files]:
                os.chown(name, account.pw_uid, account.pw_gid)
    os.chmod(layout.ini, 0o644)
    blocked = []
    parent = os.path.dirname(layout.root)
    while parent and parent != "/":
        if not os.stat(parent).st_mode & 0o001:
            blocked.append(parent)
        parent = os.path.dirname(parent)
    if blocked:
        raise SystemExit("{0} cannot reach {1}: {2} not searchable by others (chmod o+x, or choose a --dir under "
                         "/tmp)".format(RUN_AS, layout.root, ", ".join(blocked)))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ------------------------------------------------------------------------------------------ fault layer

class ManagerApiProxy(TestServer):
    """The Manager API behind the test-server base: request log, fault switches, state from the config files."""

    name = "LemonLDAP::NG Manager API fault proxy"

    def __init__(self, layout: Layout, upstream: str, **kwargs: Any):
        self.layout = layout
        self.upstream = upstream
        self._context = ssl.create_default_context(cafile=os.path.join(layout.tls, "ca.pem"))
        super().__init__(layout.tls, key_type="rsa", **kwargs)

    def setup_routes(self) -> None:
        self.add_route("*", "/{path:path}", self.forward)

    def forward(self, request: Request) -> Reply:
        query = urlsplit("?" + "&".join("{0}={1}".format(k, urllib.request.quote(v, safe=""))
                                        for k, vs in request.query.items() for v in vs)).query
        url = self.upstream + request.path + ("?" + query if query else "")
        headers = {name: value for name, value in request.headers.items()
                   if name.lower() in ("authorization", "content-type", "accept", "user-agent")}
        upstream = urllib.request.Request(url, data=request.body or None, method=request.method, headers=headers)
        try:
            with urllib.request.urlopen(upstream, context=self._context, timeout=60) as answer:  # noqa: S310
                status, body, answer_headers = answer.status, answer.read(), answer.headers
        except urllib.error.HTTPError as error:
            status, body, answer_headers = error.code, error.read(), error.headers
        forwarded = {name: value for name, value in answer_headers.items()
                     if name.lower() in ("www-authenticate", "location", "retry-after")}
        return Reply(status, body, forwarded, answer_headers.get("Content-Type") or "application/json")

    def error_reply(self, status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
        return Reply.json({"error": message}, status, headers)  # the Manager API's envelope

    def state(self) -> Any:
        number, conf = latest_conf(self.layout.conf)
        sps = {}
        for key, holder in (conf.get("samlSPMetaDataXML") or {}).items():
            sps[key] = {"metadata": (holder or {}).get("samlSPMetaDataXML"),
                        "options": (conf.get("samlSPMetaDataOptions") or {}).get(key, {}),
                        "exported_attributes": (conf.get("samlSPMetaDataExportedAttributes") or {}).get(key, {})}
        return {"conf_number": number, "saml_sps": sps}


# ------------------------------------------------------------------------------------------ supervisor

def _spawn(argv: list[str], log_path: str, env: dict[str, str]) -> subprocess.Popen:
    with open(log_path, "ab") as log:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,  # noqa: S603
                                start_new_session=True, close_fds=True)


def _terminate(child: subprocess.Popen | None, signum: int = signal.SIGTERM, wait: float = 10.0) -> None:
    """End a child and its process group (the FastCGI workers, nginx's workers)."""
    if child is None or child.poll() is not None:
        return
    try:
        os.killpg(child.pid, signum)
    except ProcessLookupError:
        return
    try:
        child.wait(wait)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        child.wait(5)


def _wait_portal(url: str, ca: str, seconds: float, children: list[subprocess.Popen]) -> None:
    context = ssl.create_default_context(cafile=ca)
    deadline = time.monotonic() + seconds
    last = "no answer"
    while time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            raise RuntimeError("a LemonLDAP::NG process exited at start (see the logs in the work dir)")
        try:
            with urllib.request.urlopen(url, context=context, timeout=5) as answer:  # noqa: S310
                if answer.status == 200 and b"EntityDescriptor" in answer.read():
                    return
        except (OSError, urllib.error.URLError) as exc:
            last = str(exc)
        time.sleep(0.1)
    raise RuntimeError("the portal did not answer {0} within {1:g} s: {2}".format(url, seconds, last))


def run(root: str, domain: str, max_lifetime: float, wait: float) -> int:
    """The supervisor (foreground): start everything, write server.json, wait for a signal, stop everything."""
    layout = Layout(root)
    missing = missing_packages()
    if missing:
        sys.stderr.write("LemonLDAP::NG cannot start, missing: {0}; run scripts/system-deps.sh (as root)\n".format(
            ", ".join(missing)))
        return 2
    as_root = os.geteuid() == 0
    ports = {"portal": free_port(), "api": free_port(), "reload": free_port()}
    facts = prepare(layout, domain, ports, as_root)
    env = dict(os.environ, LLNG_DEFAULTCONFFILE=layout.ini,
               LLNG_DEFAULTLOGGER="Lemonldap::NG::Common::Logger::Std")
    env.pop("USER", None)  # llng-fastcgi-server switches to $USER when -u is not given
    fastcgi_argv = [FASTCGI_SERVER, "--foreground", "-n", "2", "-s", layout.socket,
                    "-p", os.path.join(layout.run, "llng-fastcgi.pid")]
    if as_root:
        fastcgi_argv += ["-u", RUN_AS, "-g", RUN_AS]
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, lambda *_: stop.set())
    started = time.monotonic()
    fastcgi = nginx = proxy = None
    try:
        fastcgi = _spawn(fastcgi_argv, os.path.join(layout.logs, "fastcgi.log"), env)
        nginx = _spawn([NGINX, "-c", layout.nginx_conf, "-e", os.path.join(layout.logs, "nginx-error.log")],
                       os.path.join(layout.logs, "nginx.log"), env)
        portal = "https://127.0.0.1:{0}".format(ports["portal"])
        api = "https://127.0.0.1:{0}".format(ports["api"])
        proxy = ManagerApiProxy(layout, api, access_log=os.path.join(layout.logs, "proxy.log")).start()
        _wait_portal(portal + "/saml/metadata", os.path.join(layout.tls, "ca.pem"), wait, [fastcgi, nginx])
        info = dict(proxy.info(), **facts)
        host = urlsplit(facts["portal"] or "https://auth.{0}/".format(domain)).hostname
        info.update({
            "pid": os.getpid(), "pids": {"fastcgi": fastcgi.pid, "nginx": nginx.pid}, "dir": layout.root,
            "domain": domain, "ca": os.path.join(layout.tls, "ca.pem"),
            "portal_url": portal, "idp_portal_url": (facts["portal"] or "").rstrip("/"),
            "metadata_url": portal + "/saml/metadata", "idp_entity_id": "https://{0}/saml/metadata".format(host),
            "sso_url": "https://{0}/saml/singleSignOn".format(host),
            "manager_api_url": api, "manager_api_proxy_url": proxy.url, "reload_url":
                "http://127.0.0.1:{0}/reload".format(ports["reload"]),
            "hosts": {host: "127.0.0.1:{0}".format(ports["portal"]),
                      "manager-api." + domain: "127.0.0.1:{0}".format(ports["api"])},
            "signing_certificate": os.path.join(layout.keys, "saml-signing.pem"),
            "conf_dir": layout.conf, "demo_users": DEMO_USERS, "started_in_seconds": round(time.monotonic() - started, 2),
        })
        write_atomic(layout.info, json.dumps(info, indent=2, sort_keys=True).encode("utf-8") + b"\n")
        proxy.access("LemonLDAP::NG up: portal {0}, Manager API {1}".format(portal, api))
        while not stop.wait(0.5):
            if max_lifetime and time.monotonic() - started > max_lifetime:
                break
            if fastcgi.poll() is not None or nginx.poll() is not None:
                sys.stderr.write("a LemonLDAP::NG process exited; stopping the rest\n")
                break
            if not os.path.exists(layout.info):  # the work dir was removed under it: nothing can use it now
                sys.stderr.write("server.json is gone; stopping\n")
                break
        return 0
    except (RuntimeError, OSError) as exc:
        sys.stderr.write("LemonLDAP::NG did not start: {0}\n".format(exc))
        return 1
    finally:
        _terminate(nginx, signal.SIGQUIT)  # graceful: lets workers finish; the group kill catches the rest
        _terminate(fastcgi)
        if proxy is not None:
            proxy.stop()
        if read_info(layout.root).get("pid") == os.getpid():
            os.unlink(layout.info)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/{0}/stat".format(pid), encoding="ascii") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _is_supervisor(pid: int) -> bool:
    try:
        with open("/proc/{0}/cmdline".format(pid), "rb") as handle:
            return SCRIPT.encode() in handle.read()
    except OSError:
        return False


# ------------------------------------------------------------------------------------------ public API

def start(root: str, *, domain: str = "example.test", max_lifetime: float = 3600.0, wait: float = 60.0) -> dict:
    """Start (or reuse) the IdP whose work dir is root, in the background; returns server.json's content."""
    layout = Layout(root)
    info = read_info(layout.root)
    if info and _alive(int(info["pid"])) and _is_supervisor(int(info["pid"])):
        return info
    os.makedirs(layout.root, exist_ok=True)
    os.makedirs(layout.logs, exist_ok=True)
    if os.path.exists(layout.info):
        os.unlink(layout.info)
    argv = [sys.executable, os.path.abspath(__file__), "start", "--dir", layout.root, "--domain", domain,
            "--max-lifetime", str(max_lifetime), "--wait", str(wait)]
    child = _spawn(argv, os.path.join(layout.logs, "supervisor.log"), dict(os.environ))
    deadline = time.monotonic() + wait + 5
    while time.monotonic() < deadline:
        info = read_info(layout.root)
        if info.get("pid") == child.pid:
            return info
        if child.poll() is not None:
            break
        time.sleep(0.05)
    _terminate(child)
    with open(os.path.join(layout.logs, "supervisor.log"), encoding="utf-8", errors="replace") as handle:
        tail = handle.read()[-3000:]
    raise RuntimeError("LemonLDAP::NG did not start within {0:g} s:\n{1}".format(wait, tail))


def stop(root: str, wait: float = 15.0) -> bool:
    """Stop everything start() made for root; True when something was running."""
    layout = Layout(root)
    info = read_info(layout.root)
    if not info:
        return False
    pid = int(info["pid"])
    if _alive(pid) and _is_supervisor(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)
    # Whatever is left (a supervisor killed with SIGKILL leaves its children): their process groups.
    for name, child in sorted((info.get("pids") or {}).items()):
        if _alive(int(child)) and _group_leader_is(int(child), FASTCGI_SERVER if name == "fastcgi" else "nginx"):
            os.killpg(int(child), signal.SIGKILL)
    if _alive(pid) and _is_supervisor(pid):
        os.kill(pid, signal.SIGKILL)
    if os.path.exists(layout.info):
        os.unlink(layout.info)
    return True


def _group_leader_is(pid: int, marker: str) -> bool:
    try:
        with open("/proc/{0}/cmdline".format(pid), "rb") as handle:
            return os.path.basename(marker).encode() in handle.read()
    except OSError:
        return False


def processes(info: dict) -> list[int]:
    """Every live pid of the IdP (supervisor, FastCGI server and workers, nginx master and workers)."""
    groups = {int(pid) for pid in (info.get("pids") or {}).values()}
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/{0}/stat".format(entry), encoding="ascii") as handle:
                fields = handle.read().split(")")[-1].split()
        except OSError:
            continue
        if fields[0] != "Z" and (int(fields[2]) in groups or int(entry) == int(info.get("pid", -1))):
            found.append(int(entry))
    return sorted(found)


def memory_kib(info: dict) -> int:
    """Resident memory of every process of the IdP, in KiB."""
    total = 0
    for pid in processes(info):
        try:
            with open("/proc/{0}/status".format(pid), encoding="ascii") as handle:
                total += next(int(line.split()[1]) for line in handle if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            continue
    return total


# ------------------------------------------------------------------------------------------ login

class _Forms(html.parser.HTMLParser):
    """Every <form> of a page with its action, method and input fields (name -> value)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append({"action": values.get("action", ""), "method": values.get("method", "get").lower(),
                               "id": values.get("id", ""), "fields": {}})
        elif tag in ("input", "button", "textarea") and self.forms and values.get("name"):
            if values.get("type", "").lower() in ("checkbox", "radio") and "checked" not in values:
                return
            self.forms[-1]["fields"].setdefault(values["name"], values.get("value", ""))


def forms_of(page: str) -> list[dict[str, Any]]:
    parser = _Forms()
    parser.feed(page)
    return parser.forms


def _session(server: dict | str | None):
    """A requests Session that reaches the IdP's host names on 127.0.0.1 (hosts of server.json), TLS checked
    against the launcher's CA, the Host header kept, cookies kept under the real host names."""
    import requests  # pylint: disable=import-outside-toplevel
    from requests.adapters import HTTPAdapter  # pylint: disable=import-outside-toplevel

    info = read_info(server) if isinstance(server, str) else dict(server or {})
    hosts = info.get("hosts") or {}

    class Resolving(HTTPAdapter):
        def send(self, request, **kwargs):  # pylint: disable=arguments-differ
            parts = urlsplit(request.url)
            if parts.hostname in hosts:
                mapped = request.copy()
                mapped.url = urlunsplit((parts.scheme, hosts[parts.hostname], parts.path, parts.query, ""))
                mapped.headers["Host"] = parts.netloc
                response = super().send(mapped, **kwargs)
                response.url = request.url
                return response
            return super().send(request, **kwargs)

    session = requests.Session()
    session.trust_env = False  # else REQUESTS_CA_BUNDLE replaces verify, and a proxy variable catches 127.0.0.1
    adapter = Resolving()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    if info.get("ca"):
        session.verify = info["ca"]
    return session


class LoginError(Exception):
    """The login did not end in a SAMLResponse form; the message says where it stopped."""


def login(authn_request_url: str, user: str, password: str, *, server: dict | str | None = None,
          session=None, timeout: float = 30.0) -> tuple[str, str, str | None]:
    """SP-initiated login as a browser would do it, without one.

    authn_request_url: the IdP SSO URL with SAMLRequest (and RelayState), HTTP-Redirect binding, as an SP makes
    it from the IdP metadata (https://auth.<domain>/saml/singleSignOn?SAMLRequest=...). server: the launcher's
    server.json (its dict or its work dir) so the IdP's host names reach 127.0.0.1 and its CA is trusted.
    Returns (acs_url, SAMLResponse (base64, as posted), RelayState or None), ready to POST to the ACS.
    """
    http = session or _session(server)
    first = http.get(authn_request_url, timeout=timeout, allow_redirects=True)
    if first.status_code != 200:
        raise LoginError("GET {0} answered HTTP {1}".format(first.url.split("?")[0], first.status_code))
    page, url = first.text, first.url
    for _attempt in range(3):  # the login form, at most a second form (a portal notice), the result
        forms = forms_of(page)
        done = _saml_form(forms)
        if done is not None:
            return done[0] and urljoin(url, done[0]), done[1], done[2]
        form = next((item for item in forms if "user" in item["fields"] or "password" in item["fields"]), None)
        if form is None:
            raise LoginError("no login form and no SAMLResponse at {0}: {1}".format(
                url.split("?")[0], _portal_error(page)))
        fields = dict(form["fields"], user=user, password=password)
        action = urljoin(url, form["action"] or url)
        answer = http.post(action, data=fields, timeout=timeout, allow_redirects=True)
        if answer.status_code != 200:
            raise LoginError("POST {0} answered HTTP {1}".format(action.split("?")[0], answer.status_code))
        page, url = answer.text, answer.url
        if "user" in fields and _saml_form(forms_of(page)) is None and any(
                "password" in item["fields"] for item in forms_of(page)):
            raise LoginError("the portal refused {0}'s credentials: {1}".format(user, _portal_error(page)))
    raise LoginError("no SAMLResponse after the login at {0}".format(url.split("?")[0]))


def _saml_form(forms: list[dict[str, Any]]) -> tuple[str, str, str | None] | None:
    for form in forms:
        if "SAMLResponse" in form["fields"]:
            return form["action"], form["fields"]["SAMLResponse"], form["fields"].get("RelayState") or None
    return None


def _portal_error(page: str) -> str:
    """The portal's message (its alert box), for an error that names what went wrong."""
    import re  # pylint: disable=import-outside-toplevel

    found = re.search(r'class="[^"]*alert[^"]*"[^>]*>(.*?)</div>', page, re.S)
    text = re.sub(r"<[^>]+>", " ", found.group(1) if found else page[:300])
    return " ".join(text.split())[:300]


# ------------------------------------------------------------------------------------------ command line

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("action", choices=("start", "stop", "status"))
    parser.add_argument("--dir", required=True, help="work dir (configuration, keys, sessions, logs, server.json)")
    parser.add_argument("--domain", default="example.test", help="the IdP is https://auth.<domain>")
    parser.add_argument("--background", action="store_true", help="detach; return when the portal answers")
    parser.add_argument("--max-lifetime", type=float, default=3600.0, help="stop after this many seconds (0: never)")
    parser.add_argument("--wait", type=float, default=60.0, help="seconds allowed for the start")
    args = parser.parse_args(argv)
    if args.action == "stop":
        print("stopped LemonLDAP::NG in {0}".format(args.dir) if stop(args.dir) else
              "nothing to stop in {0}".format(args.dir))
        return 0
    if args.action == "status":
        info = read_info(args.dir)
        running = bool(info) and _alive(int(info["pid"]))
        print(json.dumps(dict(info, running=running, memory_kib=memory_kib(info) if running else 0), indent=2,
                         sort_keys=True))
        return 0 if running else 3
    missing = missing_packages()
    if missing:
        sys.stderr.write("SKIP: LemonLDAP::NG is not installed (missing: {0}); run scripts/system-deps.sh as "
                         "root\n".format(", ".join(missing)))
        return 2
    if args.background:
        try:
            info = start(args.dir, domain=args.domain, max_lifetime=args.max_lifetime, wait=args.wait)
        except RuntimeError as exc:
            sys.stderr.write("{0}\n".format(exc))
            return 1
        print(json.dumps(info, indent=2, sort_keys=True))
        return 0
    return run(args.dir, args.domain, args.max_lifetime, args.wait)


if __name__ == "__main__":
    sys.exit(main())
