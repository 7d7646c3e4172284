# -*- coding: utf-8 -*-
"""pytest helpers over the shared corpus: one parameter per file, and a clean skip when it is absent.
Finding the corpus is corpus_locator's job (no pytest there: the benchmark uses it too)."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus_locator import corpus_files  # tests/support is on sys.path (conftest.py); re-exported for the tests


def corpus_params(kind: str):
    files = corpus_files(kind)
    if not files:
        return [pytest.param(None, marks=pytest.mark.skip(reason="../shared/corpus/saml is absent"))]
    return [pytest.param(path, id=path.name.split("__")[0] + "/" + path.name.split("__")[-1]) for path in files]


def corpus_file(kind: str, prefix: str) -> Path:
    """The one corpus file whose name starts with `prefix__`; skips the test when the corpus is absent."""
    for path in corpus_files(kind):
        if path.name.startswith(prefix + "__"):
            return path
    pytest.skip("corpus file {0}/{1}__* is absent".format(kind, prefix))
