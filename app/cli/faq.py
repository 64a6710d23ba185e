"""`zhiku faq add|list|import|delete --kb NAME`: a knowledge base's curated answers."""

from __future__ import annotations

import getpass
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from app.cli.errors import user_errors

faq_app = typer.Typer(help="Curated answers (FAQ entries) of a knowledge base.")
out = Console(highlight=False)

KB = Annotated[str, typer.Option("--kb", help="Knowledge base name.")]


def _service():
    from app.knowledge.faq import FaqService
    from app.settings import get_settings

    return FaqService(get_settings())


def _author(author: str) -> str:
    if author:
        return author
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a container: still an author
        return "cli"


@faq_app.command("add")
def add(
    kb: KB,
    question: Annotated[str, typer.Option("--question", "-q", help="The question.")],
    answer: Annotated[str, typer.Option("--answer", "-a", help="The answer, shown verbatim.")],
    phrasing: Annotated[
        list[str] | None, typer.Option("--phrasing", "-p", help="Another way to ask (repeat).")
    ] = None,
    source: Annotated[str, typer.Option("--source", help="Where the answer comes from.")] = "",
    author: Annotated[str, typer.Option("--author", help="Default: your user name.")] = "",
) -> None:
    """Add an entry: the question (and its phrasings) get this answer verbatim."""
    from app.knowledge.faq import FaqDraft

    with user_errors():
        draft = FaqDraft(question, answer, tuple(phrasing or ()), source)
        entry = _service().add(kb, draft, _author(author))
    out.print(f"added FAQ entry {entry.id} to {escape(kb)}: {escape(entry.question)}")


@faq_app.command("list")
def list_entries(
    kb: KB,
    query: Annotated[str, typer.Option("--query", help="Only entries containing this.")] = "",
) -> None:
    """The entries, newest first: id, question, author, last change."""
    with user_errors():
        entries = _service().list(kb, query)
    for entry in entries:
        when = datetime.fromtimestamp(entry.updated_at).strftime("%Y-%m-%d %H:%M")
        extra = f" (+{len(entry.phrasings)} phrasings)" if entry.phrasings else ""
        out.print(f"{entry.id}\t{escape(entry.question)}{extra}\t{escape(entry.author)}\t{when}")
    out.print(f"{len(entries)} FAQ entries in {escape(kb)}")


@faq_app.command("import")
def import_file(
    kb: KB,
    path: Annotated[Path, typer.Argument(help="A .csv or .xlsx file: 问题,答案[,相似问题,来源].")],
    author: Annotated[str, typer.Option("--author", help="Default: your user name.")] = "",
) -> None:
    """Add every good row of a spreadsheet; each bad row is one line on stderr."""
    err = Console(stderr=True, highlight=False)
    with user_errors():
        if not path.is_file():
            from app.knowledge.faq import FaqError

            raise FaqError(f"{path}: no such file")
        report = _service().import_file(kb, path.name, path.read_bytes(), _author(author))
    for line in report.errors:
        err.print(escape(line), soft_wrap=True)
    out.print(
        f"{report.added} FAQ entries added to {escape(kb)}, {len(report.errors)} rows left out "
        f"({report.seconds:.1f} s)"
    )


@faq_app.command("delete")
def delete(
    kb: KB,
    entry_id: Annotated[int, typer.Argument(help="The entry's id (zhiku faq list).")],
) -> None:
    """Delete one entry."""
    with user_errors():
        _service().delete(kb, entry_id)
    out.print(f"deleted FAQ entry {entry_id} from {escape(kb)}")
