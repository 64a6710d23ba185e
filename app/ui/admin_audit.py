"""The admin page's audit trail: the newest events, narrowed to one action or to actors
whose name contains some text, and the whole trail as CSV — the file
`zhiku audit export --csv` writes (`AuditLog.export_csv`, made when the button is
clicked, not at every redraw)."""

from __future__ import annotations

import streamlit as st

from app.auth import AuditEvent
from app.ui import permissions
from app.ui.admin_shared import when
from app.ui.i18n import _

SHOWN = 500  # the newest events drawn; the CSV holds them all


def render() -> None:
    trail = permissions.access().audit
    action_column, who_column = st.columns(2)
    action = action_column.selectbox(
        _("Action"), ["", *trail.actions()], key="admin_audit_action",
        format_func=lambda a: a or _("every action"),
    )  # fmt: skip
    actor = who_column.text_input(_("Who (part of the name)"), key="admin_audit_who").strip()
    events = trail.events(limit=SHOWN, action=action or None, actor=actor or None)
    st.caption(_("The newest {count} events, newest first.", count=len(events)))
    rows = [_row(event) for event in reversed(events)]
    st.dataframe(rows, hide_index=True, width="stretch")  # a grid: text is never HTML
    st.download_button(
        _("Download the whole trail (CSV)"), data=trail.export_csv, file_name="zhiku-audit.csv",
        mime="text/csv", on_click="ignore", key="admin_audit_csv",
    )  # fmt: skip


def _row(event: AuditEvent) -> dict:
    return {
        _("When"): when(event.at, seconds=True),
        _("Who"): event.actor,
        _("Action"): event.action,
        _("Target"): event.target,
        _("From"): event.client,
        _("Outcome"): event.outcome,
        _("Detail"): event.detail,
    }
