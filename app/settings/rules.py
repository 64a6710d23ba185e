"""Rules a setting's value must follow, shared by the sections and by every place a
knowledge-base name comes in (CLI, chat, API)."""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path

from app.errors import UserError
from app.loopback import is_loopback

REPO_ROOT = Path(__file__).resolve().parent.parent.parent

# A knowledge-base name becomes a Chroma collection (app/store/chroma.py: Chinese names
# spelled in punycode), a folder under uploads/, bm25/ and a roots/ file name: 63 characters
# (189 bytes of UTF-8 at most) fit every file-system path component (255 bytes).
MAX_NAME_CHARS = 63
_NAME = r"[A-Za-z0-9\u3400-\u4dbf\u4e00-\u9fff]"


class SettingsError(UserError, ValueError):
    """A setting has a value zhiku cannot use; the message names the setting."""


def validate_collection_name(name: str) -> str:
    """The one rule for knowledge-base names, checked wherever a name comes in (settings,
    CLI, chat, API): letters, digits, Chinese characters, '.', '_' and '-', starting and
    ending with a letter, digit or character, no '..', at most 63 characters."""
    problem = _name_problem(name)
    if problem:
        shown = name if len(name) <= 80 else name[:80] + "…"
        raise SettingsError(f"knowledge base name {shown!r} is invalid: {problem}")
    return name


def _name_problem(name: str) -> str | None:
    if len(name) > MAX_NAME_CHARS:
        return f"longer than {MAX_NAME_CHARS} characters"
    if not re.fullmatch(rf"{_NAME}(?:[{_NAME[1:-1]}._-]*{_NAME})?", name):
        return (
            "use letters, digits, Chinese characters, '.', '_' or '-', starting and "
            "ending with a letter, digit or character"
        )
    if ".." in name:
        return "'..' is not allowed"
    if name.isascii() and len(name) < 3:
        return "a name in Latin letters needs at least 3 characters"
    if name.lower().startswith("xn--"):
        return "'xn--' is reserved"
    if name.isascii() and _is_ip_address(name):
        return "an IP address is not a name"
    return None


def _is_ip_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def checked_url(url: str) -> str:
    """An endpoint setting: http(s) only, without a trailing slash."""
    if url and not url.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return url.rstrip("/")


def parse_list(value: object) -> object:
    """A list setting from the environment: a JSON list, a comma-separated list, or one
    value (`ZHIKU_API_KEYS=sk-abc`); empty means none."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise ValueError("is not a valid JSON list") from None
    return [part.strip() for part in text.split(",") if part.strip()]


def checked_provider_url(url: str) -> str:
    """An identity provider's URL: https, or http only on a loopback host (a test provider
    on this machine); anything else would send sign-ins and secrets in clear text."""
    from urllib.parse import urlsplit

    if not url:
        return url
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname and is_loopback(parts.hostname):
        return url
    raise ValueError("must be an https:// URL (http:// only on 127.0.0.1, ::1 or localhost)")


def parse_mapping(value: object) -> object:
    """A mapping setting from the environment: a JSON object or `key=value,key=value`;
    empty means none."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise ValueError(
                'is not a valid JSON object (e.g. {"zhiku-admins": "admin"})'
            ) from None
    pairs = [part.strip() for part in text.split(",") if part.strip()]
    if any("=" not in pair for pair in pairs):
        raise ValueError("use group=role,group=role or a JSON object")
    return {k.strip(): v.strip() for k, v in (pair.split("=", 1) for pair in pairs)}
