"""The small files a knowledge base keeps under its name (its folders, web pages and
document states) follow a rename, once, and go with a delete; a recorded rename or delete
hides both names until it is finished. No model, no Chroma."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from app.settings import load_settings
from app.store import pending
from ingest.roots import (
    STATUS,
    URLS,
    forget_roots,
    kb_file,
    move_roots,
    remember_roots,
    remembered_roots,
)
from ingest.status import mark_indexing, read_status, record_outcome


def test_roots_urls_and_states_follow_a_rename_and_go_with_a_delete(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    uploads, elsewhere = tmp_path / "uploads" / "旧", tmp_path / "notes"
    remember_roots(settings, "旧", [uploads, elsewhere])
    kb_file(settings, "旧", URLS).write_text('["https://example.com/"]', encoding="utf-8")
    record_outcome(settings, "旧", ["a.txt"], [("failed", "b.txt", "binary", "binary", {})])

    moved = {uploads.absolute(): (tmp_path / "uploads" / "新").absolute()}
    move_roots(settings, "旧", "新", moved)
    move_roots(settings, "旧", "新", moved)  # again, as after a crash: nothing changes
    assert remembered_roots(settings, "新") == [tmp_path / "uploads" / "新", elsewhere]
    assert remembered_roots(settings, "旧") == []
    assert json.loads(kb_file(settings, "新", URLS).read_text()) == ["https://example.com/"]
    states = read_status(settings, "新")
    assert states["a.txt"].state == "indexed"
    assert (states["b.txt"].state, states["b.txt"].code) == ("failed", "binary")

    forget_roots(settings, "新")
    assert not any(kb_file(settings, "新", s).exists() for s in (".json", URLS, STATUS))


def test_indexing_shows_while_its_writer_lives(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    mark_indexing(settings, "notes", ["a.txt", "b.txt"])
    assert {s: v.state for s, v in read_status(settings, "notes").items()} == {
        "a.txt": "indexing",
        "b.txt": "indexing",
    }
    record_outcome(settings, "notes", ["a.txt"], [], unfinished=["b.txt"])
    assert {s: v.state for s, v in read_status(settings, "notes").items()} == {"a.txt": "indexed"}
    path = kb_file(settings, "notes", STATUS)
    dead = json.loads(path.read_text())
    here = socket.gethostname()
    dead["c.txt"] = {**dead["a.txt"], "state": "indexing", "pid": 2**22 + 1, "host": here}
    path.write_text(json.dumps(dead))
    assert "c.txt" not in read_status(settings, "notes")  # its writer is gone


def test_a_recorded_operation_hides_its_names_until_finished(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    record = pending.begin(settings, "rename", "旧", "新")
    other = pending.begin(settings, "delete", "别的")
    assert pending.hidden(settings) == {"旧", "新", "别的"}
    pending.finished(record)
    assert pending.hidden(settings) == {"别的"}
    pending.finished(other)
    assert pending.pending(settings) == []
