"""One uploaded document deleted three ways — `zhiku ingest --delete`, the API's DELETE on
a running `zhiku serve`, the chat page's Delete button — leaves the same state: no
chunks, no record-manager rows, nothing BM25 finds, no uploaded file; and a re-index
does not bring it back (issue 27, item 1: the CLI used to leave the uploaded file).

Real embeddings, real embedded Chroma, real processes; each door gets its own knowledge
base, set up the same way (the file saved into its uploads folder, then indexed).
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from app.retrieval.service import RetrievalService
from app.settings import Settings, load_settings
from ingest.indexing import ingest_paths, open_knowledge_base, reindex
from ingest.uploads import save_upload, upload_folder
from tests.helpers import MODELS_DIR, open_chat_app, serving, zhiku

KEY = "sk-zhiku-delete-test"
SOURCE = "删除说明.txt"
NOTE = "知库删除测试：青鸟计划的负责人叫林小满，她的办公室在三号楼。".encode()
QUESTION = "青鸟计划的负责人林小满"
DOORS = {"cli": "del-cli", "api": "del-api", "page": "del-page"}
GONE = {"chunks": 0, "records": 0, "bm25": [], "uploaded_file": False, "documents": []}


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, embedding_cache_root: Path) -> Settings:
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("delete-data"),
        cache_dir=embedding_cache_root,
        models_dir=MODELS_DIR,
        embedding_backend="use",
        collection="del-page",
        first_start_samples=False,
        api_keys=[KEY],
    )
    for name in DOORS.values():  # what an upload does: save the file, index the folder
        save_upload(settings, name, SOURCE, NOTE)
        kb = open_knowledge_base(settings, name)
        assert ingest_paths(kb, [upload_folder(settings, name)]).ok
    return settings


def state(settings: Settings, name: str) -> dict:
    """What is left of the document in the knowledge base `name`, however it is looked at."""
    kb = open_knowledge_base(settings, name)
    bm25_only = RetrievalService(settings.model_copy(update={"retriever": "bm25"}))
    return {
        "chunks": len(kb.store.get(where={"source": SOURCE}, include=[])["ids"]),
        "records": len(kb.record_manager.list_keys(group_ids=[SOURCE])),
        "bm25": [c.source for c in bm25_only.search(name, QUESTION, k=3)],
        "uploaded_file": (upload_folder(settings, name) / SOURCE).exists(),
        "documents": sorted({str((m or {}).get("source")) for m in kb.store.get()["metadatas"]}),
    }


def delete_with_the_cli(settings: Settings, name: str) -> None:
    result = zhiku(settings, "ingest", "--delete", SOURCE, "--collection", name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "deleted" in result.stdout


def delete_over_http(settings: Settings, name: str) -> None:
    with serving(settings) as served:
        gone = httpx.delete(
            f"{served.url}/v1/knowledge_bases/{name}/documents/{SOURCE}",
            headers={"Authorization": f"Bearer {KEY}"},
            timeout=120,
        )
        assert gone.status_code == 200, gone.text
        assert gone.json()["chunks_deleted"] >= 1


def delete_on_the_page(settings: Settings, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_chat_app(settings, monkeypatch)
    app.selectbox(key="kb").set_value(name).run()
    app.switch_page("views/knowledge.py").run()
    app.selectbox(key="document_choice").set_value(SOURCE).run()
    app.button(key="delete_doc").click().run()
    assert not app.exception, app.exception
    assert SOURCE in app.success[0].value.replace("\\", "")  # escaped Markdown


def test_the_same_delete_from_cli_api_and_page_leaves_the_same_state(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = state(settings, DOORS["cli"])
    assert before["chunks"] >= 1 and before["uploaded_file"]
    assert before["bm25"] == [SOURCE] * len(before["bm25"]) and before["bm25"]
    assert {name: state(settings, name) for name in DOORS.values()} == dict.fromkeys(
        DOORS.values(), before
    )

    delete_with_the_cli(settings, DOORS["cli"])
    delete_over_http(settings, DOORS["api"])
    delete_on_the_page(settings, DOORS["page"], monkeypatch)
    after = {door: state(settings, name) for door, name in DOORS.items()}
    assert after == dict.fromkeys(DOORS, GONE)

    for name in DOORS.values():  # the uploads folder is read again: nothing comes back
        reindex(open_knowledge_base(settings, name))
    after_reindex = {door: state(settings, name) for door, name in DOORS.items()}
    assert after_reindex == dict.fromkeys(DOORS, GONE)
