"""The layers of pyproject.toml's import-linter contracts hold, and the check catches a
wrong import (a copy of the tree with one planted import must fail it)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.settings import REPO_ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES = ["app", "ingest", "bench", "tests"]


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_tree_keeps_its_layers() -> None:
    result = lint_imports(REPO_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "planted"),
    [
        ("ingest/splitting.py", "from app.cli.errors import user_errors"),  # ingest → CLI
        ("app/store/bm25.py", "from app.answering import prompts"),  # store → answering
        ("app/models/chat.py", "from ingest import loaders"),  # models → ingest
        ("ingest/indexing.py", "from app.retrieval.hybrid import rrf"),  # ingest → retrieval
        ("bench/common.py", "from tests import helpers"),  # bench → tests
        ("app/answering/chain.py", "from app.ui import state"),  # anything → UI
        # Pages, routes and commands go through the knowledge-base service (app.knowledge):
        ("app/ui/knowledge_page.py", "from ingest.uploads import delete_upload"),
        ("app/api/knowledge.py", "from app.store.knowledge_bases import chunk_counts"),
        ("app/cli/ingest.py", "from ingest.indexing import delete_source"),
        ("app/knowledge/service.py", "from app.api import jobs"),  # the service → API
    ],
)
def test_a_planted_wrong_import_breaks_the_check(tmp_path: Path, module: str, planted: str) -> None:
    for package in PACKAGES:
        shutil.copytree(
            REPO_ROOT / package,
            tmp_path / package,
            ignore=shutil.ignore_patterns("__pycache__", "results"),
        )
    shutil.copy(REPO_ROOT / "pyproject.toml", tmp_path)
    target = tmp_path / module
    # Inside a function, where only a function-level import would hide it.
    target.write_text(
        target.read_text(encoding="utf-8") + f"\n\ndef _planted():\n    {planted}\n",
        encoding="utf-8",
    )
    result = lint_imports(tmp_path)
    assert result.returncode != 0, result.stdout
    assert "BROKEN" in result.stdout
