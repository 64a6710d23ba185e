"""`zhiku users`, `zhiku grants`, `zhiku keys`, `zhiku audit`: a team's accounts, who
may use which knowledge base, scoped API keys, and the audit trail (app/auth).

Passwords are prompted (hidden, twice) or read from stdin with `--password-stdin`, never
taken as an argument (it would stay in the shell history and `ps`). A key's secret is
printed once, alone on stdout, so `zhiku keys create … > key.txt` captures just it.
Every change is recorded in the audit trail (by `Access`, as the admin page's are) as done
by `cli:<the operating-system user>`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from app.auth import ALL, Access, Actor, expires_after, open_access
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


def _by() -> Actor:
    return Actor(actor(), "cli")


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
        user = access.add_user(name, _password(password_stdin), role, group or (), by=_by())
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
        _access().set_disabled(name, not enable, by=_by())
    _err.print(f"{name} {'enabled' if enable else 'disabled'}")


@users_app.command("set")
def users_set(
    name: str,
    role: Annotated[str | None, typer.Option(help="viewer, editor or admin.")] = None,
    group: Annotated[
        list[str] | None, typer.Option(help="A group; repeatable; replaces the groups.")
    ] = None,
    no_groups: Annotated[bool, typer.Option("--no-groups", help="Leave every group.")] = False,
) -> None:
    """Change an account's role or groups."""
    with user_errors():
        groups = [] if no_groups else group
        if role is None and groups is None:
            raise UserError("say what to change: --role, --group or --no-groups")
        user = _access().update_user(name, role, groups, by=_by())
    _err.print(f"{user.name}: {user.role}, groups {', '.join(user.groups) or '—'}")


@users_app.command("passwd")
def users_passwd(name: str, password_stdin: STDIN = False) -> None:
    """Set an account's password."""
    with user_errors():
        access = _access()
        access.user(name)  # an unknown name fails before the prompt
        access.set_password(name, _password(password_stdin), by=_by())
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
        grant = _access().grant(_subject(user, group), knowledge_base, role, by=_by())
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
        subject = _subject(user, group)
        if not _access().revoke_grant(subject, knowledge_base, by=_by()):
            raise UserError(f"{subject} has no grant in {knowledge_base!r}")
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
        made = _access().create_key(owner, kb, scope, expires_after(expires_days), by=_by())
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
        _access().revoke_key(prefix, by=_by())
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
