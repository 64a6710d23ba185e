"""app/auth without a server: accounts, the role rule, scoped keys, revocation, audit."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from app.auth import ALL, Access, AccessError, Principal, can, visible
from app.auth import access as access_module

PASSWORD = "correct horse battery"


@pytest.fixture
def access(tmp_path: Path) -> Access:
    return Access(f"sqlite:///{tmp_path / 'auth.sqlite'}")


@pytest.fixture
def team(access: Access) -> Access:
    """ann (viewer in hr), bob (editor in wiki via group eng, viewer account in hr),
    root (admin)."""
    access.add_user("ann", PASSWORD, "viewer")
    access.add_user("bob", PASSWORD, "editor", groups=["eng"])
    access.add_user("root", PASSWORD, "admin")
    access.grant("user:ann", "hrdocs", "viewer")
    access.grant("group:eng", "wiki", "editor")
    access.grant("user:bob", "hrdocs", "viewer")
    return access


def test_accounts_are_checked(access: Access) -> None:
    access.add_user("ann", PASSWORD)
    with pytest.raises(AccessError, match="exists already"):
        access.add_user("ann", PASSWORD)
    with pytest.raises(ValueError, match="at least"):
        access.add_user("bea", "short")
    with pytest.raises(AccessError, match="user name"):
        access.add_user("../etc", PASSWORD)
    with pytest.raises(AccessError, match="unknown role"):
        access.add_user("cid", PASSWORD, "owner")
    assert [user.name for user in access.list_users()] == ["ann"]


def test_sign_in_needs_the_password_and_an_enabled_account(access: Access) -> None:
    access.add_user("ann", PASSWORD)
    assert access.sign_in("ann", PASSWORD) is not None
    assert access.sign_in("ann", PASSWORD + "x") is None
    assert access.sign_in("nobody", PASSWORD) is None
    access.set_disabled("ann", True)
    assert access.sign_in("ann", PASSWORD) is None
    access.set_disabled("ann", False)
    access.set_password("ann", "another long password")
    assert access.sign_in("ann", PASSWORD) is None
    assert access.sign_in("ann", "another long password") is not None


def test_roles_follow_grants_capped_by_the_account(team: Access) -> None:
    ann = team.sign_in("ann", PASSWORD)
    bob = team.sign_in("bob", PASSWORD)
    root = team.sign_in("root", PASSWORD)
    assert ann and bob and root
    assert can(ann, "ask", "hrdocs") and can(ann, "read", "hrdocs")
    assert not can(ann, "write", "hrdocs") and not visible(ann, "wiki")
    assert can(bob, "write", "wiki")  # through group eng
    assert not can(bob, "write", "hrdocs")  # only a viewer there
    assert not can(bob, "admin", "wiki")
    assert can(root, "admin", "anything") and can(root, "write", "new-kb")
    assert team.readable(bob, ["hrdocs", "wiki", "secret"]) == ["hrdocs", "wiki"]
    team.grant("user:ann", "wiki", "editor")  # a viewer account never writes
    ann = team.sign_in("ann", PASSWORD)
    assert ann and can(ann, "read", "wiki") and not can(ann, "write", "wiki")


def test_a_key_is_shown_once_and_stored_as_a_digest(team: Access, tmp_path: Path) -> None:
    made = team.create_key("user:bob", ["wiki"], ["ask", "read"])
    assert made.secret.startswith(f"zk_{made.key.prefix}_")
    assert len(made.secret) > 50
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("auth.sqlite*"))
    assert made.secret.encode() not in stored
    assert made.secret.split("_", 2)[2].encode() not in stored  # the secret may hold "_"
    assert made.key.prefix.encode() in stored  # the display part is kept
    assert [key.prefix for key in team.list_keys()] == [made.key.prefix]


def test_a_key_narrows_its_owner(team: Access) -> None:
    made = team.create_key("user:bob", ["wiki"], ["read"])
    caller = team.authenticate(made.secret)
    assert caller is not None and caller.owner == "user:bob"
    assert can(caller, "read", "wiki")
    assert not can(caller, "write", "wiki")  # bob may write there, the key may not
    assert not can(caller, "ask", "wiki")
    assert not visible(caller, "hrdocs")  # bob reads hr, the key is for wiki only


def test_a_service_key_has_only_its_knowledge_bases_and_scopes(team: Access) -> None:
    made = team.create_key("service:ci", ["wiki"], ["write", "read"])
    caller = team.authenticate(made.secret)
    assert caller is not None and caller.owner == "service:ci"
    assert can(caller, "write", "wiki") and not visible(caller, "hrdocs")
    assert not can(caller, "admin", "wiki")


def test_revoked_expired_and_disabled_keys_stop_at_once(team: Access) -> None:
    live = team.create_key("user:ann", ["hrdocs"], ["ask"])
    assert team.authenticate(live.secret) is not None
    team.revoke_key(live.key.prefix)
    assert team.authenticate(live.secret) is None
    old = team.create_key("user:ann", ["hrdocs"], ["ask"], expires_at=time.time() - 1)
    assert team.authenticate(old.secret) is None
    owned = team.create_key("user:ann", ["hrdocs"], ["ask"])
    team.set_disabled("ann", True)
    assert team.authenticate(owned.secret) is None
    with pytest.raises(AccessError, match="no key"):
        team.revoke_key("nosuchkey")


def test_nothing_but_the_whole_secret_opens_a_key(team: Access) -> None:
    made = team.create_key("service:ci", [ALL], ["read"])
    prefix = made.key.prefix
    for guess in (
        "", prefix, f"zk_{prefix}", f"zk_{prefix}_", f"zk_{prefix}_{'A' * 43}",
        made.secret[:-1], made.secret + "x", made.secret.upper(), f" {made.secret}",
        made.secret.split("_", 2)[2],
    ):  # fmt: skip
        assert team.authenticate(guess) is None, guess
    assert team.authenticate(made.secret) is not None


def test_last_used_is_written_at_most_once_a_minute(team: Access, monkeypatch) -> None:
    made = team.create_key("service:ci", ["wiki"], ["ask"])
    assert team.list_keys()[0].last_used_at is None
    team.authenticate(made.secret)
    first = team.list_keys()[0].last_used_at
    assert first is not None
    team.authenticate(made.secret)
    assert team.list_keys()[0].last_used_at == first
    monkeypatch.setattr(access_module, "TOUCH_EVERY_S", 0.0)
    team.authenticate(made.secret)
    assert (team.list_keys()[0].last_used_at or 0) > first


def test_keys_and_grants_need_real_owners(team: Access) -> None:
    with pytest.raises(AccessError, match="no user"):
        team.create_key("user:ghost", ["wiki"], ["ask"])
    with pytest.raises(AccessError, match="scopes"):
        team.create_key("service:ci", ["wiki"], ["delete"])
    with pytest.raises(AccessError, match="no user"):
        team.grant("user:ghost", "wiki", "viewer")
    with pytest.raises(AccessError, match="user:<name>"):
        team.grant("ghost", "wiki", "viewer")
    assert team.revoke_grant("user:ann", "hrdocs")
    assert not team.revoke_grant("user:ann", "hrdocs")


def test_embeddings_need_the_scope_anywhere() -> None:
    reader = Principal("key:x", "service:x", roles=((ALL, "editor"),), scopes=frozenset({"read"}),
                       knowledge_bases=frozenset({"a"}))  # fmt: skip
    assert can(reader, "read", None) and not can(reader, "ask", None)
    assert not can(Principal("user:nobody", "user:nobody"), "ask", None)


def test_the_audit_trail_exports_csv(team: Access) -> None:
    team.audit.record("user:root", "key.create", "service:ci", "127.0.0.1", "ok", "prefix abc")
    team.audit.record("anonymous", "auth.failed", "/v1/retrieve", "10.0.0.9", "denied")
    exported = team.audit.export_csv().splitlines()
    assert exported[0] == "at,actor,action,target,client,outcome,detail"
    assert exported[1].endswith("user:root,key.create,service:ci,127.0.0.1,ok,prefix abc")
    assert [event.action for event in team.audit.events(limit=1)] == ["auth.failed"]


def test_none_stays_the_default_and_oidc_needs_its_provider() -> None:
    from app.settings import SettingsError, load_settings

    assert load_settings().access.auth == "none"
    with pytest.raises(SettingsError, match="ZHIKU_AUTH=oidc needs ZHIKU_OIDC_METADATA_URL"):
        load_settings(auth="oidc")
