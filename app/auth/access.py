"""`Access`: the one object that knows users, groups, grants, API keys and the audit
trail, and answers what a caller may do. The API, the MCP endpoint, the CLI and the chat
ask it; none of them reads the tables.

Nothing is cached between requests: a revoked key, a disabled user or a removed grant
takes effect on the next request (AnythingLLM's CVE-2026-32717 kept revoked users'
keys working). Only a key's last-used time is written lazily, at most once a minute.

Each change names who made it (`by`, an `Actor`): the CLI and the admin page call the
same methods, and the change is recorded here, once, in the audit trail.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from app.auth import tokens
from app.auth.audit import AuditLog
from app.auth.lookup import key_caller, user_principal
from app.auth.tables import Base, GrantRow, KeyRow, MembershipRow, SubjectRow, UserRow
from app.auth.types import (
    ALL,
    ROLES,
    SCOPES,
    Action,
    Actor,
    ApiKey,
    Grant,
    NewKey,
    Principal,
    Role,
    User,
    can,
    visible,
)
from app.errors import UserError
from app.once import once_per_arguments
from app.settings import Settings, validate_collection_name
from app.sql import create_tables, engine, make_sqlite_folder

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
TOUCH_EVERY_S = 60.0  # a key's last-used time is written at most this often


class AccessError(UserError):
    """A request to change users, grants or keys that cannot be done (one line)."""


def _name(kind: str, name: str) -> str:
    if not NAME.fullmatch(name):
        raise AccessError(f"{kind} name {name!r}: use up to 64 letters, digits, . _ @ -")
    return name


def _role(role: str) -> Role:
    if role not in ROLES:
        raise AccessError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    return role


class Access:
    """Users, grants, keys and audit in one SQL database; each call one transaction."""

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        self.url = url
        self._engine = engine(url, timeout_s)
        create_tables(url, Base.metadata, timeout_s)
        self.audit = AuditLog(self._engine)
        self._touched: dict[int, float] = {}
        self._touch_lock = threading.Lock()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with Session(self._engine, expire_on_commit=False) as session, session.begin():
            yield session

    def _record(self, by: Actor | None, action: str, target: str, detail: str = "") -> None:
        """A change in the audit trail, after it is made (None: seeding, e.g. in tests)."""
        if by is not None:
            self.audit.record(by.name, action, target, by.client, "ok", detail)

    # --- users ---------------------------------------------------------------------------

    def add_user(
        self,
        name: str,
        password: str,
        role: str = "viewer",
        groups: Iterable[str] = (),
        *,
        by: Actor | None = None,
    ) -> User:
        row = UserRow(name=_name("user", name), password_hash=tokens.hash_password(password),
                      role=_role(role), disabled=False, created_at=time.time())  # fmt: skip
        try:
            with self._session() as session:
                session.add(row)
                session.flush()
                _set_groups(session, row, groups)
        except IntegrityError:
            raise AccessError(f"user {name!r} exists already") from None
        self._record(by, "user.add", row.name, f"role {row.role}")
        return self.user(name)

    def user(self, name: str) -> User:
        with self._session() as session:
            return _user(session, self._user_row(session, name))

    def list_users(self) -> list[User]:
        with self._session() as session:
            return [
                _user(session, row)
                for row in session.scalars(select(UserRow).order_by(UserRow.name))
            ]

    def set_disabled(self, name: str, disabled: bool, *, by: Actor | None = None) -> User:
        """Disable an account (its sign-in and keys stop at the next request) or enable it."""
        with self._session() as session:
            row = self._user_row(session, name)
            if disabled:
                _keep_an_admin(session, row)
            row.disabled = disabled
        self._record(by, "user.disable" if disabled else "user.enable", name)
        return self.user(name)

    def update_user(
        self,
        name: str,
        role: str | None = None,
        groups: Iterable[str] | None = None,
        *,
        by: Actor | None = None,
    ) -> User:
        """Change an account's role and/or its groups (None: leave it as it is)."""
        changes = []
        with self._session() as session:
            row = self._user_row(session, name)
            if role is not None and _role(role) != row.role:
                if row.role == "admin":
                    _keep_an_admin(session, row)
                row.role = role
                changes.append(f"role {role}")
            if groups is not None:
                session.execute(delete(MembershipRow).where(MembershipRow.user_id == row.id))
                kept = _set_groups(session, row, groups)
                changes.append(f"groups {','.join(kept)}")
        self._record(by, "user.update", name, "; ".join(changes))
        return self.user(name)

    def set_password(self, name: str, password: str, *, by: Actor | None = None) -> None:
        digest = tokens.hash_password(password)
        with self._session() as session:
            self._user_row(session, name).password_hash = digest
        self._record(by, "user.passwd", name)

    def sign_in(self, name: str, password: str) -> Principal | None:
        """The user's principal when the password is right and the account enabled."""
        with self._session() as session:
            row = session.scalar(select(UserRow).where(UserRow.name == name))
            stored = row.password_hash if row is not None else None
            if not tokens.password_matches(password, stored) or row is None or row.disabled:
                return None
            return _user_principal(session, row, f"user:{row.name}")

    def principal_of(self, name: str) -> Principal | None:
        """An enabled user's principal as their grants are now (None: unknown, disabled)."""
        with self._session() as session:
            row = session.scalar(select(UserRow).where(UserRow.name == name))
            if row is None or row.disabled:
                return None
            return _user_principal(session, row, f"user:{row.name}")

    def provision(
        self, name: str, issuer: str, subject: str, role: Role, groups: Iterable[str]
    ) -> Principal:
        """The principal of someone the identity provider signed in: their account is
        made at first sign-in (no password) and bound to the provider's subject; role and
        groups are the provider's at every sign-in. A name that is another account's (a
        local one, or another subject's) or a disabled account raises AccessError."""
        with self._session() as session:
            bound = session.scalar(
                select(SubjectRow).where(SubjectRow.issuer == issuer, SubjectRow.subject == subject)
            )
            row = session.scalar(select(UserRow).where(UserRow.name == _name("user", name)))
            if bound is None and row is not None:
                raise AccessError(f"the name {name!r} is another account's in zhiku")
            if bound is not None and (row is None or row.id != bound.user_id):
                row = session.get(UserRow, bound.user_id)  # renamed at the provider: same person
            if row is None:
                row = UserRow(name=name, password_hash=None, role=role, disabled=False,
                              created_at=time.time())  # fmt: skip
                session.add(row)
                session.flush()
                session.add(SubjectRow(user_id=row.id, issuer=issuer, subject=subject))
            if row.disabled:
                raise AccessError(f"the account {row.name!r} is disabled")
            row.role = _role(role)
            wanted = {group for group in groups if NAME.fullmatch(group)}
            session.execute(delete(MembershipRow).where(MembershipRow.user_id == row.id))
            session.add_all(MembershipRow(user_id=row.id, group=group) for group in sorted(wanted))
            session.flush()
            return _user_principal(session, row, f"user:{row.name}")

    @staticmethod
    def _user_row(session: Session, name: str) -> UserRow:
        row = session.scalar(select(UserRow).where(UserRow.name == name))
        if row is None:
            raise AccessError(f"no user {name!r}; `zhiku users list` shows them")
        return row

    # --- grants --------------------------------------------------------------------------

    def grant(
        self, subject: str, knowledge_base: str, role: str, *, by: Actor | None = None
    ) -> Grant:
        """Give a user (`user:<name>`) or group (`group:<name>`) a role in a knowledge
        base (or every one: `*`); replaces an earlier grant for the same pair."""
        subject = self._subject(subject)
        kb = knowledge_base if knowledge_base == ALL else validate_collection_name(knowledge_base)
        with self._session() as session:
            row = session.scalar(
                select(GrantRow).where(GrantRow.subject == subject, GrantRow.knowledge_base == kb)
            )
            if row is None:
                session.add(GrantRow(subject=subject, knowledge_base=kb, role=_role(role)))
            else:
                row.role = _role(role)
        self._record(by, "grant.add", f"{subject} {kb}", role)
        return Grant(subject, kb, _role(role))

    def revoke_grant(self, subject: str, knowledge_base: str, *, by: Actor | None = None) -> bool:
        """Take a grant away; False when there was none (nothing recorded then)."""
        with self._session() as session:
            gone = session.execute(
                delete(GrantRow).where(GrantRow.subject == subject,
                                       GrantRow.knowledge_base == knowledge_base)
            )  # fmt: skip
            removed = bool(getattr(gone, "rowcount", 0))
        if removed:
            self._record(by, "grant.remove", f"{subject} {knowledge_base}")
        return removed

    def list_grants(self) -> list[Grant]:
        query = select(GrantRow).order_by(GrantRow.knowledge_base, GrantRow.subject)
        with self._session() as session:
            return [
                Grant(r.subject, r.knowledge_base, _role(r.role)) for r in session.scalars(query)
            ]

    def rename_knowledge_base(self, old: str, new: str) -> None:
        """Grants and keys follow a renamed knowledge base (a no-op once done). A grant
        someone made earlier to the new name, before it existed, gives way to the
        renamed knowledge base's own."""
        with self._session() as session:
            moved = list(session.scalars(select(GrantRow).where(GrantRow.knowledge_base == old)))
            if moved:
                session.execute(delete(GrantRow).where(GrantRow.knowledge_base == new))
                session.flush()
                for row in moved:
                    row.knowledge_base = new
            self._replace_in_keys(session, old, new)

    def forget_knowledge_base(self, name: str) -> None:
        """A deleted knowledge base's grants go, and keys no longer name it: a new
        knowledge base of the same name starts with no one's access."""
        with self._session() as session:
            session.execute(delete(GrantRow).where(GrantRow.knowledge_base == name))
            self._replace_in_keys(session, name, None)

    @staticmethod
    def _replace_in_keys(session: Session, old: str, new: str | None) -> None:
        for row in session.scalars(select(KeyRow)):
            if old in row.knowledge_bases:
                kept = [kb for kb in row.knowledge_bases if kb != old]
                row.knowledge_bases = sorted({*kept, new} if new else set(kept))

    def _subject(self, subject: str) -> str:
        kind, _, name = subject.partition(":")
        if kind not in ("user", "group"):
            raise AccessError(f"grant to 'user:<name>' or 'group:<name>', not {subject!r}")
        if kind == "user":
            self.user(name)  # raises for an unknown user
        return f"{kind}:{_name(kind, name)}"

    # --- keys ----------------------------------------------------------------------------

    def create_key(
        self,
        owner: str,
        knowledge_bases: Iterable[str],
        scopes: Iterable[str],
        expires_at: float | None = None,
        *,
        by: Actor | None = None,
    ) -> NewKey:
        """A new key for `user:<name>` or `service:<name>`; its secret is in the result
        only (the database keeps a digest)."""
        kind, _, name = owner.partition(":")
        if kind == "user":
            self.user(name)
        elif kind != "service":
            raise AccessError(f"a key belongs to 'user:<name>' or 'service:<name>', not {owner!r}")
        kbs = sorted({kb if kb == ALL else validate_collection_name(kb) for kb in knowledge_bases})
        wanted = sorted(set(scopes), key=SCOPES.index) if set(scopes) <= set(SCOPES) else None
        if not kbs or not wanted:
            raise AccessError(f"a key needs knowledge bases and scopes ({', '.join(SCOPES)})")
        prefix, token = tokens.new_token()
        row = KeyRow(prefix=prefix, digest=tokens.token_digest(token),
                     owner=f"{kind}:{_name(kind, name)}", knowledge_bases=kbs, scopes=wanted,
                     created_at=time.time(), expires_at=expires_at)  # fmt: skip
        with self._session() as session:
            session.add(row)
        reach = f"{','.join(kbs)} {','.join(wanted)}"
        self._record(by, "key.create", row.prefix, f"{row.owner} {reach}")
        return NewKey(_key(row), token)

    def list_keys(self) -> list[ApiKey]:
        with self._session() as session:
            return [_key(row) for row in session.scalars(select(KeyRow).order_by(KeyRow.id))]

    def revoke_key(self, prefix: str, *, by: Actor | None = None) -> ApiKey:
        """Revoke a key: refused from the next request on."""
        with self._session() as session:
            row = session.scalar(select(KeyRow).where(KeyRow.prefix == prefix))
            if row is None:
                raise AccessError(f"no key {prefix!r}; `zhiku keys list` shows them")
            row.revoked_at = row.revoked_at or time.time()
            key = _key(row)
        self._record(by, "key.revoke", key.prefix, key.owner)
        return key

    def authenticate(self, token: str) -> Principal | None:
        """The caller a key stands for, or None (unknown, malformed, revoked, expired, or
        its user disabled)."""
        if tokens.token_prefix(token) is None:
            return None
        now = time.time()
        with self._engine.connect() as connection:
            found = key_caller(connection, tokens.token_digest(token), now)
        if found is None:
            return None
        self._touch(found.key_id, now)
        return found.principal

    def _touch(self, key_id: int, now: float) -> None:
        with self._touch_lock:
            if now - self._touched.get(key_id, 0.0) < TOUCH_EVERY_S:
                return
            self._touched[key_id] = now
        try:
            with self._session() as session:
                row = session.get(KeyRow, key_id)
                if row is not None:
                    row.last_used_at = now
        except SQLAlchemyError:
            pass  # a locked database must not refuse a valid key; the next minute retries

    # --- the rule ------------------------------------------------------------------------

    @staticmethod
    def can(principal: Principal, action: Action, knowledge_base: str | None) -> bool:
        return can(principal, action, knowledge_base)

    @staticmethod
    def readable(principal: Principal, names: Iterable[str], action: Action = "read") -> list[str]:
        """The knowledge bases among `names` the caller may `action` in."""
        return [name for name in names if can(principal, action, name)]

    @staticmethod
    def visible(principal: Principal, knowledge_base: str) -> bool:
        return visible(principal, knowledge_base)


def _set_groups(session: Session, row: UserRow, groups: Iterable[str]) -> list[str]:
    kept = list(dict.fromkeys(_name("group", group.strip()) for group in groups if group.strip()))
    for group in kept:
        session.add(MembershipRow(user_id=row.id, group=group))
    return kept


def _keep_an_admin(session: Session, row: UserRow) -> None:
    """Refuse to disable or demote the last enabled admin: nobody could then manage the
    team from the chat (the CLI still could, by adding one)."""
    if row.role != "admin" or row.disabled:
        return
    others = select(UserRow.id).where(UserRow.role == "admin", UserRow.disabled.is_(False),
                                      UserRow.id != row.id)  # fmt: skip
    if session.scalar(others.limit(1)) is None:
        raise AccessError(f"{row.name} is the last enabled admin; make another admin first")


def _user(session: Session, row: UserRow) -> User:
    groups = session.scalars(select(MembershipRow.group).where(MembershipRow.user_id == row.id))
    return User(row.name, _role(row.role), row.disabled, tuple(sorted(groups)), row.created_at)


def _user_principal(session: Session, row: UserRow, name: str) -> Principal:
    return user_principal(session.connection(), row.id, row.name, row.role, name)


def _key(row: KeyRow) -> ApiKey:
    return ApiKey(row.prefix, row.owner, tuple(row.knowledge_bases), tuple(row.scopes),
                  row.created_at, row.expires_at, row.last_used_at, row.revoked_at)  # fmt: skip


def expires_after(days: float | None) -> float | None:
    """A key's expiry time `days` from now (None or 0: it does not expire)."""
    return time.time() + days * 86400 if days else None


def auth_url(settings: Settings) -> str:
    return settings.access.auth_url or f"sqlite:///{settings.storage.data_dir / 'auth.sqlite'}"


def open_access(settings: Settings) -> Access:
    """The access service for these settings, one per process and URL."""
    return _access(auth_url(settings), settings.conversations.conversations_timeout_s)


@once_per_arguments(maxsize=8)
def _access(url: str, timeout_s: float) -> Access:
    make_sqlite_folder(url)
    return Access(url, timeout_s)


def keys_required(settings: Settings) -> bool:
    """Whether every API request must carry a key (env keys set, or accounts on)."""
    return bool(settings.serving.api_keys) or settings.access.auth != "none"
