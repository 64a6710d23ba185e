"""Chunk fixes from the command line (`zhiku chunks …`, issue 28): the real console
script on a knowledge base built with the real embedding model, embedded Chroma and BM25,
then a fresh retrieval service (as another process would) finds what the CLI saved. With
accounts on, the CLI signs and audits its changes as the local operator."""

# ruff: noqa: F811  (`setup` is test_chunk_fixes's fixture, imported to be reused)
from __future__ import annotations

import getpass
from pathlib import Path

from app.auth import open_access
from app.knowledge.service import KnowledgeBases
from app.settings import Settings
from tests.helpers import zhiku
from tests.integration.test_chunk_fixes import (  # noqa: F401
    GUIDE,
    KB,
    NEW_WORD,
    OLD_WORD,
    found,
    machine_room_chunk,
    setup,
)

OPERATOR = f"cli:{getpass.getuser()}"


def number_of(knowledge: KnowledgeBases, chunk_id: str) -> int:
    """The chunk's number as `zhiku chunks list` and the Curate page show it."""
    ids = [c.chunk_id for c in knowledge.chunks(KB, GUIDE, deleted=True)]
    return ids.index(chunk_id) + 1


def test_an_edit_from_the_cli_is_found_by_the_next_search(
    setup: tuple[Settings, KnowledgeBases, Path], tmp_path: Path
) -> None:
    settings, knowledge, _ = setup
    settings = settings.updated(auth="local")
    documents = zhiku(settings, "chunks", "list", KB)
    assert documents.returncode == 0, documents.stderr
    assert documents.stdout.split() == sorted([GUIDE, "other.txt"])
    listed = zhiku(settings, "chunks", "list", KB, GUIDE)
    assert listed.returncode == 0 and listed.stdout.count("original") == 3, listed.stdout

    chunk = machine_room_chunk(knowledge)
    number = str(number_of(knowledge, chunk.chunk_id))
    shown = zhiku(settings, "chunks", "show", KB, GUIDE, number)
    assert shown.stdout.rstrip("\n") == chunk.text
    new_text = tmp_path / "chunk.txt"
    new_text.write_text(chunk.text.replace(OLD_WORD, NEW_WORD), encoding="utf-8")
    edited = zhiku(settings, "chunks", "edit", KB, GUIDE, number, "--file", str(new_text))
    assert edited.returncode == 0, edited.stderr
    assert "revision 1, edited" in edited.stdout

    assert found(settings, "银杏机房的值班电话是多少", "dense")[0] == new_text.read_text("utf-8")
    assert any(NEW_WORD in text for text in found(settings, NEW_WORD, "bm25"))
    assert not any(OLD_WORD in text for text in found(settings, OLD_WORD, "bm25"))
    change = knowledge.chunk_changes(KB, GUIDE)[0]
    assert (change.kind, change.who, change.before) == ("edit", OPERATOR, chunk.text)
    trail = open_access(settings).audit.export_csv()
    assert f"{OPERATOR},chunk.edit,{KB}/{chunk.chunk_id}" in trail

    stale = zhiku(settings, "chunks", "edit", KB, GUIDE, number, "--text", "x", "--revision", "0")
    assert stale.returncode == 1 and OPERATOR in stale.stderr, stale.stderr
    assert len(stale.stderr.strip().splitlines()) == 1  # one line, no traceback

    assert zhiku(settings, "chunks", "disable", KB, GUIDE, number).returncode == 0
    assert not any(NEW_WORD in text for text in found(settings, NEW_WORD, "bm25"))
    assert zhiku(settings, "chunks", "enable", KB, GUIDE, number).returncode == 0
    assert any(NEW_WORD in text for text in found(settings, NEW_WORD, "bm25"))
    changes = zhiku(settings, "chunks", "changes", KB)
    assert changes.returncode == 0 and "3 changes" in changes.stdout, changes.stdout
    for kind in ("edit", "disable", "enable"):
        assert kind in changes.stdout


def test_cli_mistakes_are_one_line_errors(setup) -> None:
    settings, _, _ = setup
    for args, says in (
        (("list", "nosuchkb", GUIDE), "no knowledge base named 'nosuchkb'"),
        (("list", KB, "missing.txt"), "no document 'missing.txt'"),
        (("show", KB, GUIDE, "99"), "there is no number 99"),
        (("edit", KB, GUIDE, "1"), "one of --text or --file"),
        (("edit", KB, GUIDE, "1", "--text", "  "), "the chunk's text is empty"),
        (("enable", KB, GUIDE, "1"), "is not disabled"),
    ):
        result = zhiku(settings, "chunks", *args)
        assert result.returncode == 1 and says in result.stderr, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "nosuchkb" not in KnowledgeBases(settings).names()  # a typo creates nothing
