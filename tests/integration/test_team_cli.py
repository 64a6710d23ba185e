"""`zhiku users/grants/keys/audit` through the real command line (typer's runner; in
tests/integration because importing app.cli loads chromadb)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.auth import open_access
from app.cli import cli
from app.settings import get_settings

PASSWORD = "correct horse battery"


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ZHIKU_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args, stdin=None: runner.invoke(cli, list(args), input=stdin)
    get_settings.cache_clear()


def test_a_team_is_set_up_from_the_command_line(run, tmp_path: Path) -> None:
    added = run("users", "add", "ann", "--role", "editor", "--group", "hr", "--password-stdin",
                stdin=f"{PASSWORD}\n")  # fmt: skip
    assert added.exit_code == 0, added.output
    assert PASSWORD not in added.output
    assert run("grants", "add", "handbook", "--group", "hr", "--role", "editor").exit_code == 0
    made = run("keys", "create", "--user", "ann", "--kb", "handbook", "--scope", "read")
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip().splitlines()[-1]
    assert secret.startswith("zk_")
    caller = open_access(get_settings()).authenticate(secret)
    assert caller is not None and caller.owner == "user:ann"
    listed = run("keys", "list").stdout
    assert secret not in listed and secret.split("_")[1] in listed
    assert "ann" in run("users", "list").stdout and "group:hr" in run("grants", "list").stdout
    assert run("keys", "revoke", secret.split("_")[1]).exit_code == 0
    assert open_access(get_settings()).authenticate(secret) is None
    exported = run("audit", "export", "--csv").stdout
    for action in ("user.add", "grant.add", "key.create", "key.revoke"):
        assert f",{action}," in exported
    assert secret not in exported and PASSWORD not in exported
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("auth.sqlite*"))
    assert secret.encode() not in stored and PASSWORD.encode() not in stored


def test_mistakes_are_one_line_errors(run) -> None:
    short = run("users", "add", "bea", "--password-stdin", stdin="short\n")
    assert short.exit_code == 1 and "at least" in short.output and "Traceback" not in short.output
    assert run("users", "disable", "ghost").exit_code == 1
    assert "--user or one --group" in run("grants", "add", "kb").output
    assert run("keys", "create", "--user", "ghost", "--kb", "a", "--scope", "ask").exit_code == 1
    assert run("keys", "revoke", "nosuchkey").exit_code == 1
    assert "--csv" in run("audit", "export").output


def test_a_disabled_user_and_a_new_password(run) -> None:
    run("users", "add", "ann", "--password-stdin", stdin=f"{PASSWORD}\n")
    access = open_access(get_settings())
    assert run("users", "disable", "ann").exit_code == 0
    assert access.sign_in("ann", PASSWORD) is None
    assert run("users", "disable", "ann", "--enable").exit_code == 0
    changed = run("users", "passwd", "ann", "--password-stdin", stdin="a brand new password\n")
    assert changed.exit_code == 0, changed.output
    assert access.sign_in("ann", "a brand new password") is not None


def test_a_role_and_groups_are_changed_in_place(run) -> None:
    run("users", "add", "ann", "--group", "hr", "--password-stdin", stdin=f"{PASSWORD}\n")
    changed = run("users", "set", "ann", "--role", "editor", "--group", "eng", "--group", "ops")
    assert changed.exit_code == 0, changed.output
    user = open_access(get_settings()).user("ann")
    assert user.role == "editor" and user.groups == ("eng", "ops")
    assert run("users", "set", "ann", "--no-groups").exit_code == 0
    assert open_access(get_settings()).user("ann").groups == ()
    assert "--role, --group or --no-groups" in run("users", "set", "ann").output
    exported = run("audit", "export", "--csv").stdout
    assert ',user.update,ann,cli,ok,"role editor; groups eng,ops"' in exported
