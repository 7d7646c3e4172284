# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start the plug-in server as a subprocess of a test, and talk to its control endpoints.

Standard library only (boto3 is imported by ``client`` alone), so a test process does not load moto::

    with MotoServer() as server:                      # a free port; waits until it accepts connections
        sso = server.client("sso-admin")              # boto3, endpoint_url, dummy credentials, us-east-1, no retry
        server.set_faults([{"service": "sso-admin", "operation": "ListInstances", "every": 2}])
        server.log()                                  # [{"service", "operation", "write", "status", ...}]

As a module-scoped pytest fixture::

    @pytest.fixture(scope="module")
    def aws():
        with MotoServer() as server:
            yield server

The server stops when the block ends, and on its own when the test process dies (its stdin closes).

From an Ansible test (tests/integration/targets/setup_moto), in the background until stopped or its
maximum lifetime passes::

    python launcher.py start --dir STATE_DIR [--max-lifetime 1800]   # prints the ready line (JSON)
    python launcher.py stop --dir STATE_DIR                          # prints "stopped" or "not running"
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import signal
import subprocess
import time
import sys
import tempfile
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

SUPPORT_DIR = Path(__file__).resolve().parents[1]
DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


class MotoServer:
    def __init__(self, startup_timeout: float = 60.0) -> None:
        self.startup_timeout = startup_timeout
        self.endpoint_url = ""
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> MotoServer:
        self.start()
        return self

    def __exit__(self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> str:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(SUPPORT_DIR), os.environ.get("PYTHONPATH")])))
        with tempfile.TemporaryFile() as stderr:
            # Not a with-block: the process outlives this method, stop() ends it.
            self._process = subprocess.Popen(  # pylint: disable=consider-using-with
                [sys.executable, "-m", "moto_ext.server", "--port", "0", "--watch-stdin"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                env=env,
            )
            line = self._first_line(self._process)
            if not line:
                self.stop()
                stderr.seek(0)
                raise RuntimeError(f"the moto server did not start: {stderr.read().decode(errors='replace')[-3000:]}")
        self.endpoint_url = json.loads(line)["endpoint_url"]
        return self.endpoint_url

    def _first_line(self, process: subprocess.Popen[bytes]) -> bytes:
        """The server's ready line, or b"" when it exits or stays silent past the startup timeout."""
        stdout = process.stdout
        if stdout is None:
            return b""
        with selectors.DefaultSelector() as selector:
            selector.register(stdout, selectors.EVENT_READ)
            if not selector.select(self.startup_timeout):
                return b""
        return stdout.readline()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()  # closing stdin is the stop signal (--watch-stdin)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    # ------------------------------------------------------------ control endpoints

    def control(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(f"{self.endpoint_url}/_idfed/{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own local server
            return json.load(response)

    def log(self) -> list[dict[str, Any]]:
        return self.control("GET", "log")["requests"]

    def clear_log(self) -> None:
        self.control("POST", "log/clear", {})

    def set_faults(self, rules: list[dict[str, Any]]) -> None:
        self.control("POST", "faults", {"rules": rules})

    def set_config(self, **values: float) -> dict[str, Any]:
        return self.control("POST", "config", values)

    def set_regions(self, instance_arn: str, regions: list[dict[str, Any]]) -> None:
        self.control("POST", "regions", {"instance_arn": instance_arn, "regions": regions})

    def reset(self) -> None:
        self.control("POST", "reset", {})

    def client(self, service: str, region: str = "us-east-1", retries: int = 0, **kwargs: Any) -> Any:
        """A boto3 client for this server. ``retries`` is botocore's max_attempts, which counts the attempts
        after the first: 0 (the default) shows every injected fault, {'max_attempts': 1} would retry once."""
        # Imported here: the launcher itself needs nothing beyond the standard library.
        import boto3  # pylint: disable=import-outside-toplevel
        from botocore.config import Config  # pylint: disable=import-outside-toplevel

        config = Config(retries={"max_attempts": retries, "mode": "standard"})
        return boto3.client(service, region_name=region, endpoint_url=self.endpoint_url, config=config, **DUMMY_CREDENTIALS, **kwargs)


def _start_background(state_dir: Path, max_lifetime: float, timeout: float = 60.0) -> str:
    """Start a detached server that outlives this process; its ready line is kept in STATE_DIR/server.json."""
    state_dir.mkdir(parents=True, exist_ok=True)
    ready, log = state_dir / "server.json", state_dir / "server.log"
    ready.unlink(missing_ok=True)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(SUPPORT_DIR), os.environ.get("PYTHONPATH")])))
    with open(ready, "wb") as stdout, open(log, "wb") as stderr:
        subprocess.Popen(  # pylint: disable=consider-using-with  # detached on purpose: `stop` ends it
            [sys.executable, "-m", "moto_ext.server", "--port", "0", "--max-lifetime", str(max_lifetime)],
            stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, env=env, start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = ready.read_text(encoding="utf-8").strip()
        if line:
            return line
        time.sleep(0.1)
    raise SystemExit("the moto server did not start: " + log.read_text(encoding="utf-8", errors="replace")[-3000:])


def _stop_background(state_dir: Path) -> str:
    try:
        pid = json.loads((state_dir / "server.json").read_text(encoding="utf-8"))["pid"]
        os.kill(pid, signal.SIGTERM)
    except (OSError, ValueError, KeyError):
        return "not running"
    for _attempt in range(100):
        try:
            os.kill(pid, 0)
        except OSError:
            return "stopped"
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    return "stopped"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Start or stop a background moto server with the idfed plug-in.")
    parser.add_argument("action", choices=("start", "stop"))
    parser.add_argument("--dir", required=True, type=Path, help="state directory (ready line, log)")
    parser.add_argument("--max-lifetime", type=float, default=1800.0, help="seconds before it stops on its own")
    args = parser.parse_args(argv)
    if args.action == "start":
        sys.stdout.write(_start_background(args.dir, args.max_lifetime) + "\n")
    else:
        sys.stdout.write(_stop_background(args.dir) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
