"""Knowledge bases from the command line (`zhiku kb …`): the real console script on a
knowledge base built with the real embedding model, embedded Chroma and BM25. A rename
keeps what was indexed (a fresh retrieval service finds it under the new name), a grant
follows the rename, a delete asks for the name and removes everything; with accounts on
each change is audited as the local operator."""

from __future__ import annotations

import getpass
from pathlib import Path

from app.auth import open_access
from app.retrieval.service import RetrievalService
from tests.helpers import zhiku

OPERATOR = f"cli:{getpass.getuser()}"
NOTE = "知库命令行测试：白鹭计划的预算是四十二万元，由财务部的周敏负责。"


def test_create_rename_and_delete_a_knowledge_base(make_settings, tmp_path: Path) -> None:
    settings = make_settings(auth="local", first_start_samples=False)
    made = zhiku(settings, "kb", "create", "白鹭", "--description", "白鹭计划的文件")
    assert made.returncode == 0, made.stderr
    (tmp_path / "白鹭.txt").write_text(NOTE, encoding="utf-8")
    ingested = zhiku(settings, "ingest", str(tmp_path / "白鹭.txt"), "--collection", "白鹭")
    assert ingested.returncode == 0, ingested.stderr
    access = open_access(settings)
    access.add_user("zhou", "a long enough password", "viewer")
    access.grant("user:zhou", "白鹭", "viewer")

    renamed = zhiku(settings, "kb", "rename", "白鹭", "白鹭计划")
    assert renamed.returncode == 0, renamed.stderr
    listed = zhiku(settings, "kb", "list")
    assert "白鹭计划" in listed.stdout and "白鹭计划的文件" in listed.stdout, listed.stdout
    assert "│ 白鹭 " not in listed.stdout
    hits = RetrievalService(settings).search("白鹭计划", "白鹭计划的预算是多少？", k=1)
    assert "四十二万元" in hits[0].text
    assert [(g.knowledge_base, g.role) for g in access.list_grants()] == [("白鹭计划", "viewer")]

    taken = zhiku(settings, "kb", "create", "other")
    assert taken.returncode == 0
    clash = zhiku(settings, "kb", "rename", "other", "白鹭计划")
    assert clash.returncode == 1 and "exists already" in clash.stderr
    assert len(clash.stderr.strip().splitlines()) == 1  # one line, no traceback

    kept = zhiku(settings, "kb", "delete", "白鹭计划", stdin="白鹭\n")
    assert kept.returncode == 1 and "nothing deleted" in kept.stderr, kept.stderr
    assert "白鹭计划" in zhiku(settings, "kb", "list").stdout
    deleted = zhiku(settings, "kb", "delete", "白鹭计划", stdin="白鹭计划\n")
    assert deleted.returncode == 0, deleted.stderr
    assert "白鹭计划" not in zhiku(settings, "kb", "list").stdout
    assert access.list_grants() == []
    unknown = zhiku(settings, "kb", "delete", "白鹭计划", "--yes")
    assert unknown.returncode == 1 and "no knowledge base" in unknown.stderr

    trail = access.audit.export_csv()
    for action, target in [("kb.create", "白鹭"), ("kb.rename", "白鹭"), ("kb.delete", "白鹭计划")]:
        assert f"{OPERATOR},{action},{target}" in trail, trail
