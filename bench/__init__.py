# -*- coding: utf-8 -*-
# Copyright: contributors to idfed.aws_sso
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""make bench: speed and memory of the collection next to its peers, one section per topic (bench/README.md).

The sections import the project's code from the checkout this package sits in: plugins.module_utils...
from the root, and the test helpers (corpus_locator, saml_factory) from tests/support.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT / "tests" / "support", ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
