"""Who sent a request, from its `Authorization` header: the one check the HTTP API and
the MCP endpoint share.

Only `Bearer <token>` with one printable token is read; anything else (another scheme,
two tokens, control characters, an empty token) is refused, never passed through
(MaxKB's CVE-2026-44847 answered success to a malformed request). `ZHIKU_API_KEYS`
from the environment are full-access keys, compared in constant time; with accounts on
(`ZHIKU_AUTH=local|oidc`), any other token is looked up as a scoped key. No keys and no
accounts: every local caller has full access, as before accounts existed.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from app.auth.access import keys_required, open_access
from app.auth.types import FULL_ACCESS, Principal
from app.settings import Settings

API_OWNER = "api"  # who owns what a keyless caller makes
_BEARER = re.compile(r"Bearer ([\x21-\x7e]{1,512})", re.IGNORECASE)


def key_owner(key: str) -> str:
    """The owner name of what an environment key makes: a digest, never the key."""
    return f"{API_OWNER}:{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def bearer(header: str | None) -> str | None:
    """The token of a well-formed `Authorization: Bearer <token>` (None otherwise)."""
    match = _BEARER.fullmatch(header or "")
    return match.group(1) if match else None


class Callers:
    """Turns a request's Authorization header into a `Principal` (None: refused)."""

    def __init__(self, settings: Settings) -> None:
        self.required = keys_required(settings)
        self._env = [key.get_secret_value().encode() for key in settings.serving.api_keys]
        self._owners = [key_owner(key.decode()) for key in self._env]
        self.access = open_access(settings) if settings.access.auth != "none" else None

    def identify(self, header: str | None) -> Principal | None:
        if not self.required:
            return FULL_ACCESS
        token = bearer(header)
        if token is None:
            return None
        given = token.encode()
        # every key is compared, so the time taken does not tell which one nearly matched
        matched = [hmac.compare_digest(given, key) for key in self._env]
        if any(matched):
            owner = self._owners[matched.index(True)]
            return Principal(name=f"env-key:{owner[4:12]}", owner=owner, full_access=True)
        return self.access.authenticate(token) if self.access is not None else None
