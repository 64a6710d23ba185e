"""Ingest and query through a real `chroma run` server on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.store.chroma import StoreError
from app.store.knowledge_bases import chunk_counts
from ingest.indexing import open_knowledge_base
from tests.helpers import LLM_ARTICLES, free_port, wait_for_http, zhiku


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    proc = subprocess.Popen(
        [
            str(chroma),
            "run",
            "--path",
            str(tmp_path / "server"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_for_http(f"{url}/api/v2/heartbeat", proc, timeout=60)
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def test_ingest_and_query_through_a_chroma_server(make_settings, chroma_server: str) -> None:
    settings = make_settings(chroma_server_url=chroma_server)
    result = zhiku(settings, "ingest", str(LLM_ARTICLES), "--collection", "served")
    assert result.returncode == 0, result.stderr
    assert not (settings.storage.data_dir / "chroma").exists()  # nothing embedded locally

    kb = open_knowledge_base(settings, "served")
    assert len(chunk_counts(kb.store)) == 5
    hits = kb.store.similarity_search("GPT-1模型基本参数", k=5)
    assert "llm-background-qa-notes.txt" in {h.metadata["source"] for h in hits}

    again = zhiku(settings, "ingest", str(LLM_ARTICLES), "--collection", "served")
    assert "│ files unchanged     │ 5 " in again.stdout


def test_server_down_is_a_clear_error(make_settings) -> None:
    settings = make_settings(chroma_server_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(StoreError, match="cannot reach the Chroma server"):
        open_knowledge_base(settings, "served")
    result = zhiku(settings, "ingest", str(LLM_ARTICLES))
    assert result.returncode == 1 and "cannot reach the Chroma server" in result.stderr
    assert "Traceback" not in result.stderr
