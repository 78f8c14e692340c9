"""Embed ``knowledge/background.yaml`` with the bundled model and ship the vectors.

The ``background`` abstention signal compares a question with these everyday sentences
(:mod:`knowledge.background`). Shipping their vectors for the bundled model means no
index, ingest or question pays for embedding them; ``tests/knowledge/test_background.py``
fails when the sentences change and this script was not run again.

Run from the repository root: ``.venv/bin/python scripts/compute_background_vectors.py``.
"""

from __future__ import annotations

from knowledge.background import SHIPPED, embed, fingerprint, save
from knowledge.embeddings import LOCAL_SPEC, LocalE5Embeddings, embeddings_id


def main() -> None:
    vectors = embed(LocalE5Embeddings())
    save(SHIPPED, vectors, fingerprint(embeddings_id(LOCAL_SPEC)))
    sizes = ", ".join(f"{language}: {len(matrix)}" for language, matrix in vectors.items())
    print(f"wrote {SHIPPED} ({sizes})")


if __name__ == "__main__":
    main()
