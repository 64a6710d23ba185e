"""What the signed-in person may do in the chat: the rule the API applies (`app.auth.can`)
on the grants sign-in resolved, re-read at every run (a removed grant takes effect at the
next click). With accounts off (`ZHIKU_AUTH=none`) every check passes: one person on a
laptop, as before.

Pages draw only what the person may use, and check again where they act; each write
made with accounts on goes to the audit trail with who, what and the browser's address.
"""

from __future__ import annotations

from collections.abc import Iterable

import streamlit as st

from app.auth import ALL, Access, Action, Actor, Principal, can, open_access
from app.ui import resources
from app.ui.browser import browser_id
from app.ui.sign_in import SESSION_KEY, client_address


def principal() -> Principal | None:
    """The signed-in person (None: accounts are off)."""
    session = st.session_state.get(SESSION_KEY)
    return session.principal if session is not None else None


def may(action: Action, knowledge_base: str | None) -> bool:
    who = principal()
    return who is None or can(who, action, knowledge_base)


def is_admin() -> bool:
    """A signed-in admin: the one who sees the admin page (never with accounts off,
    where there are no accounts to manage)."""
    who = principal()
    return who is not None and can(who, "admin", ALL)


def askable(names: Iterable[str]) -> list[str]:
    """The knowledge bases the person may ask in, in the given order."""
    return [name for name in names if may("ask", name)]


def who() -> str:
    """How a change is signed: the account, or (accounts off) this browser."""
    signed_in = principal()
    return signed_in.name if signed_in is not None else f"browser:{browser_id()[:8]}"


def owner() -> str | None:
    """Whose conversations these are: the account's (None: accounts off, the browser's)."""
    signed_in = principal()
    return signed_in.owner if signed_in is not None else None


def access() -> Access:
    """The accounts service, the one `zhiku users/grants/keys/audit` uses."""
    return open_access(resources.settings())


def actor() -> Actor:
    """The signed-in person as the audit trail names them, with the browser's address."""
    signed_in = principal()
    if signed_in is None:
        raise PermissionError("no one is signed in")
    return Actor(signed_in.name, client_address())


def audit(action: str, target: str, detail: str = "") -> None:
    """Record a write done in the chat (accounts on only; names, never secrets)."""
    signed_in = principal()
    if signed_in is None:
        return
    access().audit.record(signed_in.name, action, target, client_address(), "ok", detail)
