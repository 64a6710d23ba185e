"""A document's chunks, fixed by hand (issue 28): pick a document, see its chunks in order,
edit one, disable, delete or restore it, and read the change log.

The revision a chunk had when this browser first showed it is kept in the session, and
each save names it: if someone saved the chunk since, the service refuses and says who,
and the text typed here stays in the box (nothing is lost silently). Chunk text is only
ever shown in text areas, grids and `st.text`, never as Markdown or HTML.
"""

from __future__ import annotations

import time

import streamlit as st

from app.errors import UserError
from app.knowledge.types import ChunkConflict, ChunkView
from app.ui import permissions, resources
from app.ui.i18n import _
from app.ui.safe_text import escape_markdown, show_error

PREVIEW_CHARS = 80


def state_names() -> dict[str, str]:
    return {
        "original": _("original"),
        "edited": _("edited"),
        "disabled": _("disabled"),
        "deleted": _("deleted"),
    }


def change_names() -> dict[str, str]:
    return {
        "edit": _("edit"),
        "disable": _("disable"),
        "enable": _("enable"),
        "delete": _("delete"),
        "restore": _("restore"),
        "dropped": _("dropped (see the note)"),
    }


def render(collection: str) -> None:
    knowledge = resources.knowledge()
    sources = knowledge.curated_documents(collection)
    st.subheader(_("Chunks of a document"))
    if notice := st.session_state.pop("chunk_notice", None):
        st.success(escape_markdown(notice))
    if not sources:
        st.caption(_("No documents yet."))
        return
    source = st.selectbox(_("Document"), sources, key="curate_doc")
    chunks = knowledge.chunks(collection, source, deleted=True)
    names = state_names()
    rows = [
        {
            _("Chunk"): n,
            _("State"): names[c.state],
            _("Revision"): c.revision,
            _("Text"): c.text[:PREVIEW_CHARS],
        }
        for n, c in enumerate(chunks, start=1)
    ]
    st.dataframe(rows, hide_index=True, width="stretch")  # a grid: text is never HTML
    if chunks:
        n = st.selectbox(_("Chunk to fix"), range(1, len(chunks) + 1), key=f"curate_pick_{source}")
        editor(collection, chunks[n - 1])
    change_log(collection, source)


def editor(collection: str, chunk: ChunkView) -> None:
    """The chunk's text in a box with its buttons; the revision it was opened at kept."""
    opened = f"chunk_rev_{chunk.chunk_id}"
    # a new key per reload: Streamlit keeps a text area's typed value under its key
    box = f"chunk_text_{chunk.chunk_id}_{st.session_state.get(f'chunk_gen_{chunk.chunk_id}', 0)}"
    st.session_state.setdefault(opened, chunk.revision)
    conflict = st.session_state.get("chunk_conflict")
    if conflict and conflict[0] == chunk.chunk_id:
        show_error(ChunkConflict(conflict[1]))
        if st.button(_("Reload the chunk (your text is dropped)"), key="chunk_reload"):
            forget(chunk)
            st.rerun()
    if chunk.state == "deleted":  # nothing to edit: it can only come back
        st.text(chunk.text)
        if st.button(_("Restore the file's text"), key="chunk_restore"):
            apply(
                collection,
                chunk,
                "restore",
                chunk.text,
                _("Restored: the chunk has the file's text again."),
            )
        return
    st.text_area(_("Text"), value=chunk.text, key=box, height=160)
    if chunk.state == "edited":
        with st.expander(_("The file's own text")):
            st.text(chunk.original_text)
    save, toggle, delete, restore = st.columns(4)
    actions = []
    if save.button(_("Save the edit"), key="chunk_save", type="primary"):
        actions.append(("edit", _("Saved: the new text is searchable now.")))
    if chunk.state == "disabled":
        if toggle.button(_("Enable"), key="chunk_enable"):
            actions.append(("enable", _("Enabled: the chunk is searchable again.")))
    elif toggle.button(_("Disable"), key="chunk_disable"):
        actions.append(("disable", _("Disabled: the chunk is kept but not retrieved.")))
    if delete.button(_("Delete"), key="chunk_delete"):
        actions.append(("delete", _("Deleted: the chunk is out of search and of this list.")))
    if chunk.state != "original" and restore.button(
        _("Restore the file's text"), key="chunk_restore"
    ):
        actions.append(("restore", _("Restored: the chunk has the file's text again.")))
    for action, done in actions:
        apply(collection, chunk, action, st.session_state[box], done)


def apply(collection: str, chunk: ChunkView, action: str, text: str, done: str) -> None:
    """Run one action at the revision the chunk was opened at; a conflict keeps the box."""
    knowledge = resources.knowledge()
    expected = st.session_state[f"chunk_rev_{chunk.chunk_id}"]
    who = permissions.who()
    try:
        if action == "edit":
            knowledge.edit_chunk(collection, chunk.chunk_id, text, expected, who)
        else:
            knowledge.set_chunk_state(collection, chunk.chunk_id, action, expected, who)
    except ChunkConflict as exc:  # the typed text stays in the box
        st.session_state["chunk_conflict"] = (chunk.chunk_id, str(exc))
        st.rerun()
    except UserError as exc:
        show_error(exc)
        return
    permissions.audit(f"chunk.{action}", collection, chunk.chunk_id)
    forget(chunk)
    st.session_state["chunk_notice"] = done
    st.rerun()


def forget(chunk: ChunkView) -> None:
    """The next run shows the chunk as it is now, at its new revision, in a fresh box."""
    for key in (f"chunk_rev_{chunk.chunk_id}", "chunk_conflict"):
        st.session_state.pop(key, None)
    generation = f"chunk_gen_{chunk.chunk_id}"
    st.session_state[generation] = st.session_state.get(generation, 0) + 1


def change_log(collection: str, source: str) -> None:
    st.subheader(_("Change log"))
    changes = resources.knowledge().chunk_changes(collection, source)
    if not changes:
        st.caption(_("No changes yet."))
        return
    kinds = change_names()
    rows = [
        {
            _("When"): time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(c.at)),
            _("Who"): c.who,
            _("Change"): kinds.get(c.kind, c.kind),
            _("Before"): c.before or "",
            _("After"): c.after or "",
            _("Note"): c.note,
        }
        for c in changes
    ]
    st.dataframe(rows, hide_index=True, width="stretch")
