"""The admin page's scoped API keys: each by its prefix (never its secret), a new one for
a user or a service, and revocation — through `Access`, as `zhiku keys …` does.

A new key's secret is drawn once, in the run that created it, and kept nowhere else: not
in session state, not in a log, not in the audit trail (which names the prefix). The
next click redraws the page without it.
"""

from __future__ import annotations

import time

import streamlit as st

from app.auth import ALL, SCOPES, ApiKey, NewKey, expires_after
from app.errors import UserError
from app.ui import permissions, resources
from app.ui.admin_shared import apply, knowledge_base_name, scope_name, when
from app.ui.i18n import N_, _
from app.ui.safe_text import escape_markdown, show_error

OWNERS = {"user": N_("A user"), "service": N_("A service")}
STATES = {"active": N_("active"), "expired": N_("expired"), "revoked": N_("revoked")}
DEFAULT_DAYS = 90


def render() -> None:
    # the list and the revoke come first, drawn last: a key made in this run is in both
    table, revoking = st.container(), st.container()
    create_section()
    keys = permissions.access().list_keys()
    with revoking:
        revoke_section([key for key in keys if key.state(time.time()) == "active"])
    with table:
        if keys:
            st.dataframe([_row(key) for key in keys], hide_index=True, width="stretch")
        else:
            st.caption(_("No keys yet."))


def _row(key: ApiKey) -> dict:
    return {
        _("Prefix"): key.prefix,
        _("Owner"): key.owner,
        _("Knowledge bases"): ", ".join(knowledge_base_name(kb) for kb in key.knowledge_bases),
        _("Scopes"): ", ".join(scope_name(scope) for scope in key.scopes),
        _("Expires"): when(key.expires_at),
        _("Last used"): when(key.last_used_at),
        _("State"): _(STATES[key.state(time.time())]),
    }


def create_section() -> None:
    st.subheader(_("New key"))
    kind = st.radio(
        _("For"), list(OWNERS), format_func=lambda k: _(OWNERS[k]), horizontal=True,
        key="admin_key_owner_kind",
    )  # fmt: skip
    if kind == "user":
        users = [user.name for user in permissions.access().list_users()]
        name = st.selectbox(_("User"), users, index=None, key="admin_key_user")
    else:
        name = st.text_input(_("Service name"), max_chars=64, key="admin_key_service").strip()
    bases = st.multiselect(
        _("Knowledge bases"), [*resources.knowledge().names(), ALL],
        format_func=knowledge_base_name, key="admin_key_kbs",
    )  # fmt: skip
    scopes = st.multiselect(
        _("Scopes"), SCOPES, default=["ask"], format_func=scope_name, key="admin_key_scopes",
        help=_("ask: answers and retrieval; read: lists and documents; write: uploads, "
               "deletes, re-index"),
    )  # fmt: skip
    days = st.number_input(
        _("Expires after (days; 0: never)"), min_value=0, max_value=3650, value=DEFAULT_DAYS,
        key="admin_key_days",
    )  # fmt: skip
    ready = bool(name and bases and scopes)
    if st.button(_("Create key"), key="admin_create_key", type="primary", disabled=not ready):
        try:
            made = permissions.access().create_key(
                f"{kind}:{name}", bases, scopes, expires_after(days), by=permissions.actor()
            )
        except UserError as exc:
            show_error(exc)
            return
        show_once(made)


def show_once(made: NewKey) -> None:
    """The secret, this once (the page forgets it at the next click)."""
    done = _("Key {prefix} created for {owner}.", prefix=made.key.prefix, owner=made.key.owner)
    st.success(escape_markdown(done))
    st.warning(_("Copy the key now: it will not be shown again."))
    st.code(made.secret, language=None)


def revoke_section(active: list[ApiKey]) -> None:
    if not active:
        return
    st.subheader(_("Revoke a key"))
    key = st.selectbox(
        _("Key"), active, index=None, key="admin_revoke_key",
        format_func=lambda k: f"{k.prefix} · {k.owner} · {', '.join(k.knowledge_bases)}",
        placeholder=_("Choose a key to revoke"),
    )  # fmt: skip
    if key is None:
        return
    with st.popover(_("Revoke this key"), icon="🚫"):
        st.caption(_("Requests with it are refused from the next one on."))
        if st.button(_("Revoke it"), key="admin_revoke_it", type="primary"):
            apply(
                lambda: permissions.access().revoke_key(key.prefix, by=permissions.actor()),
                _("Key {prefix} revoked.", prefix=key.prefix),
            )
