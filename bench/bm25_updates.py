"""Incremental BM25 (issue 15): what a small change costs, and what growing costs in quality.

`python -m bench bm25-updates` runs, in one process:

- quality: each shared corpus split as `zhiku ingest` splits it; BM25 alone, source
  hit@1 / MRR@10 over its questions, for (a) one index built fresh (what every write
  rebuilt before) and (b) the same chunks added one file at a time, then a fifth of the
  files deleted and added back, through the segments (deltas, tombstones, merges and
  compactions as the default policy decides; the small-collection shortcut turned off);
- cost: a synthetic collection of SIZE chunks (sentences of both corpora recombined),
  the baseline being a full build (tokenize, index, save: what every write cost before)
  against adding a 3-chunk file and deleting it through `SegmentedIndex.apply`, and
  against the sync's bookkeeping at that size (the record manager's key list and the
  version read every query pays), on SQLite in a temporary folder and on a throw-away
  PostgreSQL on 127.0.0.1 when its binaries are installed.
"""

from __future__ import annotations

import random
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from app.evaluation.retrieval_metrics import hit_at, reciprocal_rank
from app.store.bm25._segments import CompactionPolicy, SegmentedIndex  # white-box
from bench.common import CORPORA, QUESTIONS, read_questions
from bench.stores import postgres_bin, postgres_server
from ingest.loaders import load_file
from ingest.splitting import make_splitter, split_file

POLICY = replace(CompactionPolicy(), rebuild_below=0)


def corpus_chunks(folder: Path) -> dict[str, list[tuple[str, str]]]:
    """file name -> [(chunk id, text)], split with the default chunking."""
    splitter = make_splitter(300, 50)
    files: dict[str, list[tuple[str, str]]] = {}
    for path in sorted(folder.iterdir()):
        docs = split_file(load_file(path, 50_000_000), path.name, splitter)
        files[path.name] = [(f"{path.name}#{n}", d.page_content) for n, d in enumerate(docs)]
    return files


def grown_index(folder: Path, files: dict[str, list[tuple[str, str]]]) -> SegmentedIndex:
    """The chunks added file by file, then a fifth of the files deleted and re-added."""
    live: dict[str, str] = {}
    index = SegmentedIndex.create(folder, [], [])

    def apply(added: dict[str, str], gone: list[str]) -> None:
        nonlocal index
        live.update(added)
        for chunk_id in gone:
            live.pop(chunk_id, None)
        index = index.apply(
            added,
            gone,
            index.version + 1,
            texts_of=lambda ids: {i: live[i] for i in ids if i in live},
            everything=lambda: (list(live), list(live.values())),
            policy=POLICY,
        )

    for chunks in files.values():
        apply(dict(chunks), [])
    for name in sorted(files)[::5]:
        apply({}, [i for i, _ in files[name]])
    for name in sorted(files)[::5]:
        apply(dict(files[name]), [])
    return index


def quality(name: str, scratch: Path) -> list[dict]:
    files = corpus_chunks(CORPORA[name])
    source = {i: file for file, chunks in files.items() for i, _ in chunks}
    ids = [i for chunks in files.values() for i, _ in chunks]
    texts = [t for chunks in files.values() for _, t in chunks]
    fresh = SegmentedIndex.create(scratch / f"{name}-fresh", ids, texts)
    grown = grown_index(scratch / f"{name}-grown", files)
    questions = read_questions(QUESTIONS[name])
    rows = []
    for label, index in (("fresh build", fresh), ("grown by small changes", grown)):
        h1, mrr = [], []
        for q in questions:
            if not q.get("sources"):
                continue
            ranked = [source[i] for i, _ in index.search(q["question"], 10)]
            h1.append(hit_at(1, ranked, q["sources"]))
            mrr.append(reciprocal_rank(ranked, q["sources"], 10))
        rows.append(
            {
                "corpus": name,
                "index": label,
                "chunks": len(index),
                "segments": len(index.segments),
                "questions": len(h1),
                "hit@1": round(statistics.mean(h1), 4),
                "mrr@10": round(statistics.mean(mrr), 4),
            }
        )
    return rows


def synthetic(size: int, seed: int = 5) -> list[str]:
    """`size` chunk-sized passages recombined from both corpora's sentences."""
    sentences = [
        s
        for folder in CORPORA.values()
        for chunks in corpus_chunks(folder).values()
        for _, text in chunks
        for s in re.split(r"(?<=[。！？；])", text)
        if len(s) > 8
    ]
    rng = random.Random(seed)
    return ["".join(rng.sample(sentences, 8))[:300] + f" 编号{i}" for i in range(size)]


def _seconds(action: Callable[[], object], repeats: int = 1) -> float:
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def cost(size: int, scratch: Path) -> dict:
    texts = synthetic(size)
    ids = [f"c{i}" for i in range(size)]
    folder = scratch / f"cost-{size}"
    started, cpu = time.perf_counter(), time.process_time()
    index = SegmentedIndex.create(folder, ids, texts)
    build_s, build_cpu = time.perf_counter() - started, time.process_time() - cpu
    new = {f"new{i}": t for i, t in enumerate(synthetic(3, seed=99))}
    policy = CompactionPolicy()  # the default: what `zhiku ingest` does
    add_s, delete_s, add_cpu = [], [], []
    for _ in range(3):
        started, cpu = time.perf_counter(), time.process_time()
        index = index.apply(new, [], index.version + 1, dict, None, policy)
        add_s.append(time.perf_counter() - started)
        add_cpu.append(time.process_time() - cpu)
        started = time.perf_counter()
        index = index.apply({}, list(new), index.version + 1, dict, None, policy)
        delete_s.append(time.perf_counter() - started)
    load_s = _seconds(lambda: SegmentedIndex.open(folder))
    query_ms = 1000 * _seconds(lambda: index.search("长江流域的气候特点是什么", 50), 20)
    bookkeeping = {"sqlite": record_manager_costs(ids, f"sqlite:///{scratch / 'records.sqlite'}")}
    if postgres_bin() is not None:
        with postgres_server() as url:
            bookkeeping["postgresql"] = record_manager_costs(ids, url)
    add, delete = statistics.median(add_s), statistics.median(delete_s)
    return {
        "chunks": size,
        "full_build_s": round(build_s, 2),
        "full_build_cpu_s": round(build_cpu, 2),
        "add_3_chunks_cpu_s": round(statistics.median(add_cpu), 3),
        "add_3_chunks_s": round(add, 3),
        "delete_3_chunks_s": round(delete, 3),
        "add_vs_build": round(add / build_s, 4),
        "delete_vs_build": round(delete / build_s, 4),
        "load_s": round(load_s, 2),
        "bm25_query_ms": round(query_ms, 1),
        "segments_after": len(index.segments),
        "record_manager": bookkeeping,
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
    }


def record_manager_costs(ids: list[str], url: str) -> dict:
    """What a sync reads besides the change: every key; and what every query reads."""
    from langchain_classic.indexes import SQLRecordManager

    from app.store.records import CollectionRecords

    records = CollectionRecords(url, "embedded/bench")
    manager: SQLRecordManager = records.manager
    for start in range(0, len(ids), 5000):
        manager.update(ids[start : start + 5000], group_ids=["f"] * len(ids[start : start + 5000]))
    records.bump()
    keys_s = _seconds(records.keys, 3)
    version_ms = 1000 * _seconds(lambda: [records.version() for _ in range(1000)]) / 1000
    return {"list_keys_s": round(keys_s, 3), "version_read_ms": round(version_ms, 3)}


def run(size: int = 100_000) -> dict:
    with tempfile.TemporaryDirectory(prefix="zhiku-bm25-updates-") as tmp:
        scratch = Path(tmp)
        rows = quality("cmrc2018_trial", scratch) + quality("llm_articles", scratch)
        return {"quality": rows, "cost": cost(size, scratch)}


def regrow(collection: str) -> dict:
    """Replace a knowledge base's BM25 index (configured data folder) by one grown file by
    file through the segments, so `zhiku eval` can score it; returns its shape."""
    from app.models.embeddings import make_embeddings
    from app.settings import get_settings
    from app.store.bm25._index import index_dir
    from app.store.chroma import iter_pages, open_vector_store
    from app.store.records import CollectionRecords

    settings = get_settings()
    store = open_vector_store(settings, make_embeddings(settings), collection)
    files: dict[str, list[tuple[str, str]]] = {}
    for page in iter_pages(store, ["documents", "metadatas"]):
        for i, text, meta in zip(page["ids"], page["documents"], page["metadatas"], strict=True):
            files.setdefault(str(meta["source"]), []).append((i, text))
    folder = index_dir(settings, collection)
    index = grown_index(folder, dict(sorted(files.items())))
    version = CollectionRecords.of(settings, collection).version()
    index = index.apply({}, [], version, dict, None, POLICY)  # mark it current
    return {"chunks": len(index), "segments": len(index.segments), "version": index.version}


if __name__ == "__main__":
    import sys

    print(regrow(sys.argv[1]))
