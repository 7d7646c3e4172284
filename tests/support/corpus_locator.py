# -*- coding: utf-8 -*-
"""Where the shared real-world corpus (../shared/corpus/saml) is, from any copy of the project tree.

No pytest here: the benchmark finds the corpus through this too. saml_corpus.py adds the pytest helpers.
"""

from __future__ import annotations

import os
from pathlib import Path


def shared_corpus() -> Path | None:
    """$IDFED_SHARED_DIR/corpus/saml, else ../shared/corpus/saml beside the checkout. Walking up from this
    file finds it from the checkout and from the copy ansible-test runs in (build/collections/.../aws_sso)."""
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
    """The files of corpus/saml/<kind> (idp, sp, bad) by name; none when the corpus is absent."""
    if CORPUS is None:
        return []
    return sorted(path for path in (CORPUS / kind).iterdir() if path.is_file())
