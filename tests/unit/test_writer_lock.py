"""The writer lock on SQLite (lock rows): ingests of different folders share a knowledge
base, the same folder or a re-index excludes, and a dead writer's rows do not count."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from app.settings import load_settings
from ingest.writer_lock import IngestBusyError, _LockRows, claims, wait_for_writer, writer_lock


@pytest.fixture
def settings(tmp_path: Path):
    # A (never contacted) server URL: only the database lock, no data-folder file lock.
    return load_settings(data_dir=tmp_path / "data", chroma_server_url="http://127.0.0.1:9")


def test_claims_share_the_knowledge_base_and_own_each_folder(settings) -> None:
    got = claims(settings, "kb", ["/b", "/a", "/b"], whole=False)
    assert [(c.exclusive, c.name.rsplit("|", 1)[-1]) for c in got] == [
        (False, "kb:http://127.0.0.1:9/kb"),
        (True, "/a"),
        (True, "/b"),
    ]
    assert [c.exclusive for c in claims(settings, "kb", ["/a"], whole=True)] == [True]


def take(settings, collection: str, **scope) -> None:
    with writer_lock(settings, collection, **scope):
        pass


def test_different_folders_at_once_same_folder_refused(settings) -> None:
    with writer_lock(settings, "kb", roots=["/notes"]):
        take(settings, "kb", roots=["/reports"])  # another folder, same knowledge base: at once
        with pytest.raises(IngestBusyError, match="another ingest of /notes"):
            take(settings, "kb", roots=["/notes", "/other"])
        with pytest.raises(IngestBusyError, match="re-index"):
            take(settings, "kb", whole=True)
        take(settings, "other-kb", whole=True)  # another knowledge base is not concerned
    # all released, the refused attempt's partial claims included
    with writer_lock(settings, "kb", whole=True), pytest.raises(IngestBusyError, match="being"):
        take(settings, "kb", roots=["/notes"])
    assert wait_for_writer(settings, "kb", timeout=1)


def test_a_rename_holds_the_new_name_too(settings) -> None:
    """A rename holds both names whole: an ingest into the name it is about to take
    waits, and it waits for one already writing there."""
    with writer_lock(settings, "old", whole=True, also=["new"]):
        with pytest.raises(IngestBusyError):
            take(settings, "new", roots=["/notes"])
        take(settings, "third", roots=["/notes"])
    with writer_lock(settings, "new", roots=["/notes"]), pytest.raises(IngestBusyError):
        take(settings, "old", whole=True, also=["new"])


def test_a_dead_writers_rows_do_not_hold(settings) -> None:
    settings.storage.data_dir.mkdir(parents=True)
    dead = subprocess.Popen(["true"])
    dead.wait()
    rows = _LockRows(settings.storage.record_manager_db_url)
    assert rows.take("kb:x", exclusive=True)
    from sqlalchemy import update

    from app.sql import engine
    from ingest.writer_lock import _rows

    with engine(settings.storage.record_manager_db_url).begin() as conn:  # as if its writer died
        conn.execute(update(_rows).where(_rows.c.holder == rows.holder).values(pid=dead.pid))
    assert _LockRows(settings.storage.record_manager_db_url).take("kb:x", exclusive=True)
