"""Signing in to the chat with `ZHIKU_AUTH=local`: a password checked with argon2, a
session that ends after `ZHIKU_SESSION_HOURS`, and a pause after
`ZHIKU_SIGN_IN_FAILURES` failures in 15 minutes for one name or one address.

Failures are counted from the audit trail, so the pause holds across restarts and
across several chat processes on one database. A session is re-checked on every page
run: a disabled account, or changed grants, take effect at the user's next click.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Literal

from app.auth.access import Access
from app.auth.types import Principal
from app.loopback import is_loopback

WINDOW_S = 15 * 60
Outcome = Literal["ok", "wrong", "paused"]


@dataclass(frozen=True)
class Session:
    user: str
    principal: Principal
    started_at: float
    expires_at: float
    mark: str = ""  # what names this sign-in in the audit trail (oidc: the token's digest)


class SignIns:
    def __init__(self, access: Access, session_hours: float, max_failures: int) -> None:
        self.access = access
        self.session_s = session_hours * 3600
        self.max_failures = max_failures

    def paused(self, name: str, client: str) -> bool:
        """Too many recent failures for this name or from this address. A loopback address
        is not one person (everyone on this machine, or behind a proxy that names no one):
        pausing it would lock them all out, so only the name counts there."""
        since = time.time() - WINDOW_S
        by_name = self.access.audit.count("sign_in.failed", since, target=name)
        by_client = 0
        if client and not is_loopback(client):
            by_client = self.access.audit.count("sign_in.failed", since, client=client)
        return max(by_name, by_client) >= self.max_failures

    def attempt(self, name: str, password: str, client: str) -> tuple[Outcome, Session | None]:
        """Sign in, or say why not; every attempt is in the audit trail (never the password)."""
        name = name.strip()[:64]
        if self.paused(name, client):
            self.access.audit.record(f"user:{name}", "sign_in.paused", name, client, "denied")
            return "paused", None
        principal = self.access.sign_in(name, password)
        if principal is None:
            self.access.audit.record("anonymous", "sign_in.failed", name, client, "denied")
            return "wrong", None
        now = time.time()
        self.access.audit.record(principal.name, "sign_in", name, client)
        return "ok", Session(name, principal, now, now + self.session_s)

    def current(self, session: Session | None) -> Session | None:
        """The session if it has not expired and its user may still sign in, with their
        grants as they are now (None: show the sign-in page)."""
        if session is None or time.time() >= session.expires_at:
            return None
        principal = self.access.principal_of(session.user)
        if principal is None:
            return None
        return replace(session, principal=principal)

    def sign_out(self, session: Session, client: str) -> None:
        self.access.audit.record(session.principal.name, "sign_out", session.user, client)
