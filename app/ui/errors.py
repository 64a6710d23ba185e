"""Errors a web visitor meets, in the visitor's language, each with a next step.

The layers below the UI (ingest, settings, answering) raise `UserError`s in English: the
CLI, the API and the logs speak English, and those layers know nothing of a visitor's
language. Rather than give every error class a message id (a change in a dozen modules
other surfaces share), the web chat translates the errors it knows here, by class and by
the fields of their one-line message: one table, next to the catalogue it feeds.
`tests/unit/test_ui_errors.py` raises each of them for real from its own layer, so a
changed message fails there instead of silently showing English. An error not in the
table is shown as its English text under a translated heading. Errors that carry a
stable reason code (the conversation store's, an upload refused by one of ingest's
limits) are said from the code instead (app/ui/reasons.py): no wording parsed back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.answering.admission import QueueFull
from app.auth import AccessError
from app.auth.tokens import WeakPassword
from app.conversations.store import ConversationStoreError
from app.knowledge.types import IngestBusyError, KnowledgeBaseExists, UploadError
from app.settings.rules import SettingsError
from app.ui.i18n import N_, _
from app.ui.reasons import FILE_REASONS, conversation_reason, file_reason


@dataclass(frozen=True)
class Known:
    kind: type[Exception]
    pattern: re.Pattern[str]
    msgid: str


def _known(kind: type[Exception], pattern: str, msgid: str) -> Known:
    return Known(kind, re.compile(pattern, re.DOTALL), msgid)


UNSUPPORTED = N_(
    "{file}: files of type {suffix} cannot be read. Save it as one of these types"
    " and upload it again: {allowed}"
)
KNOWN = [
    _known(
        UploadError,
        r"(?P<file>.+): type (?P<suffix>\S+) is not supported; use (?P<allowed>.+)",
        UNSUPPORTED,
    ),
    _known(
        UploadError,
        r"(?P<file>.+): (?P<size>[\d.]+) MB is over the (?P<limit>[\d.]+) MB limit.*",
        N_(
            "{file}: {size} MB is over the limit of {limit} MB per file. Split the file,"
            " or ask the operator to raise ZHIKU_MAX_FILE_MB."
        ),
    ),
    _known(
        UploadError,
        r"(?P<file>.+): the file is empty",
        N_("{file}: the file is empty. Choose a file with content."),
    ),
    _known(
        UploadError,
        r"(?P<file>.+): another file of this upload has the same name; rename one",
        N_("{file}: another file of this upload has the same name. Rename one of them."),
    ),
    _known(
        UploadError,
        r"file name (?P<file>.+) has nothing usable left; rename the file",
        N_("The file name {file} cannot be used. Rename the file and upload it again."),
    ),
    _known(
        SettingsError,
        r"knowledge base name (?P<name>.+) is invalid: (?P<problem>.+)",
        N_("The name {name} cannot be used: {problem}"),
    ),
    _known(
        KnowledgeBaseExists,
        r"knowledge base (?P<name>.+) exists already; choose another name",
        N_("A knowledge base named {name} exists already. Choose another name."),
    ),
    _known(
        IngestBusyError,
        r".*",
        N_(
            "Another import into this knowledge base is running. Wait until it has"
            " finished, then try again."
        ),
    ),
    _known(  # the admin page (app/auth)
        AccessError,
        r"user ['\"](?P<name>.+)['\"] exists already",
        N_("A user named {name} exists already: choose another name."),
    ),
    _known(
        AccessError,
        r"(?P<kind>user|group) name ['\"](?P<name>.*)['\"]: use up to 64 letters, digits, "
        r"\. _ @ -",
        N_("The name {name} cannot be used: use up to 64 letters, digits, '.', '_', '@' or '-'."),
    ),
    _known(
        AccessError,
        r"(?P<name>.+) is the last enabled admin; make another admin first",
        N_("{name} is the last enabled admin: make another user an admin first."),
    ),
    _known(
        WeakPassword,
        r"a password needs at least (?P<least>\d+) characters",
        N_("A password needs at least {least} characters."),
    ),
    _known(
        QueueFull,
        r"(?P<waiting>\d+) requests are waiting for the model; retry in (?P<retry>\d+) s",
        N_("The model is busy: {waiting} questions are waiting. Ask again in {retry} s."),
    ),
]

NAME_PROBLEMS = {
    r"longer than (?P<max>\d+) characters": N_("use at most {max} characters."),
    r"use letters, digits, Chinese characters.*": N_(
        "use Chinese characters, letters, digits, '.', '_' or '-', starting and ending"
        " with a character, letter or digit."
    ),
    r"'\.\.' is not allowed": N_("'..' is not allowed."),
    r"a name in Latin letters needs at least 3 characters": N_(
        "a name in Latin letters needs at least 3 characters."
    ),
    r"'xn--' is reserved": N_("names starting with 'xn--' are reserved."),
    r"an IP address is not a name": N_("an IP address cannot be a name."),
}


def message(exc: Exception) -> str:
    """The error's text for a visitor: translated when known, else its English text."""
    text = str(exc)
    if isinstance(exc, ConversationStoreError):
        return conversation_reason(exc.code)
    code, params = getattr(exc, "code", ""), getattr(exc, "params", {})
    if isinstance(exc, UploadError) and code in FILE_REASONS and "file" in params:
        return _("{file}: {reason}", file=params["file"], reason=file_reason(code, params, text))
    for known in KNOWN:
        if not isinstance(exc, known.kind):
            continue
        found = known.pattern.fullmatch(text)
        if found:
            fields = found.groupdict()
            if "problem" in fields:
                fields["problem"] = _problem(fields["problem"])
            return _(known.msgid, **fields)
    return _("Something went wrong: {detail}", detail=text)


def _problem(problem: str) -> str:
    for pattern, msgid in NAME_PROBLEMS.items():
        found = re.fullmatch(pattern, problem)
        if found:
            return _(msgid, **found.groupdict())
    return problem
