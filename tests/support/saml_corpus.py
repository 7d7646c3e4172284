# -*- coding: utf-8 -*-
"""Where the shared real-world corpus (../shared/corpus/saml) is, from any copy of the project tree."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def shared_corpus() -> Path | None:
    """../shared/corpus/saml beside the project (or IDFED_SHARED_DIR), found from any copy of the tree."""
    candidates = []
    if os.environ.get("IDFED_SHARED_DIR"):
        candidates.append(Path(os.environ["IDFED_SHARED_DIR"]))
    candidates.extend(parent.parent / "shared" for parent in Path(__file__).resolve().parents)
    for candidate in candidates:
        if (candidate / "corpus" / "saml").is_dir():
            return candidate / "corpus" / "saml"
    return None


CORPUS = shared_corpus()


def corpus_files(kind: str) -> list[Path]:
    if CORPUS is None:
        return []
    return sorted(path for path in (CORPUS / kind).iterdir() if path.is_file())


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
