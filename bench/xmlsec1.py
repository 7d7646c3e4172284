# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`xmlsec1 --verify`, the C reference for metadata signatures, as a peer: one process per verification."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

from .inputs import MD
from .runner import process_maxrss_kib, run_quietly

# xmlsec1 resolves the signature's Reference URI="#..." only through attributes declared as IDs.
ID_ATTRS = ["--id-attr:ID", MD + ":EntityDescriptor", "--id-attr:ID", MD + ":EntitiesDescriptor"]


class Xmlsec1:
    """Its wall time includes process start; its memory is the child's maxrss."""

    def __init__(self, binary: str):
        self.binary = binary
        self.folder = tempfile.mkdtemp(prefix="idfed-bench-xmlsec1-")

    @classmethod
    def find(cls) -> Xmlsec1 | None:
        binary = shutil.which("xmlsec1")
        return cls(binary) if binary else None

    def prepare(self, data: bytes, cert_pem: str) -> list[str]:
        """The command line verifying `data` against `cert_pem` (both written to this run's folder)."""
        digest = hashlib.sha256(data + cert_pem.encode()).hexdigest()[:16]
        doc, cert = Path(self.folder, digest + ".xml"), Path(self.folder, digest + ".pem")
        doc.write_bytes(data)
        cert.write_text(cert_pem, encoding="ascii")
        return [self.binary, "--verify", "--pubkey-cert-pem", str(cert)] + ID_ATTRS + [str(doc)]

    @staticmethod
    def run(argv: list[str]) -> int:
        """Exit status of one run (0: verified; negative: killed by that signal)."""
        return run_quietly(argv)

    @staticmethod
    def maxrss(argv: list[str]) -> int | None:
        return process_maxrss_kib(argv)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
