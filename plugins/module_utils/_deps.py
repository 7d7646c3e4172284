# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: no compatibility promise; other collections must not import this.

The third-party libraries the modules use, with the oldest version the code works with. A module
checks the ones every run needs when it starts, and a library used only on one path (requests for
a URL, signxml for a signature the fast verifier declines) is imported, and checked, when that
path runs: a task pays the import time of what it uses and no more. Pure Python, no Ansible import.
"""

from __future__ import annotations

import importlib
import re
import sys
import traceback
from dataclasses import dataclass


@dataclass(frozen=True)
class Library:
    name: str  # the pip name, also the import name for every library listed here
    minimum: str
    why: str  # what needs at least that version


LIBRARIES: dict[str, Library] = {lib.name: lib for lib in (
    Library("lxml", "5.0.0", "hardened parsing (resolve_entities=False, huge_tree off) and canonicalisation"),
    Library("cryptography", "42.0.0", "the timezone-aware not_valid_before_utc/not_valid_after_utc attributes"),
    Library("signxml", "4.0.0", "XMLVerifier with SignatureConfiguration"),
    Library("requests", "2.31.0", "streamed bodies with per-read timeouts"),
    Library("boto3", "1.34.0", "the sso-admin and identitystore operations"),
    Library("botocore", "1.34.0", "the sso-admin and identitystore service models"),
)}


class MissingLibrary(Exception):
    """A library is absent or older than LIBRARIES says; the message names the fix."""

    def __init__(self, library: Library, installed: str | None, detail: str | None = None):
        found = "it is not installed" if installed is None else "version {0} is installed".format(installed)
        super().__init__(
            "This module needs the Python library {0} >= {1} ({2}) on the host it runs on, and {3}. Install it with "
            "pip install '{0}>={1}' for the Python at {4}, or point ansible_python_interpreter at a Python that "
            "has it.".format(library.name, library.minimum, library.why, found, sys.executable))
        self.library = library
        self.traceback = detail


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version.split("+")[0])[:3])


def _installed_version(module) -> str:
    version = getattr(module, "__version__", None)
    if isinstance(version, str):
        return version
    from importlib import metadata  # pylint: disable=import-outside-toplevel  # 40 ms; only for libraries without __version__
    return metadata.version(module.__name__)


def load(name: str):
    """Import a library of LIBRARIES and check its version; raise MissingLibrary otherwise."""
    library = LIBRARIES[name]
    try:
        module = importlib.import_module(name)
    except ImportError:
        raise MissingLibrary(library, None, traceback.format_exc()) from None
    installed = _installed_version(module)
    if _version_tuple(installed) < _version_tuple(library.minimum):
        raise MissingLibrary(library, installed)
    return module


def require(module, *names: str) -> None:
    """Fail an AnsibleModule with a clear message when one of the libraries cannot be used."""
    for name in names:
        try:
            load(name)
        except MissingLibrary as exc:
            module.fail_json(msg=str(exc), exception=exc.traceback)


def documented_requirements(names) -> list[str]:
    """The `requirements:` lines of a module's documentation for these libraries (a test keeps them in sync)."""
    return ["{0} >= {1}".format(name, LIBRARIES[name].minimum) for name in names]
