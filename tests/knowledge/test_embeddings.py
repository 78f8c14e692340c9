"""The bundled embedding model: questions are embedded side by side, not one at a time."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from knowledge.embeddings import LocalE5Embeddings

TEXTS = [
    "What is the activation stage?",
    "怎样召回流失用户？",
    "公司食堂在哪里？",
    "How long do we keep the opt-in record?",
]


def test_questions_embedded_in_parallel_threads_get_the_vectors_they_get_alone(
    e5: LocalE5Embeddings,
) -> None:
    alone = [e5.embed_query(text) for text in TEXTS]
    passages = e5.embed_passages(TEXTS * 4)
    with ThreadPoolExecutor(max_workers=8) as pool:
        # Questions and an ingest's passage batches at once: no lock serialises them, and
        # none may see another's working memory.
        ingest = pool.submit(e5.embed_passages, TEXTS * 4)
        together = list(pool.map(e5.embed_query, TEXTS * 4))
    assert together == alone * 4
    assert ingest.result() == passages
