"""Changes to a team through `Access`, the methods the CLI and the admin page both call:
each recorded once in the audit trail with who made it and from where, roles and groups
changed in place, and the last enabled admin kept."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from app.auth import Access, AccessError, Actor, can, expires_after

PASSWORD = "correct horse battery"
ROOT = Actor("user:root", "10.0.0.7")


@pytest.fixture
def access(tmp_path: Path) -> Access:
    made = Access(f"sqlite:///{tmp_path / 'auth.sqlite'}")
    made.add_user("root", PASSWORD, "admin")  # seeded: no actor, nothing recorded
    return made


def _trail(access: Access) -> list[list[str]]:
    """actor, action, target, client, outcome, detail of each event, oldest first."""
    return [row[1:] for row in csv.reader(io.StringIO(access.audit.export_csv()))][1:]


def test_each_change_is_recorded_once_with_its_actor(access: Access) -> None:
    access.add_user("ann", PASSWORD, "viewer", ["hr"], by=ROOT)
    access.update_user("ann", "editor", ["hr", "eng"], by=ROOT)
    access.set_password("ann", "another long password", by=ROOT)
    access.set_disabled("ann", True, by=ROOT)
    access.set_disabled("ann", False, by=ROOT)
    access.grant("group:hr", "handbook", "editor", by=ROOT)
    assert access.revoke_grant("group:hr", "handbook", by=ROOT)
    assert not access.revoke_grant("group:hr", "handbook", by=ROOT)  # nothing to record
    made = access.create_key("service:ci", ["handbook"], ["ask"], expires_after(30), by=ROOT)
    access.revoke_key(made.key.prefix, by=ROOT)
    assert _trail(access) == [
        ["user:root", "user.add", "ann", "10.0.0.7", "ok", "role viewer"],
        ["user:root", "user.update", "ann", "10.0.0.7", "ok", "role editor; groups hr,eng"],
        ["user:root", "user.passwd", "ann", "10.0.0.7", "ok", ""],
        ["user:root", "user.disable", "ann", "10.0.0.7", "ok", ""],
        ["user:root", "user.enable", "ann", "10.0.0.7", "ok", ""],
        ["user:root", "grant.add", "group:hr handbook", "10.0.0.7", "ok", "editor"],
        ["user:root", "grant.remove", "group:hr handbook", "10.0.0.7", "ok", ""],
        ["user:root", "key.create", made.key.prefix, "10.0.0.7", "ok", "service:ci handbook ask"],
        ["user:root", "key.revoke", made.key.prefix, "10.0.0.7", "ok", "service:ci"],
    ]
    exported = access.audit.export_csv()
    assert made.secret not in exported and PASSWORD not in exported


def test_a_refused_change_is_not_recorded(access: Access) -> None:
    with pytest.raises(AccessError, match="exists already"):
        access.add_user("root", PASSWORD, by=ROOT)
    with pytest.raises(AccessError, match="no user"):
        access.update_user("ghost", "editor", by=ROOT)
    assert _trail(access) == []


def test_groups_and_role_change_what_a_user_reaches(access: Access) -> None:
    access.add_user("bob", PASSWORD, "viewer")
    access.grant("group:eng", "wiki", "editor")
    assert not can(access.principal_of("bob"), "ask", "wiki")  # type: ignore[arg-type]
    access.update_user("bob", groups=["eng"])
    bob = access.principal_of("bob")
    assert bob and can(bob, "ask", "wiki") and not can(bob, "write", "wiki")  # a viewer account
    assert access.update_user("bob", role="editor").groups == ("eng",)  # groups kept
    bob = access.principal_of("bob")
    assert bob and can(bob, "write", "wiki")
    assert access.update_user("bob", groups=[]).groups == ()
    assert not can(access.principal_of("bob"), "ask", "wiki")  # type: ignore[arg-type]
    with pytest.raises(AccessError, match="group name"):
        access.update_user("bob", groups=["../x"])
    with pytest.raises(AccessError, match="unknown role"):
        access.update_user("bob", role="owner")


def test_the_last_enabled_admin_stays(access: Access) -> None:
    with pytest.raises(AccessError, match="last enabled admin"):
        access.set_disabled("root", True, by=ROOT)
    with pytest.raises(AccessError, match="last enabled admin"):
        access.update_user("root", role="editor", by=ROOT)
    assert access.user("root").role == "admin" and not access.user("root").disabled
    access.add_user("ada", PASSWORD, "admin")
    access.set_disabled("ada", True)
    with pytest.raises(AccessError, match="last enabled admin"):  # a disabled one does not count
        access.set_disabled("root", True)
    access.set_disabled("ada", False)
    access.update_user("root", role="editor")  # ada is left
    with pytest.raises(AccessError, match="last enabled admin"):
        access.set_disabled("ada", True)


def test_the_trail_is_filtered_by_action_and_actor(access: Access) -> None:
    access.add_user("ann", PASSWORD, by=ROOT)
    access.add_user("bea", PASSWORD, by=Actor("cli:ops", "cli"))
    access.audit.record("user:ann", "kb.upload", "handbook", "10.0.0.8")
    assert [e.target for e in access.audit.events(action="user.add")] == ["ann", "bea"]
    assert [e.action for e in access.audit.events(actor="ann")] == ["kb.upload"]
    assert [e.target for e in access.audit.events(action="user.add", actor="cli:")] == ["bea"]
    assert access.audit.events(actor="%") == []  # a wildcard is a character, not a pattern
    assert access.audit.actions() == ["kb.upload", "user.add"]


def test_expiry_in_days() -> None:
    import time

    assert expires_after(None) is None and expires_after(0) is None
    assert abs((expires_after(2) or 0) - (time.time() + 2 * 86400)) < 5
