# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""moto's server with the idfed plug-in, on 127.0.0.1:

    PYTHONPATH=tests/support python -m moto_ext.server [--port 5000] [--watch-stdin] [--max-lifetime SECONDS]

Port 0 (the default) takes a free port. Once it accepts connections it writes one JSON line to stdout,
{"endpoint_url": "http://127.0.0.1:PORT", "port": PORT, "pid": PID}, and serves until SIGTERM/SIGINT or,
with --watch-stdin, until its stdin closes (so it dies with the test process that started it, see
launcher.MotoServer). --max-lifetime stops it after that many seconds whatever happens, for a server
started in the background by an Ansible test (launcher.py start/stop) that may never reach its stop step.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from .app import PluginApp
from .ssoadmin import install_aws_id_formats


def build_app() -> PluginApp:
    install_aws_id_formats()
    return PluginApp(DomainDispatcherApplication(create_backend_app))


def _stop_on_stdin_eof(server: BaseWSGIServer) -> None:
    sys.stdin.read()
    server.shutdown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--watch-stdin", action="store_true", help="stop when stdin reaches end of file")
    parser.add_argument("--max-lifetime", type=float, default=0, help="stop after this many seconds (0: never)")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request on stderr
    server = make_server(args.host, args.port, build_app(), threaded=True, request_handler=MotoRequestHandler)

    def stop(*_args: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()  # shutdown() waits for serve_forever

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.watch_stdin:
        threading.Thread(target=_stop_on_stdin_eof, args=(server,), daemon=True).start()
    if args.max_lifetime > 0:
        timer = threading.Timer(args.max_lifetime, stop)
        timer.daemon = True
        timer.start()
    host, port = server.server_address[:2]
    sys.stdout.write(json.dumps({"endpoint_url": f"http://{host}:{port}", "port": port, "pid": os.getpid()}) + "\n")
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.1)  # how soon a shutdown() request is noticed
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
