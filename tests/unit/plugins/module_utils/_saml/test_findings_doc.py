# -*- coding: utf-8 -*-
"""The finding codes of docs/saml-metadata.md and the code's table (findings.CODES) are the same set."""

from __future__ import annotations

import re
from pathlib import Path

from ansible_collections.idfed.aws_sso.plugins.module_utils._saml.findings import CODES, WARNING

# The collection root: this file is tests/unit/plugins/module_utils/_saml/ inside it (checkout or built tree).
GUIDE = Path(__file__).resolve().parents[5] / "docs" / "saml-metadata.md"


def _documented() -> dict[str, bool]:
    """code -> marked "(warning)", from the first column of the table under the "Finding codes" heading."""
    section = re.search(r"^## [^\n]*Finding codes\n(.*?)(?=^## |\Z)", GUIDE.read_text(encoding="utf-8"),
                        re.MULTILINE | re.DOTALL)
    assert section, "{0} has no 'Finding codes' section".format(GUIDE)
    documented = {}
    for row in section.group(1).splitlines():
        cells = row.split("|")
        if len(cells) < 3 or not cells[1].strip().startswith("`"):
            continue  # not a table row, or the header and its rule
        for code in re.findall(r"`([a-z0-9_]+)`", cells[1]):
            documented[code] = "(warning)" in cells[1]
    return documented


def test_every_documented_code_exists_and_every_code_is_documented():
    documented = _documented()
    assert sorted(set(documented) - set(CODES)) == [], "documented in {0} but not in findings.CODES".format(GUIDE.name)
    assert sorted(set(CODES) - set(documented)) == [], "in findings.CODES but not documented in {0}".format(GUIDE.name)


def test_documented_warnings_are_the_warning_codes():
    documented = _documented()
    assert sorted(code for code, warning in documented.items() if warning) == \
        sorted(code for code, (severity, _meaning) in CODES.items() if severity == WARNING)
