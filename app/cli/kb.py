"""`zhiku kb list|create|describe|rename|delete`: knowledge bases from a terminal, through
the service the Knowledge bases page and the API call (`app.knowledge.service`), so a
rename or delete moves or removes the same things (chunks, records, BM25, uploads, FAQ,
fixes, description, grants and keys) and is finished by the next run after a crash.

Changes are signed as the local operator (`app.cli.operator`) and audited when accounts
are on, with the actions the page and the API record. A delete asks for the name to be
typed, as the page does; `--yes` skips that for scripts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from app.cli import operator
from app.cli.errors import user_errors
from app.errors import UserError

if TYPE_CHECKING:
    from app.knowledge.service import KnowledgeBases

kb_app = typer.Typer(help="Create, list, rename and delete knowledge bases.", no_args_is_help=True)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

NAME = Annotated[str, typer.Argument(help="Knowledge base name.")]


def _knowledge() -> KnowledgeBases:
    from app.knowledge.service import KnowledgeBases
    from app.settings import get_settings

    return KnowledgeBases(get_settings())


def _audit(action: str, target: str, detail: str = "") -> None:
    from app.settings import get_settings

    operator.audit(get_settings(), action, target, detail)


@kb_app.command("list")
def list_bases() -> None:
    """Every knowledge base: chunks, documents, description."""
    with user_errors():
        knowledge = _knowledge()
        table = Table("name", "chunks", "documents", "description")
        for info in knowledge.list_all():
            documents = len(knowledge.documents(info.name))
            description = knowledge.description(info.name)
            table.add_row(escape(info.name), str(info.chunks), str(documents), escape(description))
    out.print(table)


@kb_app.command("create")
def create(
    name: NAME,
    description: Annotated[
        str, typer.Option("--description", "-d", help="What it holds, in a sentence.")
    ] = "",
) -> None:
    """Make an empty knowledge base (an existing one is kept as it is)."""
    with user_errors():
        knowledge = _knowledge()
        made = knowledge.create(name)
        if description:
            knowledge.describe(made.name, description)
    _audit("kb.create", made.name)
    err.print(f"knowledge base {escape(made.name)}: {made.chunks} chunks")


@kb_app.command("describe")
def describe(
    name: NAME, text: Annotated[str, typer.Argument(help="The description; empty removes it.")]
) -> None:
    """Say what a knowledge base holds: the chat shows it on the start screen."""
    with user_errors():
        _knowledge().describe(name, text)
    _audit("kb.describe", name, text[:300])
    err.print(f"described {escape(name)}")


@kb_app.command("rename")
def rename(name: NAME, new: Annotated[str, typer.Argument(help="The new name.")]) -> None:
    """Give a knowledge base another name, with everything kept under it."""
    with user_errors():
        renamed = _knowledge().rename(name, new)
    _audit("kb.rename", name, renamed.name)
    err.print(f"renamed {escape(name)} to {escape(renamed.name)}")


@kb_app.command("delete")
def delete(
    name: NAME,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask to type the name.")] = False,
) -> None:
    """Remove a knowledge base: its documents, uploaded files, FAQ entries and grants.
    Folders it was ingested from are left alone; conversations stay readable."""
    with user_errors():
        knowledge = _knowledge()
        if name not in knowledge.names():
            raise UserError(f"no knowledge base named {name!r}")
        if not yes and typer.prompt(f"Type {name} to delete it") != name:
            raise UserError("the name typed was not the knowledge base's: nothing deleted")
        knowledge.delete(name)
    _audit("kb.delete", name)
    err.print(f"deleted knowledge base {escape(name)}")
