"""Secrets of app/auth: API-key tokens and password hashes, and nothing else touches them.

A key is `zk_<prefix>_<secret>`: the prefix (8 random characters) is what lists show, the
secret 32 random bytes. The two are drawn separately, so a displayed prefix says nothing
about the secret (RAGFlow's CVE-2025-69286 derived keys from a visible token). The
database keeps only SHA-256 of the whole token: with 256 bits of randomness there is
nothing to brute-force, so a slow hash would only cost every request its time (argon2
takes tens of milliseconds); passwords, chosen by people, get argon2id (pwdlib).
"""

from __future__ import annotations

import hashlib
import re
import secrets

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.errors import UserError

TOKEN = re.compile(r"zk_([A-Za-z0-9]{8})_([A-Za-z0-9_-]{43})")
_PREFIX_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
_passwords = PasswordHash((Argon2Hasher(),))
# verified when a name is unknown, so a missing account takes as long as a wrong password
_DUMMY = _passwords.hash("zhiku-no-such-user")
MIN_PASSWORD_CHARS = 10


class WeakPassword(UserError, ValueError):
    """A password too short to set (one line)."""


def new_token() -> tuple[str, str]:
    """A fresh key: (its display prefix, the whole token)."""
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(8))
    return prefix, f"zk_{prefix}_{secrets.token_urlsafe(32)}"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_prefix(token: str) -> str | None:
    """The prefix of a well-formed token (None for anything else)."""
    match = TOKEN.fullmatch(token)
    return match.group(1) if match else None


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise WeakPassword(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
    return _passwords.hash(password)


def password_matches(password: str, stored: str | None) -> bool:
    """argon2 verification; with no stored hash the dummy is verified (same time)."""
    if stored is None:
        _passwords.verify(password, _DUMMY)
        return False
    return _passwords.verify(password, stored)
