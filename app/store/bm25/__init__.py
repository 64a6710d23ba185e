"""A collection's BM25 index: one object, `BM25Index`, and its private machinery.

    index = BM25Index.open(settings, collection, store, records)
    index.search(query, k)        # follows the collection's version first
    with index.writing():         # around writes to Chroma and the record manager
        ...                       # on the way out the index takes them in

What happens to BM25 when chunks are added or deleted is `BM25Index.follow`
(_index.py). Behind it: _segments.py (base + delta segments, tombstones, compaction,
the manifest), _scoring.py (one bm25s index, the tokens, collection statistics) and
_marker.py (the STALE marker and the update lock that make it crash-safe). Nothing
outside this package imports those (tests/unit/test_layers.py checks it).
"""

from app.store.bm25._index import BM25Index, index_dir

__all__ = ["BM25Index", "index_dir"]
