"""The admin page (issue 24): users, grants, scoped API keys and the audit trail. Listed
in the navigation only for a signed-in admin (app/ui/main.py); checked again here, so
its address shows nothing to anyone else. Only the open tab runs (its reads, the key
secret shown once, the audit query)."""

import streamlit as st

from app.ui import admin_audit, admin_grants, admin_keys, admin_users, permissions
from app.ui.admin_shared import show_notice
from app.ui.i18n import _

if not permissions.is_admin():
    st.stop()
st.title(_("Admin"))
show_notice()
labels = [_("Users"), _("Grants"), _("API keys"), _("Audit trail")]
tabs = st.tabs(labels, key="admin_tab", on_change="rerun")
for tab, render in zip(
    tabs, (admin_users.render, admin_grants.render, admin_keys.render, admin_audit.render),
    strict=True,
):  # fmt: skip
    if tab.open:
        with tab:
            render()
