"""`zhiku users`, `zhiku grants`, `zhiku keys`, `zhiku audit`: a team's accounts, who
may use which knowledge base, scoped API keys, and the audit trail (app/auth).

Passwords are prompted (hidden, twice) or read from stdin with `--password-stdin`, never
taken as an argument (it would stay in the shell history and `ps`). A key's secret is
printed once, alone on stdout, so `zhiku keys create … > key.txt` captures just it.
Every change is recorded in the audit trail as done by `cli:<the operating-system user>`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from app.auth import ALL, Access, open_access
from app.cli.errors import user_errors
from app.cli.operator import actor
from app.errors import UserError

users_app = typer.Typer(help="Accounts for ZHIKU_AUTH=local.", no_args_is_help=True)
grants_app = typer.Typer(help="Who may use which knowledge base.", no_args_is_help=True)
keys_app = typer.Typer(help="Scoped API keys (shown once, stored hashed).", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
_out = Console()
_err = Console(stderr=True)

STDIN = Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")]
USER = Annotated[str | None, typer.Option("--user", help="A user's name.")]
GROUP = Annotated[str | None, typer.Option("--group", help="A group's name.")]


def _access() -> Access:
    from app.settings import get_settings

    return open_access(get_settings())


def _audit(access: Access, action: str, target: str, detail: str = "") -> None:
    access.audit.record(actor(), action, target, "cli", "ok", detail)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


def _when(stamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp)) if stamp else "—"


# --- users ----------------------------------------------------------------------------


@users_app.command("add")
def users_add(
    name: str,
    role: Annotated[str, typer.Option(help="viewer, editor or admin.")] = "viewer",
    group: Annotated[list[str] | None, typer.Option(help="A group; repeatable.")] = None,
    password_stdin: STDIN = False,
) -> None:
    """Add an account (its password prompted, or read from stdin)."""
    with user_errors():
        access = _access()
        user = access.add_user(name, _password(password_stdin), role, group or ())
        _audit(access, "user.add", user.name, f"role {user.role}")
    _err.print(f"added {user.name} ({user.role})")


@users_app.command("list")
def users_list() -> None:
    """Accounts, their roles and groups."""
    with user_errors():
        users = _access().list_users()
    table = Table("name", "role", "groups", "disabled", "created")
    for user in users:
        table.add_row(user.name, user.role, ", ".join(user.groups), "yes" if user.disabled else "",
                      _when(user.created_at))  # fmt: skip
    _out.print(table)


@users_app.command("disable")
def users_disable(
    name: str, enable: Annotated[bool, typer.Option(help="Enable it again.")] = False
) -> None:
    """Disable an account: its sign-in and its keys stop at the next request."""
    with user_errors():
        access = _access()
        access.set_disabled(name, not enable)
        _audit(access, "user.enable" if enable else "user.disable", name)
    _err.print(f"{name} {'enabled' if enable else 'disabled'}")


@users_app.command("passwd")
def users_passwd(name: str, password_stdin: STDIN = False) -> None:
    """Set an account's password."""
    with user_errors():
        access = _access()
        access.user(name)  # an unknown name fails before the prompt
        access.set_password(name, _password(password_stdin))
        _audit(access, "user.passwd", name)
    _err.print(f"password of {name} changed")


# --- grants ---------------------------------------------------------------------------


def _subject(user: str | None, group: str | None) -> str:
    if (user is None) == (group is None):
        raise UserError("name one --user or one --group")
    return f"user:{user}" if user is not None else f"group:{group}"


@grants_app.command("add")
def grants_add(
    knowledge_base: Annotated[str, typer.Argument(help=f"A knowledge base, or {ALL} for all.")],
    role: Annotated[str, typer.Option(help="viewer or editor (admin: every base).")] = "viewer",
    user: USER = None,
    group: GROUP = None,
) -> None:
    """Give a user or a group a role in a knowledge base."""
    with user_errors():
        access = _access()
        grant = access.grant(_subject(user, group), knowledge_base, role)
        _audit(access, "grant.add", f"{grant.subject} {grant.knowledge_base}", grant.role)
    _err.print(f"{grant.subject} is {grant.role} in {grant.knowledge_base}")


@grants_app.command("list")
def grants_list() -> None:
    """Every grant."""
    with user_errors():
        grants = _access().list_grants()
    table = Table("knowledge base", "who", "role")
    for grant in grants:
        table.add_row(grant.knowledge_base, grant.subject, grant.role)
    _out.print(table)


@grants_app.command("remove")
def grants_remove(knowledge_base: str, user: USER = None, group: GROUP = None) -> None:
    """Take a user's or group's grant in a knowledge base away."""
    with user_errors():
        access = _access()
        subject = _subject(user, group)
        if not access.revoke_grant(subject, knowledge_base):
            raise UserError(f"{subject} has no grant in {knowledge_base!r}")
        _audit(access, "grant.remove", f"{subject} {knowledge_base}")
    _err.print(f"removed {subject} from {knowledge_base}")


# --- keys -----------------------------------------------------------------------------


@keys_app.command("create")
def keys_create(
    kb: Annotated[
        list[str], typer.Option("--kb", help=f"A knowledge base ({ALL}: all); repeatable.")
    ],
    scope: Annotated[list[str], typer.Option(help="ask, read or write; repeatable.")],
    user: USER = None,
    service: Annotated[str | None, typer.Option(help="A service's name (no account).")] = None,
    expires_days: Annotated[float | None, typer.Option(min=0.001, help="Days it works.")] = None,
) -> None:
    """Make a key for a user or a service; its secret is printed once, on stdout."""
    with user_errors():
        if (user is None) == (service is None):
            raise UserError("name one --user or one --service")
        owner = f"user:{user}" if user is not None else f"service:{service}"
        expires = time.time() + expires_days * 86400 if expires_days else None
        access = _access()
        made = access.create_key(owner, kb, scope, expires)
        reach = f"{','.join(made.key.knowledge_bases)} {','.join(made.key.scopes)}"
        _audit(access, "key.create", made.key.prefix, f"{owner} {reach}")
    _err.print(f"key {made.key.prefix} for {owner}; copy it now, it is not shown again:")
    typer.echo(made.secret)


@keys_app.command("list")
def keys_list() -> None:
    """Keys by prefix (never their secrets), with owner, reach, expiry and last use."""
    with user_errors():
        keys = _access().list_keys()
    now = time.time()
    table = Table("prefix", "owner", "knowledge bases", "scopes", "expires", "last used", "state")
    for key in keys:
        table.add_row(key.prefix, key.owner, ",".join(key.knowledge_bases), ",".join(key.scopes),
                      _when(key.expires_at), _when(key.last_used_at), key.state(now))  # fmt: skip
    _out.print(table)


@keys_app.command("revoke")
def keys_revoke(prefix: str) -> None:
    """Revoke a key: it is refused from the next request on."""
    with user_errors():
        access = _access()
        key = access.revoke_key(prefix)
        _audit(access, "key.revoke", key.prefix, key.owner)
    _err.print(f"key {prefix} revoked")


# --- audit ----------------------------------------------------------------------------


@audit_app.command("export")
def audit_export(
    csv: Annotated[bool, typer.Option("--csv", help="As CSV (the only format so far).")] = False,
    output: Annotated[Path | None, typer.Option(help="Write to this file, not stdout.")] = None,
) -> None:
    """The whole audit trail (time in UTC, who, what, target, from where, outcome)."""
    with user_errors():
        if not csv:
            raise UserError("say the format: zhiku audit export --csv")
        text = _access().audit.export_csv()
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
