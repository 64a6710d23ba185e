"""What the admin page's sections share: role and scope names in the visitor's language,
and how a change is made — through `Access` (the methods `zhiku users/grants/keys` call,
which record it in the audit trail with the admin as actor), a refusal shown as one
line, a success as a notice above the page after it is redrawn."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import streamlit as st

from app.auth import ALL
from app.errors import UserError
from app.ui.i18n import N_, _
from app.ui.safe_text import escape_markdown, show_error

NOTICE = "admin_notice"
ROLE_NAMES = {"viewer": N_("viewer"), "editor": N_("editor"), "admin": N_("admin")}
SCOPE_NAMES = {"ask": N_("ask"), "read": N_("read"), "write": N_("write")}


def role_name(role: str) -> str:
    return _(ROLE_NAMES[role]) if role in ROLE_NAMES else role


def scope_name(scope: str) -> str:
    return _(SCOPE_NAMES[scope]) if scope in SCOPE_NAMES else scope


def knowledge_base_name(name: str) -> str:
    return _("every knowledge base") if name == ALL else name


def when(timestamp: float | None, seconds: bool = False) -> str:
    """Local time, to the minute (to the second for the audit trail); "–" for never."""
    shape = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return datetime.fromtimestamp(timestamp).strftime(shape) if timestamp else "–"


def split_names(text: str) -> list[str]:
    """Groups typed as `hr, eng` (Chinese commas too)."""
    return [name.strip() for name in text.replace("，", ",").split(",") if name.strip()]


def apply(change: Callable[[], object], notice: str) -> None:
    """Make a change; refused: one red line here; done: the page again, with `notice`."""
    try:
        change()
    except UserError as exc:
        show_error(exc)
        return
    st.session_state[NOTICE] = notice
    st.rerun()


def show_notice() -> None:
    if notice := st.session_state.pop(NOTICE, None):
        st.success(escape_markdown(notice))  # names in it are the admin's text
