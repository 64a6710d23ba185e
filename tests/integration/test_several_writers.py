"""Several writers into one Chroma server, with the record manager and the writer lock in
a real PostgreSQL; and a second instance whose BM25 copy follows their writes.

Both servers are started by the tests on 127.0.0.1 (bench/stores.py) and stopped after.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from app.settings import Settings, load_settings
from app.store.bm25 import BM25Index
from app.store.bm25._index import all_chunks, index_dir
from app.store.bm25._segments import CompactionPolicy, SegmentedIndex
from app.store.records import namespace
from bench.stores import chroma_server, postgres_server
from ingest.indexing import delete_source, ingest_paths, open_knowledge_base
from tests.helpers import CMRC, free_port, settings_env, zhiku

COLLECTION = "team"


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[str]:
    with chroma_server(tmp_path / "chroma-server") as url:
        yield url


@pytest.fixture(scope="module")
def halves(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Half the CMRC corpus split in two folders with different files (about 350 chunks
    each: enough for the writers to be seen side by side, few enough for CI)."""
    root = tmp_path_factory.mktemp("halves")
    files = sorted(CMRC.iterdir())[:128]
    for name, part in (("a", files[::2]), ("b", files[1::2])):
        (root / name).mkdir()
        for file in part:
            shutil.copy(file, root / name)
    return root / "a", root / "b"


@pytest.fixture(scope="module")
def clean(halves, tmp_path_factory, embedding_cache_root) -> dict[str, str]:
    """Chunk id -> text of a clean ingest of both folders, one after the other."""
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("clean"),
        cache_dir=embedding_cache_root,
        embedding_backend="use",
    )
    kb = open_knowledge_base(settings, COLLECTION)
    for folder in halves:
        assert ingest_paths(kb, [folder]).ok
    return chunks(kb)


def chunks(kb) -> dict[str, str]:
    ids, texts = all_chunks(kb.store)
    assert len(ids) == len(set(ids))
    return dict(zip(ids, texts, strict=True))


def recorded_per_folder(settings: Settings, folders: tuple[Path, Path]) -> tuple[int, int]:
    """Records (chunks) written so far from each folder's files."""
    engine = create_engine(settings.storage.record_manager_url)
    try:
        with engine.connect() as conn:
            groups = conn.execute(
                text("SELECT group_id FROM upsertion_record WHERE namespace = :ns"),
                {"ns": namespace(settings, COLLECTION)},
            ).scalars()
            groups = list(groups)
    except Exception:  # the table does not exist yet
        return 0, 0
    finally:
        engine.dispose()
    names = [{p.name for p in folder.iterdir()} for folder in folders]
    return sum(g in names[0] for g in groups), sum(g in names[1] for g in groups)


def start_ingest(settings: Settings, folder: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(Path(sys.executable).with_name("zhiku")),
            "ingest",
            str(folder),
            "--collection",
            COLLECTION,
        ],
        env=settings_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_ingests_of_different_folders_run_at_once_and_a_killed_one_is_repaired(
    make_settings, postgres: str, chroma: str, halves: tuple[Path, Path], clean: dict[str, str]
) -> None:
    # One data folder, as the chat's uploads and the CLI share one; no embedding cache,
    # so embedding keeps both writers busy long enough to be seen side by side.
    settings = make_settings(
        chroma_server_url=chroma, record_manager_url=postgres, embedding_cache=False
    )
    first, second = (start_ingest(settings, folder) for folder in halves)
    both_partial = False
    deadline = time.monotonic() + 300
    while not both_partial:
        assert first.poll() is None and second.poll() is None, "a writer ended too soon"
        assert time.monotonic() < deadline
        a, b = recorded_per_folder(settings, halves)
        both_partial = min(a, b) >= 50  # both have written, neither waited for the other
        time.sleep(0.05)
    second.send_signal(signal.SIGKILL)
    second.communicate(timeout=60)
    assert second.returncode == -signal.SIGKILL
    _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err
    a, b = recorded_per_folder(settings, halves)
    assert a > 0 and 0 < b < len(clean) - a  # the killed writer did stop half-way

    rerun = zhiku(settings, "ingest", str(halves[1]), "--collection", COLLECTION)
    assert rerun.returncode == 0, rerun.stderr

    kb = open_knowledge_base(settings, COLLECTION)
    assert chunks(kb) == clean  # ids and texts, no duplicate, nothing lost
    assert sorted(kb.record_manager.list_keys()) == sorted(clean)
    kb.bm25.follow()
    index = SegmentedIndex.open(kb.bm25.folder)
    assert len(index.ids) == len(set(index.ids)) and set(index.ids) == set(clean)


def test_same_folder_twice_is_refused_with_a_clear_line(make_settings, postgres, chroma, halves):
    settings = make_settings(chroma_server_url=chroma, record_manager_url=postgres)
    from ingest.writer_lock import writer_lock

    with writer_lock(settings, "busy", roots=[str(halves[0].resolve())]):
        result = zhiku(settings, "ingest", str(halves[0]), "--collection", "busy")
        assert result.returncode == 1
        assert "another ingest of" in result.stderr and "Traceback" not in result.stderr
        pruning = zhiku(settings, "ingest", str(halves[1]), "--collection", "busy", "--prune")
        assert pruning.returncode == 1 and "re-index" in pruning.stderr


def test_a_second_instance_follows_another_instances_writes(
    tmp_path: Path, make_settings, postgres: str, chroma: str, monkeypatch
) -> None:
    """Two data folders (two machines) on one Chroma server and one record-manager
    database: B's BM25 copy notices A's add and delete at its next query."""
    from app.retrieval.hybrid import build_retriever

    # A small collection is normally rebuilt whole (milliseconds); here it must not be.
    monkeypatch.setattr(BM25Index, "policy", CompactionPolicy(rebuild_below=0))

    folder = tmp_path / "docs"
    folder.mkdir()
    for file in sorted(CMRC.iterdir())[:20]:
        shutil.copy(file, folder)
    a = make_settings(
        data_dir=tmp_path / "a", chroma_server_url=chroma, record_manager_url=postgres
    )
    b = make_settings(
        data_dir=tmp_path / "b", chroma_server_url=chroma, record_manager_url=postgres
    )
    kb_a = open_knowledge_base(a, "shared")
    assert ingest_paths(kb_a, [folder]).ok
    bm25_b = build_retriever(b, "shared", retriever="bm25")
    hybrid_b = build_retriever(b, "shared")
    assert bm25_b.invoke("阿库熊猫的吉祥物编号")  # B loads its own copy now
    before = SegmentedIndex.open(index_dir(b, "shared"))

    (folder / "new.txt").write_text("知库的吉祥物是一只叫阿库的熊猫，编号 A-1207。", "utf-8")
    assert ingest_paths(kb_a, [folder]).ok
    assert bm25_b.invoke("阿库熊猫的吉祥物编号")[0].metadata["source"] == "new.txt"
    assert "new.txt" in {d.metadata["source"] for d in hybrid_b.invoke("阿库熊猫的吉祥物编号")}
    after = SegmentedIndex.open(index_dir(b, "shared"))
    assert len(after.segments) == len(before.segments) + 1  # one small segment, no rebuild
    assert after.segments[0].name == before.segments[0].name

    delete_source(kb_a, "new.txt")
    assert all(d.metadata["source"] != "new.txt" for d in bm25_b.invoke("阿库熊猫的吉祥物编号"))


def test_an_unreachable_record_manager_database_is_one_line_without_the_password(
    make_settings,
) -> None:
    url = f"postgresql+psycopg://zhiku:s3cret-pw@127.0.0.1:{free_port()}/zhiku"
    settings = make_settings(record_manager_url=url)
    result = zhiku(settings, "ingest", str(CMRC), "--collection", "nowhere")
    assert result.returncode == 1
    assert "cannot use the record-manager database" in result.stderr
    assert "s3cret-pw" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
