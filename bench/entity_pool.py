"""Would the entity channel find the same chunk among the candidates already retrieved?

`python -m bench.entity_pool DATA_DIR COLLECTION QUESTIONS.jsonl [LIMIT]` (use backend;
the knowledge base must exist). The channel searches the whole collection with Chroma's
`$contains`, whose cost grows with the collection (210 ms at 100k chunks: see
docs/benchmarks.md, "Big knowledge bases"). A cheaper channel would look for the term
only among the 2 × fetch_k candidates that dense and BM25 returned. This counts, for
every chunk the channel brings in, whether it was among those candidates: where it was,
the cheaper channel would give the same answer.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from app.retrieval.hybrid import build_retriever
from app.settings import load_settings
from bench.common import read_questions


def measure(data_dir: Path, collection: str, questions: Path, limit: int) -> dict:
    settings = load_settings(data_dir=data_dir, embedding_backend="use")
    channel = build_retriever(settings, collection)
    pool = build_retriever(
        settings, collection, entity_channel=False, top_k=2 * settings.retrieval.fetch_k
    )
    brought, in_pool = 0, 0
    for question in read_questions(questions)[:limit]:
        docs = channel.invoke(question["question"])
        entered = [d.id for d in docs if d.metadata["scores"].get("entity") == 1]
        if not entered:
            continue
        candidates = {d.id for d in pool.invoke(question["question"])}
        brought += len(entered)
        in_pool += sum(chunk_id in candidates for chunk_id in entered)
    return {
        "collection": collection,
        "questions": min(limit, len(read_questions(questions))),
        "chunks_brought_by_channel": brought,
        "of_them_among_candidates": in_pool,
    }


if __name__ == "__main__":
    limit = int(sys.argv[4]) if len(sys.argv) > 4 else 10**9
    print(json.dumps(measure(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), limit)))
