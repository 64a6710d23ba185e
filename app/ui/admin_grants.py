"""The admin page's grants: who has which role in each knowledge base, a new grant for a
user or a group, and taking one away — through `Access`, as `zhiku grants …` does."""

from __future__ import annotations

import streamlit as st

from app.auth import ALL, Grant
from app.ui import permissions, resources
from app.ui.admin_shared import apply, knowledge_base_name, role_name
from app.ui.i18n import N_, _

GRANTABLE = ("viewer", "editor")  # an admin account reaches every knowledge base already
KINDS = {"user": N_("A user"), "group": N_("A group")}


def render() -> None:
    grants = permissions.access().list_grants()
    if grants:
        st.dataframe([_row(grant) for grant in grants], hide_index=True, width="stretch")
    else:
        st.caption(_("No grants yet: only admins reach the knowledge bases."))
    add_section()
    if grants:
        remove_section(grants)


def _row(grant: Grant) -> dict:
    return {
        _("Knowledge base"): knowledge_base_name(grant.knowledge_base),
        _("Who"): grant.subject,
        _("Role"): role_name(grant.role),
    }


def _label(grant: Grant) -> str:
    base = knowledge_base_name(grant.knowledge_base)
    return f"{base} · {grant.subject} · {role_name(grant.role)}"


def add_section() -> None:
    st.subheader(_("Grant access"))
    names = [*resources.knowledge().names(), ALL]
    base = st.selectbox(
        _("Knowledge base"), names, format_func=knowledge_base_name, key="admin_grant_kb"
    )
    kind = st.radio(
        _("To"), list(KINDS), format_func=lambda k: _(KINDS[k]), horizontal=True,
        key="admin_grant_kind",
    )  # fmt: skip
    if kind == "user":
        users = [user.name for user in permissions.access().list_users()]
        name = st.selectbox(_("User"), users, index=None, key="admin_grant_user")
    else:
        name = st.text_input(_("Group"), max_chars=64, key="admin_grant_group").strip()
    role = st.selectbox(_("Role"), GRANTABLE, format_func=role_name, key="admin_grant_role")
    ready = bool(base and name and role)
    clicked = st.button(_("Grant"), key="admin_grant", type="primary", disabled=not ready)
    if clicked and base and name and role:
        subject = f"{kind}:{name}"
        apply(
            lambda: permissions.access().grant(subject, base, role, by=permissions.actor()),
            _("{who} is {role} in {base}.", who=subject, role=role_name(role),
              base=knowledge_base_name(base)),
        )  # fmt: skip


def remove_section(grants: list[Grant]) -> None:
    st.subheader(_("Take access away"))
    grant = st.selectbox(
        _("Grant"), grants, index=None, format_func=_label, key="admin_revoke_grant",
        placeholder=_("Choose a grant to remove"),
    )  # fmt: skip
    if grant is not None and st.button(_("Remove this grant"), key="admin_remove_grant"):
        apply(
            lambda: permissions.access().revoke_grant(
                grant.subject, grant.knowledge_base, by=permissions.actor()
            ),
            _("{who} no longer has a grant in {base}.", who=grant.subject,
              base=knowledge_base_name(grant.knowledge_base)),
        )  # fmt: skip
