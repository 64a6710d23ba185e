"""What adding and deleting one small file costs in a big collection.

`python -m bench.scale_updates ROOT SIZE` (a child of `python -m bench scale`) prints one
JSON object. A 3-chunk file is added with `ingest_paths` and removed with
`delete_source`, end to end as `zhiku ingest` / the Knowledge bases page do it (record
manager, Chroma, the BM25 index), a few times; the median is reported. Its embeddings are
computed beforehand (into zhiku's embedding cache) and reported apart, since they cost the
same whatever the collection's size. Baseline, same run: a full BM25 rebuild of the
collection (read every chunk from Chroma, tokenize, index, save), which is what every
write cost before the index was updated incrementally.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import time
from pathlib import Path

from app.store.bm25 import BM25Index
from bench.common import CORPORA
from bench.scale_build import COLLECTION, settings_for
from bench.scale_corpus import passage, read_paragraphs
from ingest.indexing import delete_source, ingest_paths, open_knowledge_base

REPEATS = 3
NEW_FILE = "新增资料.txt"
FIRST_NEW_PASSAGE = 10**7  # far above any size, so its text is new to the collection


def measure(root: Path, size: int) -> dict:
    settings = settings_for(root, size)
    kb = open_knowledge_base(settings, COLLECTION)
    folder = root / f"kb-{size}" / "update"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    paragraphs = read_paragraphs(list(CORPORA.values()))
    texts = [passage(FIRST_NEW_PASSAGE + i, paragraphs) for i in range(3)]
    (folder / NEW_FILE).write_text("\n\n".join(texts) + "\n", encoding="utf-8")

    started = time.perf_counter()
    kb.store.embeddings.embed_documents(texts)  # into the cache: the add embeds nothing
    embed_s = time.perf_counter() - started

    add_s, delete_s, added = [], [], []
    for _ in range(REPEATS):
        started = time.perf_counter()
        report = ingest_paths(kb, [folder])
        add_s.append(time.perf_counter() - started)
        added.append(report.chunks_added)
        started = time.perf_counter()
        delete_source(kb, NEW_FILE)
        delete_s.append(time.perf_counter() - started)

    scratch = root / f"kb-{size}" / "bm25-rebuild-baseline"
    started = time.perf_counter()
    BM25Index(scratch, kb.store).follow(rebuild=True)
    rebuild_s = time.perf_counter() - started
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.rmtree(folder, ignore_errors=True)
    add, delete = statistics.median(add_s), statistics.median(delete_s)
    return {
        "size": size,
        "chunks_added": added,
        "embed_new_file_s": round(embed_s, 3),
        "add_s": round(add, 3),
        "delete_s": round(delete, 3),
        "add_runs_s": [round(s, 3) for s in add_s],
        "delete_runs_s": [round(s, 3) for s in delete_s],
        "full_bm25_rebuild_s": round(rebuild_s, 2),
        "add_vs_rebuild": round(add / rebuild_s, 3),
        "delete_vs_rebuild": round(delete / rebuild_s, 3),
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
    }


if __name__ == "__main__":
    print(json.dumps(measure(Path(sys.argv[1]), int(sys.argv[2]))))
