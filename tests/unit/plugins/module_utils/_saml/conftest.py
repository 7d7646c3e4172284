# -*- coding: utf-8 -*-
"""Make tests/support importable (the corpus locator and the test-data factory)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "support"))
