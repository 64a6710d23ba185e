"""Why a file was not indexed, and why conversations could not be saved, in the visitor's
language: ingest and the conversation store give each reason a stable code (with its
numbers as `params`) beside their English line, and this table says it again for a page.

One message per code; `tests/unit/test_ui_reasons.py` checks that every code ingest and
the conversation store can give has one, in both languages, with the params it uses.
"""

from __future__ import annotations

from app.ui.i18n import N_, _

FILE_REASONS = {
    "empty": N_("the file is empty. Choose a file with content."),
    "too_large": N_("{size} MB is over the limit of {limit} MB per file. Split the file."),
    "unsupported_type": N_(
        "files of type {suffix} cannot be read. Save it as PDF, Word, text or a spreadsheet."
    ),
    "binary": N_("binary data, not text. Save it as text (UTF-8) and upload it again."),
    "encoding": N_("the text's encoding is not UTF-8, GBK or another known one. Save it as UTF-8."),
    "corrupt": N_("the {format} file is damaged or incomplete. Save it again and upload it."),
    "encrypted": N_("the PDF needs a password. Save a copy without one."),
    "too_many_pages": N_("{pages} pages, over the limit of {limit}. Split the document."),
    "too_many_chunks": N_(
        "it would make {chunks} chunks, over the limit of {limit}. Split the document."
    ),
    "unpacks_too_large": N_(
        "it unpacks to {mb} MB, over the limit of {limit} MB. Remove large pictures or split it."
    ),
    "image_too_large": N_(
        "the picture is larger than {limit} megapixels. Scale it down and upload it again."
    ),
    "not_image": N_("not a picture that can be read. Save it as PNG or JPEG."),
    "unreadable": N_("the file cannot be read (missing, or no permission)."),
    "parse_failed": N_("the file could not be read. Save it again, or as another type."),
    "no_text": N_(
        "no text found (blank, or a scan without a readable page). Check the file's content."
    ),
    "url_refused": N_("this address may not be fetched (not http or https, or a private address)."),
    "url_private": N_(
        "refused: {host} resolves to a {address}; it is fetched only if ZHIKU_URL_ALLOWLIST "
        "lists it."
    ),
    "url_unreachable": N_("the page could not be fetched. Check the address, then retry."),
    "not_web_page": N_("not a web page. Download the file and upload it instead."),
    "no_main_text": N_("no main text found on the page."),
    "url_too_large": N_("the page is over the limit of {limit} MB."),
    "url_too_slow": N_("the page took too long to load. Retry later."),
    "fixes_dropped": N_(
        "the file changed: {count} hand-made chunk fixes were undone (see the change log)."
    ),
}

CONVERSATION_REASONS = {
    "locked": N_("Conversations cannot be saved right now: another process holds the database."),
    "read_only": N_("Conversations cannot be saved: their database is read-only."),
    "corrupt": N_("Conversations cannot be saved: their database file is damaged."),
    "unavailable": N_("Conversations cannot be saved: their database cannot be opened."),
    "missing": N_("This conversation no longer exists; a new one is started."),
    "no_answer": N_("That answer no longer exists; its rating was not saved."),
}

STATES = {
    "indexed": N_("indexed"),
    "indexing": N_("indexing…"),
    "skipped": N_("skipped"),
    "failed": N_("failed"),
}


def file_reason(code: str, params: dict[str, object], english: str) -> str:
    """The reason a file was skipped or failed; one without a known code stays in
    English under a translated heading (better than no reason)."""
    msgid = FILE_REASONS.get(code)
    if msgid is None:
        return _("could not be indexed: {detail}", detail=english)
    try:
        return _(msgid, **params)
    except (KeyError, IndexError):  # params of an older version of the code
        return _("could not be indexed: {detail}", detail=english)


def conversation_reason(code: str) -> str:
    return _(CONVERSATION_REASONS.get(code, CONVERSATION_REASONS["unavailable"]))


def state_label(state: str) -> str:
    return _(STATES[state]) if state in STATES else state
