"""What app/auth answers with: users, grants, keys, audit events, the caller (`Principal`),
and the one rule deciding what a caller may do (`can`).

Roles rank viewer < editor < admin. A user's own role caps what any grant gives them (a
viewer account never writes, whatever it is granted), an admin reaches every knowledge
base, and a key narrows its owner further: only its scopes, only its knowledge bases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

from app.settings import Role

ROLES: tuple[Role, ...] = get_args(Role)  # ascending
Scope = Literal["ask", "read", "write"]
SCOPES: tuple[Scope, ...] = get_args(Scope)
Action = Literal["ask", "read", "write", "admin"]
ALL = "*"  # a grant or a key for every knowledge base

# the least role each action needs on a knowledge base
NEEDS: dict[Action, Role] = {"ask": "viewer", "read": "viewer", "write": "editor", "admin": "admin"}


def rank(role: Role | None) -> int:
    """Position of a role (-1: none)."""
    return ROLES.index(role) if role else -1


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    disabled: bool
    groups: tuple[str, ...]
    created_at: float


@dataclass(frozen=True)
class Actor:
    """Who changes users, grants or keys, as the audit trail records them: the admin's
    name (`user:root`, `cli:<os user>`) and where from (a browser's address, `cli`)."""

    name: str
    client: str


@dataclass(frozen=True)
class Grant:
    subject: str  # "user:<name>" or "group:<name>"
    knowledge_base: str  # or ALL
    role: Role


@dataclass(frozen=True)
class ApiKey:
    """A key as stored and listed: never its secret."""

    prefix: str  # shown to tell keys apart; random, unrelated to the secret
    owner: str  # "user:<name>" or "service:<name>"
    knowledge_bases: tuple[str, ...]
    scopes: tuple[Scope, ...]
    created_at: float
    expires_at: float | None
    last_used_at: float | None
    revoked_at: float | None

    def state(self, now: float) -> Literal["active", "expired", "revoked"]:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


@dataclass(frozen=True)
class NewKey:
    """A key just made: `secret` is shown once and stored only as a digest."""

    key: ApiKey
    secret: str


@dataclass(frozen=True)
class AuditEvent:
    at: float
    actor: str
    action: str
    target: str
    client: str
    outcome: Literal["ok", "denied", "failed"]
    detail: str


@dataclass(frozen=True)
class Principal:
    """Who is calling, with everything `can` needs resolved once per request.

    `roles` maps a knowledge base (or ALL) to the caller's role there; `scopes` and
    `knowledge_bases` are a key's limits (None: not limited by a key)."""

    name: str  # what the audit trail calls them: "user:alice", "key:zk_ab12cd34", …
    owner: str  # whose conversations and jobs they see
    full_access: bool = False
    roles: tuple[tuple[str, Role], ...] = ()
    scopes: frozenset[str] | None = None
    knowledge_bases: frozenset[str] | None = None
    key_prefix: str | None = field(default=None, compare=False)

    def role_on(self, knowledge_base: str) -> Role | None:
        found = [role for kb, role in self.roles if kb in (knowledge_base, ALL)]
        return max(found, key=rank) if found else None


def can(principal: Principal, action: Action, knowledge_base: str | None) -> bool:
    """May `principal` do `action` in `knowledge_base` (None: anywhere, e.g. embeddings)?"""
    if principal.full_access:
        return True
    if principal.scopes is not None:
        needed = "write" if action == "admin" else action
        if needed not in principal.scopes:
            return False
        if action == "admin" and principal.knowledge_bases != frozenset({ALL}):
            return False
    if knowledge_base is None:
        roles = [role for _kb, role in principal.roles]
        return any(rank(role) >= rank(NEEDS[action]) for role in roles)
    if principal.knowledge_bases is not None and not (
        principal.knowledge_bases & {knowledge_base, ALL}
    ):
        return False
    return rank(principal.role_on(knowledge_base)) >= rank(NEEDS[action])


def visible(principal: Principal, knowledge_base: str) -> bool:
    """Whether the caller may know the knowledge base exists (any scope in it); otherwise
    everything about it answers 404, as for a name that does not exist."""
    return any(can(principal, scope, knowledge_base) for scope in SCOPES)


FULL_ACCESS = Principal(name="local", owner="api", full_access=True)
