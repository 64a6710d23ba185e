"""A killed or interrupted ingest leaves an index the next run repairs, with no duplicates."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest.indexing import ingest_paths, open_knowledge_base
from tests.helpers import CMRC, settings_env, zhiku


def recorded(settings) -> int:
    db = settings.storage.data_dir / "record_manager.sqlite"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=1) as conn:
            return conn.execute("select count(*) from upsertion_record").fetchone()[0]
    except sqlite3.OperationalError:  # table not created yet, or locked
        return 0


def restore_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_ingest_and_signal(settings, sig: int, after_records: int) -> subprocess.Popen:
    script = Path(sys.executable).with_name("zhiku")
    proc = subprocess.Popen(
        [str(script), "ingest", str(CMRC), "--collection", "crashy"],
        env=settings_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # As in a terminal: a test run started in the background (`make test &`) inherits
        # an ignored SIGINT, and Python then installs no Ctrl-C handler in the child.
        preexec_fn=restore_ctrl_c,
    )
    deadline = time.monotonic() + 300
    while recorded(settings) < after_records:
        assert proc.poll() is None, "ingest finished before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(sig)
    return proc


def state(settings) -> tuple[list[str], set[str]]:
    kb = open_knowledge_base(settings, "crashy")
    ids = kb.store.get(include=[])["ids"]
    return ids, set(kb.record_manager.list_keys())


@pytest.fixture(scope="module")
def clean_ids(tmp_path_factory: pytest.TempPathFactory, embedding_cache_root: Path) -> set[str]:
    from app.settings import load_settings

    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("clean"),
        cache_dir=embedding_cache_root,
        embedding_backend="use",
    )
    report = ingest_paths(open_knowledge_base(settings, "crashy"), [CMRC])
    assert report.ok
    ids, keys = state(settings)
    assert len(ids) == len(set(ids)) == len(keys) > 500
    return set(ids)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["sigkill", "ctrl-c"])
def test_rerun_after_interruption_equals_a_clean_ingest(make_settings, clean_ids, sig) -> None:
    # No embedding cache: embedding is the slow step, so the signal lands mid-run.
    settings = make_settings(embedding_cache=False)
    proc = start_ingest_and_signal(settings, sig, after_records=100)
    _, stderr = proc.communicate(timeout=120)
    if sig == signal.SIGINT:
        assert proc.returncode == 130, stderr
        assert "interrupted" in stderr and "Traceback" not in stderr
    else:
        assert proc.returncode == -signal.SIGKILL
    partial_ids, _ = state(settings)
    assert 0 < len(partial_ids) < len(clean_ids)

    rerun = zhiku(settings, "ingest", str(CMRC), "--collection", "crashy")
    assert rerun.returncode == 0, rerun.stderr

    ids, keys = state(settings)
    assert len(ids) == len(set(ids))  # no duplicates
    assert set(ids) == clean_ids == keys  # same chunk ids as a clean ingest
