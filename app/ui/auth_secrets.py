"""Streamlit's `[auth]` secrets for `ZHIKU_AUTH=oidc`, written by `zhiku chat` before
Streamlit starts: Streamlit reads `st.login`'s provider, client and cookie secret only
from a secrets file. Imports nothing of Streamlit (the CLI calls it)."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from app.settings import Settings


def write_auth_secrets(settings: Settings) -> Path:
    """Streamlit's `[auth]` section for `ZHIKU_AUTH=oidc`, in a file only this user can
    read (the client secret stays out of the command line `ps` shows). Rewritten at each
    start, in the data dir, as Streamlit re-reads it while it runs."""
    access = settings.access
    folder = settings.storage.data_dir
    folder.mkdir(parents=True, exist_ok=True)
    values = {
        "redirect_uri": access.oidc_redirect_uri,
        "cookie_secret": _cookie_secret(settings),
        "client_id": access.oidc_client_id,
        "client_secret": access.oidc_client_secret.get_secret_value(),
        "server_metadata_url": access.oidc_metadata_url,
        "expose_tokens": "id",  # zhiku checks the ID token itself (app/auth/oidc.py)
    }
    # a JSON string is a valid TOML basic string (quotes, backslashes, control escapes)
    lines = ["[auth]", *(f"{key} = {json.dumps(value)}" for key, value in values.items())]
    return _write_private(folder / "chat-auth-secrets.toml", "\n".join(lines) + "\n")


def _cookie_secret(settings: Settings) -> str:
    """`ZHIKU_OIDC_COOKIE_SECRET`, else a random one made once per data dir (several
    chats on one data dir must sign cookies alike)."""
    given = settings.access.oidc_cookie_secret.get_secret_value()
    if given:
        return given
    kept = settings.storage.data_dir / "chat-cookie-secret"
    try:  # created with 0600 by the first start only (O_EXCL), then read by every later one
        descriptor = os.open(kept, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return kept.read_text(encoding="utf-8").strip()
    made = secrets.token_urlsafe(48)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(made)
    return made


def _write_private(path: Path, text: str) -> Path:
    """Write `text` to `path` with mode 0600 from the first byte (no window where another
    user could read it), replacing any earlier file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(text)
    os.replace(temporary, path)
    return path
