"""The admin page's users: the accounts, a new one, and for a chosen account its role and
groups, disabling or enabling it, and a new password. Each change goes through `Access`
(as `zhiku users …` does), which refuses to disable or demote the last enabled admin."""

from __future__ import annotations

import streamlit as st

from app.auth import ROLES, User
from app.ui import permissions
from app.ui.admin_shared import apply, role_name, split_names, when
from app.ui.i18n import _
from app.ui.safe_text import escape_markdown


def render() -> None:
    users = permissions.access().list_users()
    st.dataframe([_row(user) for user in users], hide_index=True, width="stretch")
    add_section()
    names = [user.name for user in users]
    chosen = st.selectbox(_("Choose a user to change"), names, index=None, key="admin_user")
    if chosen:
        edit_section(next(user for user in users if user.name == chosen))


def _row(user: User) -> dict:
    return {
        _("User"): user.name,
        _("Role"): role_name(user.role),
        _("Groups"): ", ".join(user.groups),
        _("Disabled"): _("yes") if user.disabled else "",
        _("Created"): when(user.created_at),
    }


def _passwords_match(password: str, again: str) -> bool:
    if password != again:
        st.error(_("The two passwords differ."))
    return password == again


def add_section() -> None:
    with st.expander(_("Add a user")), st.form("admin_add_user", clear_on_submit=True):
        name = st.text_input(_("User name"), max_chars=64, key="admin_new_name")
        role = st.selectbox(_("Role"), ROLES, format_func=role_name, key="admin_new_role")
        groups = st.text_input(_("Groups (optional, comma-separated)"), key="admin_new_groups")
        password = st.text_input(_("Password"), type="password", key="admin_new_password")
        again = st.text_input(_("Password again"), type="password", key="admin_new_again")
        submitted = st.form_submit_button(_("Add user"), type="primary")
    if not submitted or not name.strip() or not role or not _passwords_match(password, again):
        return
    apply(
        lambda: permissions.access().add_user(
            name.strip(), password, role, split_names(groups), by=permissions.actor()
        ),
        _("User {name} added.", name=name.strip()),
    )


def edit_section(user: User) -> None:
    """Widget keys carry the name, so choosing another user shows that user's values."""
    access = permissions.access()
    with st.form(f"admin_edit_{user.name}"):
        role = st.selectbox(
            _("Role"), ROLES, index=ROLES.index(user.role), format_func=role_name,
            key=f"admin_role_{user.name}",
        )  # fmt: skip
        groups = st.text_input(
            _("Groups (optional, comma-separated)"), ", ".join(user.groups),
            key=f"admin_groups_{user.name}",
        )  # fmt: skip
        if st.form_submit_button(_("Save role and groups")):
            apply(
                lambda: access.update_user(
                    user.name, role, split_names(groups), by=permissions.actor()
                ),
                _("{name} changed.", name=user.name),
            )
    if user.disabled:
        label, done = _("Enable {name}", name=user.name), _("{name} enabled.", name=user.name)
    else:
        label, done = _("Disable {name}", name=user.name), _("{name} disabled.", name=user.name)
    if st.button(escape_markdown(label), key=f"admin_disable_{user.name}"):  # labels are Markdown
        apply(
            lambda: access.set_disabled(user.name, not user.disabled, by=permissions.actor()),
            done,
        )
    password_section(user)


def password_section(user: User) -> None:
    with st.form(f"admin_password_{user.name}", clear_on_submit=True):
        password = st.text_input(_("New password"), type="password", key="admin_set_password")
        again = st.text_input(_("Password again"), type="password", key="admin_set_again")
        submitted = st.form_submit_button(_("Set password"))
    if submitted and _passwords_match(password, again):
        apply(
            lambda: permissions.access().set_password(user.name, password, by=permissions.actor()),
            _("Password of {name} set.", name=user.name),
        )
