"""Which names and origins are this machine: the one definition `zhiku serve` (Host and
Origin checks, listening without keys) and the web chat (DNS rebinding) both use."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_loopback(host: str | None) -> bool:
    """`localhost`, 127.0.0.0/8 or ::1 (brackets allowed)."""
    host = (host or "").strip("[]").lower().rstrip(".")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def loopback_host_header(value: str | None) -> bool:
    """A `Host` header naming a loopback address, with any port."""
    try:
        return is_loopback(urlsplit(f"//{value or ''}").hostname)
    except ValueError:  # a malformed port or bracket
        return False


def loopback_origin(value: str) -> bool:
    """An `Origin` of a page served from this machine (`null` is not: sandboxed pages)."""
    try:
        parts = urlsplit(value)
        return parts.scheme in ("http", "https") and is_loopback(parts.hostname)
    except ValueError:
        return False
