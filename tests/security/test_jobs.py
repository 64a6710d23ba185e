"""Issue 22, item 5: a job queued behind another survives a SIGKILL and runs exactly once.

Before the fix both jobs of a knowledge base shared one `.pending` marker: job 1's end
deleted it, so after a SIGKILL during job 2 nothing resumed and job 2's files sat in
uploads/ with 0 chunks. Ids were `job-<unix seconds>-<n>`: guessable."""

from __future__ import annotations

import json
import time
import uuid

import httpx

from ingest.indexing import open_knowledge_base
from tests.helpers import CMRC
from tests.security.conftest import K1, start

AUTH = {"Authorization": f"Bearer {K1}"}


def _upload(url: str, papers) -> dict:
    files = [("files", (p.name, p.read_bytes())) for p in papers]
    reply = httpx.post(f"{url}/v1/knowledge_bases/wiki/documents", headers=AUTH, files=files,
                       timeout=120)  # fmt: skip
    assert reply.status_code == 202, reply.text
    assert len(reply.json()["saved"]) == len(papers)
    return reply.json()["job"]


def _job(url: str, job_id: str) -> dict:
    return httpx.get(f"{url}/v1/jobs/{job_id}", headers=AUTH).json()


def test_a_queued_job_survives_sigkill_and_runs_once(make_settings, tmp_path) -> None:
    # No embedding cache: with the chunks' vectors cached by earlier tests job 1 could end
    # before job 2 is even uploaded, and job 2 would never wait behind it.
    settings = make_settings(api_keys=[K1], embedding_cache=False)
    server = start(settings, tmp_path / "first")
    papers = sorted(CMRC.glob("*.txt"))
    first, second = papers[:128], papers[128:]
    try:
        httpx.post(f"{server.url}/v1/knowledge_bases", headers=AUTH, json={"name": "wiki"})
        job1 = _upload(server.url, first)
        deadline = time.monotonic() + 120
        while _job(server.url, job1["id"])["files_done"] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        job2 = _upload(server.url, second)  # queued while job 1 runs
        for job in (job1, job2):
            assert uuid.UUID(job["id"]).version == 4
        assert _job(server.url, job2["id"])["state"] == "queued"
        while _job(server.url, job1["id"])["state"] != "done" and time.monotonic() < deadline:
            time.sleep(0.1)
        while _job(server.url, job2["id"])["files_done"] == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _job(server.url, job2["id"])["state"] == "running"
    finally:
        server.proc.kill()  # SIGKILL during job 2
        server.proc.wait(timeout=30)
    kb = open_knowledge_base(settings, "wiki")
    indexed = {m["source"] for m in kb.store.get(include=["metadatas"])["metadatas"]}
    assert len(indexed) < len(papers), "job 2 finished before the kill: nothing was tested"

    server = start(settings, tmp_path / "second")  # the queued job runs again on start
    try:
        deadline = time.monotonic() + 600
        status = _job(server.url, job2["id"])
        while status.get("state") not in ("done", "failed") and time.monotonic() < deadline:
            time.sleep(1)
            status = _job(server.url, job2["id"])
        assert status["state"] == "done" and status["resumed"] == 1, status
        assert _job(server.url, job1["id"])["state"] == "done"  # finished ones are kept
        time.sleep(2)  # nothing else is queued: no second run of job 2
        records = [
            json.loads(p.read_text()) for p in (settings.storage.data_dir / "jobs").glob("*.json")
        ]
        assert sorted(r["state"] for r in records) == ["done", "done"], records
        documents = httpx.get(
            f"{server.url}/v1/knowledge_bases/wiki/documents", headers=AUTH
        ).json()["data"]
    finally:
        err = server.stop()
    assert sorted(d["source"] for d in documents) == [p.name for p in papers]
    ids = open_knowledge_base(settings, "wiki").store.get(include=[])["ids"]
    assert len(ids) == len(set(ids)) == sum(d["chunks"] for d in documents)  # no duplicates
    assert "Traceback" not in err, err
