"""The per-request read of app/auth: who a key or a signed-in user is, and their roles.

It runs on every API request with accounts on, so its two statements are built once, at
import, and run through a plain connection: building a `select` and going through an ORM
session cost more than the SQLite read itself (`python -m bench auth`). Nothing is
cached between requests: a revoked key, a disabled user or a removed grant counts at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, literal, or_, select
from sqlalchemy.engine import Connection

from app.auth.tables import GrantRow, KeyRow, MembershipRow, UserRow
from app.auth.types import ALL, ROLES, Principal, Role, rank

# the key and, for a user's key, its user: one indexed row
_KEY_AND_USER = (
    select(KeyRow.id, KeyRow.prefix, KeyRow.owner, KeyRow.knowledge_bases, KeyRow.scopes,
           KeyRow.expires_at, KeyRow.revoked_at, UserRow.id, UserRow.role, UserRow.disabled)
    .outerjoin(UserRow, KeyRow.owner == literal("user:").concat(UserRow.name))
    .where(KeyRow.digest == bindparam("digest"))
)  # fmt: skip
# a user's own grants and their groups'
_GRANTS = select(GrantRow.knowledge_base, GrantRow.role).where(
    or_(
        GrantRow.subject == bindparam("owner"),
        GrantRow.subject.in_(
            select(literal("group:").concat(MembershipRow.group)).where(
                MembershipRow.user_id == bindparam("user_id")
            )
        ),
    )
)


@dataclass(frozen=True)
class KeyCaller:
    """An active key's caller, and the key's row id (for its last-used time)."""

    key_id: int
    principal: Principal


def user_principal(connection: Connection, user_id: int, name: str, role: str,
                   label: str) -> Principal:  # fmt: skip
    """A user's roles per knowledge base: the best grant to them or their groups, capped
    by their own role; an admin has every knowledge base."""
    owner = f"user:{name}"
    if role == "admin":
        return Principal(name=label, owner=owner, roles=((ALL, "admin"),))
    roles: dict[str, Role] = {}
    if role not in ROLES:  # a hand-edited row: no access rather than a guess
        return Principal(name=label, owner=owner)
    params = {"owner": owner, "user_id": user_id}
    for knowledge_base, granted in connection.execute(_GRANTS, params):
        if granted not in ROLES:
            continue
        best: Role = min(granted, role, key=rank)
        if rank(best) > rank(roles.get(knowledge_base)):
            roles[knowledge_base] = best
    return Principal(name=label, owner=owner, roles=tuple(sorted(roles.items())))


def key_caller(connection: Connection, digest: str, now: float) -> KeyCaller | None:
    """The caller of the key with this digest; None when unknown, revoked, expired, or its
    user is gone or disabled."""
    row = connection.execute(_KEY_AND_USER, {"digest": digest}).first()
    if row is None:
        return None
    key_id, prefix, owner, bases, scopes, expires_at, revoked_at, user_id, role, disabled = row
    if revoked_at is not None or (expires_at is not None and expires_at <= now):
        return None
    kind, _, name = owner.partition(":")
    label = f"key:{prefix}"
    if kind == "service":
        base = Principal(name=label, owner=owner, roles=((ALL, "editor"),))
    elif user_id is None or disabled:
        return None
    else:
        base = user_principal(connection, user_id, name, role, label)
    return KeyCaller(key_id, Principal(
        name=base.name, owner=base.owner, roles=base.roles, scopes=frozenset(scopes),
        key_prefix=prefix, knowledge_bases=frozenset(bases),
    ))  # fmt: skip
