"""Chat sign-in (app.auth.sessions): pauses after failures, sessions that end."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest

from app.auth import Access, SignIns

PASSWORD = "correct horse battery"


@pytest.fixture
def sign_ins(tmp_path: Path) -> SignIns:
    access = Access(f"sqlite:///{tmp_path / 'auth.sqlite'}")
    access.add_user("ann", PASSWORD, "viewer")
    access.grant("user:ann", "samples", "viewer")
    return SignIns(access, session_hours=1, max_failures=3)


def test_a_right_password_opens_a_session_that_ends(sign_ins: SignIns) -> None:
    outcome, session = sign_ins.attempt("ann", PASSWORD, "10.0.0.1")
    assert outcome == "ok" and session is not None
    assert 3590 < session.expires_at - session.started_at <= 3600
    assert sign_ins.current(session) is not None
    assert sign_ins.current(replace(session, expires_at=time.time() - 1)) is None


def test_a_disabled_user_or_a_removed_grant_counts_at_the_next_click(sign_ins: SignIns) -> None:
    _, session = sign_ins.attempt("ann", PASSWORD, "10.0.0.1")
    assert session is not None and session.principal.role_on("samples") == "viewer"
    sign_ins.access.revoke_grant("user:ann", "samples")
    now = sign_ins.current(session)
    assert now is not None and now.principal.role_on("samples") is None
    sign_ins.access.set_disabled("ann", True)
    assert sign_ins.current(session) is None


def test_failures_pause_a_name_and_an_address(sign_ins: SignIns) -> None:
    for _ in range(3):
        assert sign_ins.attempt("ann", "wrong password!", "10.0.0.1")[0] == "wrong"
    assert sign_ins.attempt("ann", PASSWORD, "10.0.0.2")[0] == "paused"  # the name
    assert sign_ins.attempt("bob", "whatever pass", "10.0.0.1")[0] == "paused"  # the address
    events = sign_ins.access.audit.export_csv()
    assert "sign_in.failed" in events and "sign_in.paused" in events
    assert "wrong password!" not in events and PASSWORD not in events


def test_failures_from_this_machine_pause_the_name_not_everyone_here(sign_ins: SignIns) -> None:
    """127.0.0.1 is every local browser, or a proxy naming no one: not one person."""
    for _ in range(3):
        assert sign_ins.attempt("ann", "wrong password!", "127.0.0.1")[0] == "wrong"
    assert sign_ins.attempt("ann", PASSWORD, "127.0.0.1")[0] == "paused"  # the name
    assert sign_ins.attempt("bob", "wrong password!", "127.0.0.1")[0] == "wrong"  # not paused
