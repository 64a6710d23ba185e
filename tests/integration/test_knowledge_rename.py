"""Renaming and deleting a knowledge base carries or removes everything kept under its name
(app/knowledge/lifecycle.py): real embeddings, real embedded Chroma, the real record
manager, FAQ, access and conversation databases.

A rename is checked by what a user gets afterwards: the same chunks retrieved (dense and
BM25) under the new name, a re-index that embeds nothing again (the records moved), the
FAQ entry, the hand-fixed chunk, the description, the grants and the key's list, the
conversation's label. A delete leaves nothing behind. A process killed in the middle of
either leaves neither name half there, and the next run finishes the job.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from app.auth.access import open_access
from app.conversations.store import open_conversation_store
from app.knowledge.faq import FaqDraft, FaqService
from app.knowledge.service import KnowledgeBases
from app.knowledge.types import KnowledgeBaseExists
from app.retrieval.service import RetrievalService, UnknownKnowledgeBase
from app.settings import Settings, load_settings
from app.store.bm25 import index_dir
from app.store.records import CollectionRecords
from tests.helpers import MODELS_DIR, settings_env

NOTE = "知库改名测试：白鹭计划的负责人叫周远航，他的办公室在七号楼。".encode()
OTHER = "知库改名测试的第二份文件：白鹭计划在二〇二六年春天启动。".encode()
QUESTION = "白鹭计划的负责人是谁"


def make(tmp_path: Path, cache: Path) -> Settings:
    return load_settings(
        data_dir=tmp_path / "data",
        cache_dir=cache,
        models_dir=MODELS_DIR,
        embedding_backend="use",
        first_start_samples=False,
        auth="local",
    )


def fill(settings: Settings, name: str) -> dict:
    """A knowledge base with everything that can be kept under a name; what it holds."""
    knowledge = KnowledgeBases(settings)
    knowledge.create(name)
    knowledge.describe(name, "白鹭计划的资料")
    saved = knowledge.save_uploads(name, [("负责人.txt", NOTE), ("启动.txt", OTHER)])
    assert saved.saved and knowledge.index_uploads(name).ok
    chunk = knowledge.chunks(name, "负责人.txt")[0]
    knowledge.edit_chunk(name, chunk.chunk_id, chunk.text + "（已核对）", 0, "tester")
    FaqService(settings).add(name, FaqDraft("白鹭计划谁负责？", "周远航。"), "tester")
    access = open_access(settings)
    access.add_user("ann", "a-long-password-1", "editor")
    access.grant("user:ann", name, "editor")
    access.create_key("service:bot", [name, "elsewhere"], ["ask"])
    store = open_conversation_store(settings)
    conversation = store.create("someone", QUESTION, name)
    return {
        "chunk": chunk.chunk_id,
        "conversation": conversation,
        "ids": found(settings, name),
        "bm25": found(settings, name, "bm25"),
    }


def found(settings: Settings, name: str, retriever: str = "hybrid") -> list[str]:
    search = RetrievalService(settings.model_copy(update={"retriever": retriever}))
    return sorted(c.chunk_id for c in search.search(name, QUESTION, k=2))


def keys_of(settings: Settings) -> list[str]:
    return [kb for key in open_access(settings).list_keys() for kb in key.knowledge_bases]


def test_a_rename_carries_everything_and_a_delete_leaves_nothing(
    tmp_path: Path, embedding_cache_root: Path
) -> None:
    settings = make(tmp_path, embedding_cache_root)
    knowledge = KnowledgeBases(settings)
    before = fill(settings, "白鹭")
    knowledge.create("taken")
    with pytest.raises(KnowledgeBaseExists):
        knowledge.rename("白鹭", "taken")

    renamed = knowledge.rename("白鹭", "白鹭计划")
    assert renamed.chunks >= 2 and knowledge.names() == ["taken", "白鹭计划"]
    assert found(settings, "白鹭计划") == before["ids"]
    assert found(settings, "白鹭计划", "bm25") == before["bm25"]
    with pytest.raises(UnknownKnowledgeBase):
        found(settings, "白鹭")
    again = knowledge.reindex("白鹭计划")  # the records moved: nothing is embedded again
    assert (again.files_unchanged, again.chunks_added, again.chunks_deleted) == (2, 0, 0)
    fixed = next(
        c for c in knowledge.chunks("白鹭计划", "负责人.txt") if c.chunk_id == before["chunk"]
    )
    assert fixed.text.endswith("（已核对）") and fixed.state == "edited"
    assert [e.question for e in FaqService(settings).list("白鹭计划")] == ["白鹭计划谁负责？"]
    assert knowledge.description("白鹭计划") == "白鹭计划的资料"
    assert [(g.subject, g.knowledge_base) for g in open_access(settings).list_grants()] == [
        ("user:ann", "白鹭计划")
    ]
    assert sorted(keys_of(settings)) == ["elsewhere", "白鹭计划"]
    conversation = open_conversation_store(settings).get(before["conversation"])
    assert conversation is not None and conversation.knowledge_base == "白鹭计划"
    uploads = settings.storage.uploads_dir
    assert sorted(p.name for p in (uploads / "白鹭计划").iterdir()) == ["启动.txt", "负责人.txt"]
    assert not (uploads / "白鹭").exists() and not index_dir(settings, "白鹭").exists()
    assert [d.state for d in knowledge.documents("白鹭计划")] == ["indexed", "indexed"]

    knowledge.delete("白鹭计划")
    assert knowledge.names() == ["taken"]
    assert CollectionRecords.of(settings, "白鹭计划").keys() == []
    assert not index_dir(settings, "白鹭计划").exists()
    assert not (uploads / "白鹭计划").exists()
    assert list((settings.storage.data_dir / "roots").glob("白鹭*")) == []
    assert FaqService(settings).store.entries("白鹭计划") == []
    assert open_access(settings).list_grants() == [] and keys_of(settings) == ["elsewhere"]
    assert knowledge.description("白鹭计划") == ""
    kept = open_conversation_store(settings).get(before["conversation"])
    assert kept is not None and kept.knowledge_base == "白鹭计划"  # history stays readable
    assert knowledge.documents("白鹭计划") == [] and knowledge.names() == ["taken"]


KILLED_AT = """
import os, signal, sys
from app.knowledge import lifecycle
from app.knowledge.service import KnowledgeBases
from app.settings import get_settings

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

setattr(lifecycle, sys.argv[2], die)  # the step after which the process is killed
knowledge = KnowledgeBases(get_settings())
if sys.argv[1] == "rename":
    knowledge.rename("白鹭", "白鹭计划")
else:
    knowledge.delete("白鹭")
"""


def killed_during(settings: Settings, op: str, step: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(KILLED_AT), op, step],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr


def test_a_rename_or_delete_killed_half_way_is_finished_by_the_next_run(
    tmp_path: Path, embedding_cache_root: Path
) -> None:
    settings = make(tmp_path, embedding_cache_root)
    before = fill(settings, "白鹭")

    killed_during(settings, "rename", "move_fixes")  # after the collection and the records
    assert "白鹭" not in RetrievalService(settings).knowledge_bases()  # hidden: half done
    assert "白鹭计划" not in RetrievalService(settings).knowledge_bases()
    knowledge = KnowledgeBases(settings)
    assert knowledge.names() == ["白鹭计划"]  # finished
    assert found(settings, "白鹭计划") == before["ids"]
    assert found(settings, "白鹭计划", "bm25") == before["bm25"]
    assert knowledge.reindex("白鹭计划").chunks_added == 0
    assert [g.knowledge_base for g in open_access(settings).list_grants()] == ["白鹭计划"]

    knowledge.rename("白鹭计划", "白鹭")
    killed_during(settings, "delete", "forget_roots")  # after the collection and the folders
    assert KnowledgeBases(settings).names() == []
    assert not (settings.storage.uploads_dir / "白鹭").exists()
    assert open_access(settings).list_grants() == []
    assert list((settings.storage.data_dir / "pending").iterdir()) == []
