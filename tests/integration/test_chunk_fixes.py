"""Chunk fixes (issue 28, item 2) through the knowledge-base service, with the real
embedding model, real embedded Chroma, the real BM25 index and record manager.

An edit is searchable by its new words and no longer by the old ones; it survives a
re-index of the unchanged file; it is dropped, with a note in the report and the change
log, when the file changes; an edit saved while a re-index runs waits for it and loses
nothing, duplicates nothing; a second editor of the same chunk is told who changed it.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from app.errors import UserError
from app.knowledge.service import KnowledgeBases
from app.knowledge.types import ChunkConflict, IngestBusyError, Progress, UnknownChunk
from app.retrieval.service import RetrievalService
from app.settings import Settings

KB = "fixes"
GUIDE = "guide.txt"
PARAGRAPHS = [
    "第一段：紫藤项目的预算由财务部的周海峰审批，审批周期一般为五个工作日，超过十万元需要总监签字。",
    "第二段：银杏机房位于北京亦庄，机房的值班电话是八八六六，夜间值班由运维组轮流负责，每周一换班。",
    "第三段：海棠系统的登录方式是企业微信扫码，首次登录需要管理员在后台开通账号并分配角色权限。",
]
OLD_WORD, NEW_WORD = "八八六六", "九九七七"


@pytest.fixture
def setup(make_settings, tmp_path: Path) -> tuple[Settings, KnowledgeBases, Path]:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / GUIDE).write_text("\n\n".join(PARAGRAPHS), encoding="utf-8")
    (folder / "other.txt").write_text(
        "其他说明：玉兰食堂每天中午十一点半开饭，周末不开放，访客需要提前登记。" * 3,
        encoding="utf-8",
    )
    settings = make_settings(chunk_size=60, chunk_overlap=0, first_start_samples=False)
    knowledge = KnowledgeBases(settings)
    knowledge.create(KB)
    assert knowledge.ingest_paths(KB, [folder]).ok
    return settings, knowledge, folder


def machine_room_chunk(knowledge: KnowledgeBases):
    return next(c for c in knowledge.chunks(KB, GUIDE) if OLD_WORD in c.text)


def found(settings: Settings, query: str, retriever: str) -> list[str]:
    """The texts a search returns (a fresh service each time, as another process would)."""
    service = RetrievalService(settings.model_copy(update={"retriever": retriever}))
    return [c.text for c in service.search(KB, query, k=3)]


def test_an_edit_is_searchable_by_its_new_words_and_not_by_the_old(setup) -> None:
    settings, knowledge, _ = setup
    chunk = machine_room_chunk(knowledge)
    new_text = chunk.text.replace(OLD_WORD, NEW_WORD)
    saved = knowledge.edit_chunk(KB, chunk.chunk_id, new_text, chunk.revision, "alice")
    assert (saved.state, saved.revision, saved.text) == ("edited", 1, new_text)
    assert any(NEW_WORD in text for text in found(settings, NEW_WORD, "bm25"))
    assert not any(OLD_WORD in text for text in found(settings, OLD_WORD, "bm25"))
    assert found(settings, "银杏机房的值班电话是多少", "dense")[0] == new_text
    log = knowledge.chunk_changes(KB, GUIDE)
    assert (log[0].kind, log[0].who, log[0].before, log[0].after) == (
        "edit", "alice", chunk.text, new_text,
    )  # fmt: skip
    assert len(knowledge.chunks(KB, GUIDE)) == len(PARAGRAPHS)


def test_an_edit_survives_a_reindex_of_the_unchanged_file(setup) -> None:
    settings, knowledge, _ = setup
    chunk = machine_room_chunk(knowledge)
    new_text = chunk.text.replace(OLD_WORD, NEW_WORD)
    knowledge.edit_chunk(KB, chunk.chunk_id, new_text, 0, "alice")
    report = knowledge.reindex(KB)
    assert report.ok and not report.fixes_dropped and report.chunks_added == 0
    after = knowledge.chunks(KB, GUIDE)
    assert len(after) == len(PARAGRAPHS)
    assert [c.text for c in after if c.chunk_id == chunk.chunk_id] == [new_text]
    assert any(NEW_WORD in text for text in found(settings, NEW_WORD, "bm25"))


@pytest.mark.parametrize("where", [0, 1], ids=["another-chunk-changed", "its-own-text-changed"])
def test_an_edit_is_dropped_with_a_note_when_the_file_changes(setup, where: int) -> None:
    settings, knowledge, folder = setup
    chunk = machine_room_chunk(knowledge)
    knowledge.edit_chunk(KB, chunk.chunk_id, chunk.text.replace(OLD_WORD, NEW_WORD), 0, "alice")
    changed = list(PARAGRAPHS)
    changed[where] = changed[where].replace("。", "（已更新）。")
    (folder / GUIDE).write_text("\n\n".join(changed), encoding="utf-8")
    report = knowledge.reindex(KB)
    assert [(p.source, "dropped" in p.reason) for p in report.fixes_dropped] == [(GUIDE, True)]
    after = knowledge.chunks(KB, GUIDE)
    assert len(after) == len(PARAGRAPHS)
    assert any(OLD_WORD in c.text and c.state == "original" for c in after)
    assert not any(NEW_WORD in text for text in found(settings, NEW_WORD, "bm25"))
    dropped = knowledge.chunk_changes(KB, GUIDE)[0]
    assert dropped.kind == "dropped" and "the file changed" in dropped.note


def test_disabled_and_deleted_chunks_stay_out_across_a_reindex(setup) -> None:
    settings, knowledge, _ = setup
    chunks = knowledge.chunks(KB, GUIDE)
    disabled = knowledge.set_chunk_state(KB, chunks[1].chunk_id, "disable", 0, "bob")
    knowledge.set_chunk_state(KB, chunks[2].chunk_id, "delete", 0, "bob")
    assert knowledge.reindex(KB).chunks_added == 0
    listed = knowledge.chunks(KB, GUIDE)
    assert [(c.chunk_id, c.state) for c in listed] == [
        (chunks[0].chunk_id, "original"), (chunks[1].chunk_id, "disabled"),
    ]  # fmt: skip
    assert not any(OLD_WORD in text for text in found(settings, OLD_WORD, "bm25"))
    assert not any("海棠" in text for text in found(settings, "海棠系统 登录", "hybrid"))
    knowledge.set_chunk_state(KB, chunks[1].chunk_id, "enable", disabled.revision, "bob")
    assert any(OLD_WORD in text for text in found(settings, OLD_WORD, "bm25"))


class SlowProgress(Progress):
    """A re-index that takes a while per file, so an edit lands in the middle of it;
    `started` is set once it holds the writer lock (its first group of files)."""

    def __init__(self) -> None:
        self.started = threading.Event()

    def group_started(self, files: int, chunks: int) -> None:
        self.started.set()

    def file_done(self, source: str) -> None:
        time.sleep(1.0)


def reindex_in_background(knowledge: KnowledgeBases) -> tuple[threading.Thread, list]:
    """A re-index in a thread, once it holds the lock; its report lands in the list."""
    progress, reports = SlowProgress(), []
    thread = threading.Thread(target=lambda: reports.append(knowledge.reindex(KB, progress)))
    thread.start()
    assert progress.started.wait(30)
    return thread, reports


def test_an_edit_during_a_reindex_waits_for_it_and_loses_nothing(setup) -> None:
    _, knowledge, _ = setup
    chunk = machine_room_chunk(knowledge)
    before = knowledge.size(KB)
    reindexing, reports = reindex_in_background(knowledge)
    new_text = chunk.text.replace(OLD_WORD, NEW_WORD)
    saved = knowledge.edit_chunk(KB, chunk.chunk_id, new_text, 0, "alice")
    assert not reindexing.is_alive()  # the edit waited for the re-index
    reindexing.join()
    assert reports[0].ok and reports[0].files_unchanged == 2
    assert saved.text == new_text and knowledge.size(KB) == before
    assert [c.text for c in knowledge.chunks(KB, GUIDE) if c.chunk_id == chunk.chunk_id] == [
        new_text
    ]
    assert knowledge.reindex(KB).chunks_added == 0 and knowledge.size(KB) == before


def test_the_second_of_two_editors_is_told_and_nothing_is_lost(setup) -> None:
    _, knowledge, _ = setup
    chunk = machine_room_chunk(knowledge)
    results: dict[str, object] = {}

    def save(who: str) -> None:
        try:
            text = f"{who} 的版本：{chunk.text}"
            results[who] = knowledge.edit_chunk(KB, chunk.chunk_id, text, 0, who)
        except ChunkConflict as exc:
            results[who] = exc

    editors = [threading.Thread(target=save, args=(who,)) for who in ("alice", "bob")]
    for editor in editors:
        editor.start()
    for editor in editors:
        editor.join()
    told = [who for who, result in results.items() if isinstance(result, ChunkConflict)]
    assert len(told) == 1
    winner = "bob" if told == ["alice"] else "alice"
    assert f"changed by {winner}" in str(results[told[0]])
    assert machine_room_chunk(knowledge).text.startswith(f"{winner} 的版本")
    assert [c.who for c in knowledge.chunk_changes(KB, GUIDE)] == [winner]


def test_bad_chunk_edits_get_one_line_errors(setup) -> None:
    _, knowledge, _ = setup
    chunk = machine_room_chunk(knowledge)
    with pytest.raises(UserError, match="empty"):
        knowledge.edit_chunk(KB, chunk.chunk_id, "   ", 0, "alice")
    with pytest.raises(UserError, match="at most"):
        knowledge.edit_chunk(KB, chunk.chunk_id, "字" * 100_000, 0, "alice")
    with pytest.raises(UnknownChunk, match="no chunk"):
        knowledge.edit_chunk(KB, "not-a-chunk", "新的内容", 0, "alice")
    with pytest.raises(UserError, match="unknown chunk action"):
        knowledge.set_chunk_state(KB, chunk.chunk_id, "explode", 0, "alice")
    with pytest.raises(UserError, match="no document"):
        knowledge.chunks(KB, "missing.txt")
    assert knowledge.chunk_changes(KB) == []


def test_an_edit_that_outwaits_its_limit_is_refused_and_changes_nothing(setup) -> None:
    settings, _, _ = setup
    knowledge = KnowledgeBases(settings.updated(chunk_edit_wait_s=0.5))
    chunk = machine_room_chunk(knowledge)
    reindexing, reports = reindex_in_background(knowledge)
    with pytest.raises(IngestBusyError, match="was not changed, try again"):
        knowledge.edit_chunk(KB, chunk.chunk_id, "新的文本", 0, "alice")
    reindexing.join()
    assert reports[0].ok
    assert machine_room_chunk(knowledge).text == chunk.text
    assert knowledge.chunk_changes(KB) == []


def test_editing_a_disabled_chunk_keeps_it_out_until_enabled(setup) -> None:
    settings, knowledge, _ = setup
    chunk = machine_room_chunk(knowledge)
    new_text = chunk.text.replace(OLD_WORD, NEW_WORD)
    off = knowledge.set_chunk_state(KB, chunk.chunk_id, "disable", 0, "bob")
    still_off = knowledge.edit_chunk(KB, chunk.chunk_id, new_text, off.revision, "alice")
    assert (still_off.state, still_off.text) == ("disabled", new_text)
    assert not any(NEW_WORD in text for text in found(settings, NEW_WORD, "bm25"))
    on = knowledge.set_chunk_state(KB, chunk.chunk_id, "enable", still_off.revision, "bob")
    assert (on.state, on.text) == ("edited", new_text)
    assert any(NEW_WORD in text for text in found(settings, NEW_WORD, "bm25"))
    with pytest.raises(UserError, match="not disabled"):
        knowledge.set_chunk_state(KB, chunk.chunk_id, "enable", on.revision, "bob")
    gone = knowledge.set_chunk_state(KB, chunk.chunk_id, "delete", on.revision, "bob")
    with pytest.raises(UnknownChunk, match="restore it first"):
        knowledge.edit_chunk(KB, chunk.chunk_id, "又一版", gone.revision, "alice")
    back = knowledge.set_chunk_state(KB, chunk.chunk_id, "restore", gone.revision, "bob")
    assert (back.state, back.text) == ("original", chunk.text)
    assert any(OLD_WORD in text for text in found(settings, OLD_WORD, "bm25"))
