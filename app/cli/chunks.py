"""`zhiku chunks list|show|edit|disable|enable|delete|restore|changes`: a knowledge base's
chunks fixed from a terminal, through the service the Curate page and the API call.

A chunk is named by its number in `zhiku chunks list`, the number the Curate page shows
(file order, deleted chunks included, so deleting one renumbers nothing). Each change
names the revision the chunk was listed at (`--revision`; default: the one it has now):
if someone changed it since, the change is refused and says who, nothing is overwritten.
Changes are signed as the local operator, `cli:<user>` (`app.cli.operator`), and audited
when accounts are on. Chunk text is printed as text, never as rich markup.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from app.cli import operator
from app.cli.errors import user_errors
from app.errors import UserError

if TYPE_CHECKING:
    from app.knowledge.service import KnowledgeBases
    from app.knowledge.types import ChunkView

chunks_app = typer.Typer(help="Fix a knowledge base's chunks by hand.", no_args_is_help=True)
out = Console(highlight=False)
PREVIEW_CHARS = 60

KB = Annotated[str, typer.Argument(help="Knowledge base name.")]
SOURCE = Annotated[str, typer.Argument(help="The document, as `zhiku chunks list KB` names it.")]
NUMBER = Annotated[int, typer.Argument(min=1, help="The chunk's number in `zhiku chunks list`.")]
REVISION = Annotated[
    int | None,
    typer.Option("--revision", help="The revision you saw (refused if it changed since)."),
]


def _knowledge(kb: str) -> KnowledgeBases:
    """The service, for a knowledge base that exists (the service would create it)."""
    from app.knowledge.service import KnowledgeBases
    from app.settings import get_settings

    knowledge = KnowledgeBases(get_settings())
    if not knowledge.exists(kb):
        raise UserError(f"no knowledge base named {kb!r}")
    return knowledge


def _chunk(knowledge: KnowledgeBases, kb: str, source: str, number: int) -> ChunkView:
    chunks = knowledge.chunks(kb, source, deleted=True)
    if number > len(chunks):
        raise UserError(f"{source!r} has {len(chunks)} chunks; there is no number {number}")
    return chunks[number - 1]


def _preview(text: str) -> str:
    return " ".join(text.split())[:PREVIEW_CHARS]


def _when(stamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp)) if stamp else ""


@chunks_app.command("list")
def list_chunks(
    kb: KB, source: Annotated[str | None, typer.Argument(help="A document of it.")] = None
) -> None:
    """A document's chunks in order (number, state, revision, page, text); without a
    document, the documents whose chunks can be fixed."""
    with user_errors():
        knowledge = _knowledge(kb)
        if source is None:
            for name in knowledge.curated_documents(kb):
                out.print(Text(name))
            return
        chunks = knowledge.chunks(kb, source, deleted=True)
    table = Table("#", "state", "revision", "page", "text", "changed by")
    for number, chunk in enumerate(chunks, start=1):
        table.add_row(str(number), chunk.state, str(chunk.revision), str(chunk.page or ""),
                      Text(_preview(chunk.text)), Text(chunk.changed_by or ""))  # fmt: skip
    out.print(table)


@chunks_app.command("show")
def show(kb: KB, source: SOURCE, number: NUMBER) -> None:
    """One chunk's whole text on stdout (to edit in a file, then `edit --file`)."""
    with user_errors():
        chunk = _chunk(_knowledge(kb), kb, source, number)
    typer.echo(chunk.text)


@chunks_app.command("edit")
def edit(
    kb: KB,
    source: SOURCE,
    number: NUMBER,
    text: Annotated[str | None, typer.Option("--text", help="The chunk's new text.")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="The new text, from a file.")] = None,
    revision: REVISION = None,
) -> None:
    """Replace a chunk's text: re-embedded and searchable when this returns."""
    with user_errors():
        if (text is None) == (file is None):
            raise UserError("give the new text with one of --text or --file")
        if file is not None:
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise UserError(f"{file}: cannot read it as UTF-8 text ({exc})") from None
        knowledge = _knowledge(kb)
        chunk = _chunk(knowledge, kb, source, number)
        expected = chunk.revision if revision is None else revision
        saved = knowledge.edit_chunk(kb, chunk.chunk_id, text or "", expected, operator.actor())
        operator.audit(knowledge.settings, "chunk.edit", f"{kb}/{chunk.chunk_id}")
    out.print(f"chunk {number} of {escape(source)} saved: revision {saved.revision}, {saved.state}")


def _change(action: str, kb: str, source: str, number: int, revision: int | None) -> None:
    with user_errors():
        knowledge = _knowledge(kb)
        chunk = _chunk(knowledge, kb, source, number)
        expected = chunk.revision if revision is None else revision
        who = operator.actor()
        saved = knowledge.set_chunk_state(kb, chunk.chunk_id, action, expected, who)
        operator.audit(knowledge.settings, f"chunk.{action}", f"{kb}/{chunk.chunk_id}")
    out.print(f"chunk {number} of {escape(source)}: {action} done (now {saved.state})")


@chunks_app.command("disable")
def disable(kb: KB, source: SOURCE, number: NUMBER, revision: REVISION = None) -> None:
    """Keep a chunk (listed, restorable) but out of every search."""
    _change("disable", kb, source, number, revision)


@chunks_app.command("enable")
def enable(kb: KB, source: SOURCE, number: NUMBER, revision: REVISION = None) -> None:
    """Make a disabled chunk searchable again (with its edited text, if any)."""
    _change("enable", kb, source, number, revision)


@chunks_app.command("delete")
def delete(kb: KB, source: SOURCE, number: NUMBER, revision: REVISION = None) -> None:
    """Take a chunk out of search for good (a re-index of the unchanged file keeps it out)."""
    _change("delete", kb, source, number, revision)


@chunks_app.command("restore")
def restore(kb: KB, source: SOURCE, number: NUMBER, revision: REVISION = None) -> None:
    """Give a chunk the file's own text back, searchable (undoes an edit or a delete)."""
    _change("restore", kb, source, number, revision)


@chunks_app.command("changes")
def changes(
    kb: KB,
    source: Annotated[str | None, typer.Option("--source", help="Only this document.")] = None,
) -> None:
    """Who changed which chunk when, newest first, with the text before and after."""
    with user_errors():
        log = _knowledge(kb).chunk_changes(kb, source)
    table = Table("when", "who", "change", "document", "before", "after", "note")
    for row in log:
        before, after = (_preview(t or "") for t in (row.before, row.after))
        table.add_row(_when(row.at), Text(row.who), row.kind, Text(row.source), Text(before),
                      Text(after), Text(row.note))  # fmt: skip
    out.print(table)
    out.print(f"{len(log)} changes")
