"""Turn the errors a user can cause into one line and exit code 1, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.markup import escape

from app.errors import UserError

_stderr = Console(stderr=True)


@contextmanager
def user_errors() -> Iterator[None]:
    """Print a known error as one line on stderr and exit 1."""
    try:
        yield
    except UserError as exc:
        _stderr.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(1) from None
