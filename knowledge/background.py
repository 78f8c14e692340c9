"""Reference sentences from outside the course, for telling off-topic questions apart.

A small embedding model gives an off-topic question ("Who won the football match last
night?") a fair similarity to some course sentence, because every question is fairly
similar to something. What separates the two better is whether the question sits closer
to the course than to ordinary talk about everything else. ``background.yaml`` holds 240
Chinese and 240 English everyday sentences (HR, IT, office life, travel, weather, sports,
news, cooking at home, health, holidays…), written for trainbot and kept free of the
course's topics; the ``background`` signal of :func:`knowledge.answer.signals` is the best
course similarity minus the best similarity to these sentences in the question's language.

Their vectors for the bundled model ship as ``e5_background.npz``
(``scripts/compute_background_vectors.py``), so no question or ingest pays for embedding
them. With any other embedding model they are embedded once, on first use, and cached in
the index directory.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from langchain_core.embeddings import Embeddings

logger = logging.getLogger(__name__)

SENTENCES = Path(__file__).with_name("background.yaml")
SHIPPED = Path(__file__).with_name("e5_background.npz")
LANGUAGES = ("zh", "en")


def sentences(path: Path = SENTENCES) -> dict[str, list[str]]:
    """The reference sentences by language."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))["sentences"]
    return {language: [str(text) for text in data[language]] for language in LANGUAGES}


def fingerprint(embeddings_id: str, path: Path = SENTENCES) -> str:
    """Identifies one set of sentences embedded by one model."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return f"{embeddings_id}|{digest}"


def embed(embeddings: Embeddings, path: Path = SENTENCES) -> dict[str, np.ndarray]:
    """Embed the sentences as passages (unit vectors), by language."""
    texts = sentences(path)
    return {
        language: np.asarray(embeddings.embed_documents(texts[language]), dtype=np.float32)
        for language in LANGUAGES
    }


def save(path: Path, vectors: Mapping[str, np.ndarray], key: str) -> None:
    """Write vectors (as 16-bit floats: plenty for cosine similarity) with their fingerprint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        arrays: dict[str, Any] = {
            language: matrix.astype(np.float16) for language, matrix in vectors.items()
        }
        arrays["fingerprint"] = np.array(key)
        np.savez_compressed(handle, **arrays)


def _load(path: Path, key: str) -> dict[str, np.ndarray] | None:
    if not path.is_file():
        return None
    with np.load(path) as data:
        if str(data["fingerprint"]) != key:
            return None
        return {language: data[language].astype(np.float32) for language in LANGUAGES}


def vectors(
    embeddings: Embeddings, embeddings_id: str, cache_dir: Path, path: Path = SENTENCES
) -> dict[str, np.ndarray]:
    """The sentences' vectors for this model: shipped, cached, or embedded now and cached."""
    key = fingerprint(embeddings_id, path)
    for candidate in (SHIPPED, cache_dir / "background.npz"):
        found = _load(candidate, key)
        if found is not None:
            return found
    logger.info("embedding %s for the off-topic signal (once per index)", path.name)
    save(cache_dir / "background.npz", embed(embeddings, path), key)
    stored = _load(cache_dir / "background.npz", key)
    assert stored is not None  # just written with this key
    return stored  # as stored (16-bit), the same as every later load
