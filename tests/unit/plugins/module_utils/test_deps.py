# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dependency table: version checks, the message, and the modules' documented requirements."""

from __future__ import annotations

import importlib
import pathlib
import sys
import types

import pytest
import yaml

from ansible_collections.idfed.aws_sso.plugins.module_utils import _deps

MODULES = pathlib.Path(__file__).resolve().parents[4] / "plugins" / "modules"


def _module_names() -> list[str]:
    names = sorted(path.stem for path in MODULES.glob("*.py") if path.stem != "__init__")
    assert names, "no module found under {0}".format(MODULES)
    return names


@pytest.mark.parametrize("name", _module_names())
def test_documented_requirements_match_the_table(name):
    """Each module's `requirements:` is exactly python plus its LIBRARIES at the table's minimum versions."""
    module = importlib.import_module("ansible_collections.idfed.aws_sso.plugins.modules." + name)
    documented = yaml.safe_load(module.DOCUMENTATION)["requirements"]
    assert documented[0] == "python >= 3.10"
    assert documented[1:] == _deps.documented_requirements(module.LIBRARIES)


def test_an_old_version_is_refused_with_the_fix(monkeypatch):
    monkeypatch.setitem(sys.modules, "requests", types.SimpleNamespace(__name__="requests", __version__="2.0.1"))
    with pytest.raises(_deps.MissingLibrary) as caught:
        _deps.load("requests")
    message = str(caught.value)
    assert "requests >= 2.31.0" in message and "version 2.0.1 is installed" in message
    assert "pip install 'requests>=2.31.0'" in message and sys.executable in message


def test_a_missing_library_is_refused_with_the_fix(monkeypatch):
    monkeypatch.setitem(sys.modules, "signxml", None)  # makes `import signxml` raise ImportError
    with pytest.raises(_deps.MissingLibrary) as caught:
        _deps.load("signxml")
    assert "signxml >= 4.0.0" in str(caught.value) and "it is not installed" in str(caught.value)
    assert "ImportError" in caught.value.traceback or "ModuleNotFoundError" in caught.value.traceback


def test_installed_versions_pass():
    for name in ("lxml", "cryptography", "requests", "signxml"):
        assert _deps.load(name) is importlib.import_module(name)


def test_version_comparison_reads_numbers_not_text():
    assert _deps._version_tuple("42.0.10") > _deps._version_tuple("42.0.9")
    assert _deps._version_tuple("5.0.0+local") == (5, 0, 0)
