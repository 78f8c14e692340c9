"""Compute the sentiment centroids of the bundled e5 model from the labelled comments.

:class:`bot.evaluation.sentiment.CentroidSentiment` reads a comment as the label whose mean
comment vector (centroid) it is closest to. The centroids are the mean language-centred
passage vectors of ``tests/data/comments.csv`` and ``tests/data/comments_fresh.csv`` (180
comments, zh and en, a third per label); ``tests/data/comments_blind.csv`` is left out so it
measures them (docs/benchmarks.md). The result is committed as
``bot/evaluation/sentiment_centroids.json``; it depends only on the model and those comments.

Run from the repository root: ``.venv/bin/python scripts/compute_sentiment_centroids.py``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from bot.evaluation.sentiment import CENTROID_SOURCES, CENTROIDS
from knowledge.embeddings import LOCAL_MODEL_ID, LocalE5Embeddings

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    """Embed the labelled comments and write the per-label mean vectors."""
    texts: list[str] = []
    labels: list[str] = []
    for name in CENTROID_SOURCES:
        with (ROOT / name).open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                texts.append(row["text"])
                labels.append(row["label"])
    vectors = np.asarray(LocalE5Embeddings().embed_documents(texts), dtype=np.float64)
    centroids = {}
    for label in sorted(set(labels)):
        mean = vectors[[index for index, own in enumerate(labels) if own == label]].mean(axis=0)
        centroids[label] = [round(float(value), 6) for value in mean / np.linalg.norm(mean)]
    CENTROIDS.write_text(
        json.dumps(
            {
                "model": LOCAL_MODEL_ID,
                "sources": list(CENTROID_SOURCES),
                "comments": {label: labels.count(label) for label in sorted(set(labels))},
                "centroids": centroids,
            }
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {CENTROIDS.relative_to(ROOT)} from {len(texts)} comments")


if __name__ == "__main__":
    main()
