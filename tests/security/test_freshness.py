"""Issue 22, item 8: a running chat or API did not see chunks another process ingested.

After `zhiku ingest` added a file, the running process kept answering from the vector
index its embedded Chroma had loaded (a fresh process ranked the new chunk first) until
restarted. The CLI ingests here in a subprocess while the retriever, and `zhiku serve`,
keep running; the next question must find the new chunk."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import zhiku
from tests.security.conftest import Server

QUESTION = "知库的新鲜度测试鹦鹉叫什么名字？"
FACT = "新鲜度测试说明：知库的新鲜度测试鹦鹉叫青柠，它每天早上八点唱歌。"


def _ingest(settings, folder, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    done = zhiku(settings, "ingest", str(folder), "--collection", "samples")
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_a_running_retriever_sees_another_process_ingest(samples_settings, tmp_path, mode):
    from app.retrieval.hybrid import build_retriever

    retriever = build_retriever(samples_settings, "samples", retriever=mode, top_k=3)
    assert retriever.invoke(QUESTION)  # the index is loaded in this process
    _ingest(samples_settings, tmp_path / mode, f"parrot-{mode}.txt", FACT + f"（{mode}）")
    sources = [d.metadata["source"] for d in retriever.invoke(QUESTION)]
    assert f"parrot-{mode}.txt" in sources, sources


def test_zhiku_serve_answers_from_another_process_ingest(keyless: Server, tmp_path) -> None:
    def contexts() -> list[str]:
        body = {"model": "zhiku/samples", "messages": [{"role": "user", "content": QUESTION}]}
        reply = httpx.post(f"{keyless.url}/v1/chat/completions", json=body, timeout=600)
        assert reply.status_code == 200, reply.text
        return [c["source"] for c in reply.json()["contexts"]]

    assert "parrot-api.txt" not in contexts()
    _ingest(keyless.settings, tmp_path / "api", "parrot-api.txt", FACT)
    assert "parrot-api.txt" in contexts()
