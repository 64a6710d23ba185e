"""Web pages by URL, fetched so that a URL cannot reach inside the network (SSRF).

A URL given to the indexer is attacker-chosen as far as the server is concerned: it
could name the cloud metadata service, an admin page on 127.0.0.1 or a host on the
intranet, directly or through a redirect or a DNS name that resolves there. So: http
and https only; the name is resolved here and every address checked; the connection
goes to the checked address (no second lookup an attacker's DNS could answer
differently); each redirect is checked again; size and time are bounded. Names and
networks in ZHIKU_URL_ALLOWLIST may be private (an intranet wiki).
"""

from __future__ import annotations

import fcntl
import ipaddress
import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

from ingest.documents import LoadedFile, LoadError, Section

MAX_REDIRECTS = 5
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def refused_address(ip: IPAddress) -> str | None:
    """Why an address may not be fetched, or None. Only globally routable unicast
    addresses pass: this refuses loopback, private, link-local (169.254.169.254, the
    metadata service), carrier-grade NAT (100.100.100.200, another metadata service),
    multicast, reserved and unspecified addresses, also inside IPv4-mapped IPv6."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind in ("loopback", "link_local", "multicast", "unspecified", "private", "reserved"):
        if getattr(ip, f"is_{kind}"):
            return f"{kind.replace('_', '-')} address {ip}"
    if not ip.is_global:
        return f"non-public address {ip}"
    return None


def allowed(host: str, ip: IPAddress, allowlist: list[str]) -> bool:
    """The allowlist names this host (exactly, any case) or a network holding this address."""
    host = host.lower().rstrip(".")
    for entry in allowlist:
        entry = entry.strip().lower()
        if entry == host:
            return True
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def checked_target(url: str, allowlist: list[str]) -> tuple[str, IPAddress, int]:
    """(host, the address to connect to, port) for a URL that may be fetched; else
    LoadError with the one-line reason."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise LoadError(f"malformed URL ({exc})", code="url_refused") from None
    if parts.scheme not in ("http", "https"):
        raise LoadError(
            f"refused: only http and https URLs, not {parts.scheme or 'none'!r}", code="url_refused"
        )
    host = parts.hostname or ""
    if not host:
        raise LoadError("refused: the URL names no host", code="url_refused")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise LoadError(f"cannot resolve {host} ({exc})", code="url_unreachable") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for ip in addresses:  # every address: a name must not mix public and private ones
        reason = refused_address(ip)
        if reason and not allowed(host, ip, allowlist):
            raise LoadError(
                f"refused: {host} resolves to a {reason} (ZHIKU_URL_ALLOWLIST)",
                code="url_private", host=host, address=reason,
            )  # fmt: skip
    addresses.sort(key=lambda ip: ip.version)  # IPv4 first: servers often bind only it
    return host, addresses[0], port


@dataclass
class Fetched:
    url: str  # after redirects
    content: bytes
    content_type: str


def fetch(url: str, *, allowlist: list[str], max_bytes: int, timeout: float) -> Fetched:
    """GET a URL under the rules above; redirects are followed by hand so each is checked."""
    import httpx

    deadline = time.monotonic() + timeout
    for _ in range(MAX_REDIRECTS + 1):
        host, ip, port = checked_target(url, allowlist)
        parts = urlsplit(url)
        address = f"[{ip}]" if ip.version == 6 else str(ip)
        pinned = urlunsplit(parts._replace(netloc=f"{address}:{port}"))
        default_port = port == (443 if parts.scheme == "https" else 80)
        headers = {"Host": host if default_port else f"{host}:{port}", "User-Agent": "zhiku"}
        remaining = max(deadline - time.monotonic(), 0.1)
        try:
            with (
                httpx.Client(timeout=remaining, trust_env=False) as client,
                client.stream(
                    "GET", pinned, headers=headers, extensions={"sni_hostname": host}
                ) as response,
            ):
                if response.is_redirect:
                    url = urljoin(url, response.headers.get("location", ""))
                    continue
                if response.status_code >= 400:
                    raise LoadError(
                        f"HTTP {response.status_code} from {host}", code="url_unreachable"
                    )
                content = _read_bounded(response, max_bytes, deadline)
                return Fetched(url, content, response.headers.get("content-type", ""))
        except httpx.HTTPError as exc:
            raise LoadError(
                f"cannot fetch {host} ({type(exc).__name__})", code="url_unreachable"
            ) from None
    raise LoadError(f"refused: more than {MAX_REDIRECTS} redirects", code="url_refused")


def _read_bounded(response, max_bytes: int, deadline: float) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise LoadError(
            f"refused: {int(declared) / 1e6:.1f} MB over ZHIKU_URL_MAX_MB",
            skipped=True,
            code="url_too_large",
            limit=f"{max_bytes / 1e6:g}",
        )
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise LoadError(
                f"refused: over {max_bytes / 1e6:g} MB (ZHIKU_URL_MAX_MB)",
                skipped=True,
                code="url_too_large",
                limit=f"{max_bytes / 1e6:g}",
            )
        if time.monotonic() > deadline:
            raise LoadError(
                "refused: slower than ZHIKU_URL_TIMEOUT_S", skipped=True, code="url_too_slow"
            )
        chunks.append(chunk)
    return b"".join(chunks)


def load_url(url: str, settings) -> LoadedFile:
    """A web page's main text (trafilatura drops menus, footers and ads), the URL as source."""
    import trafilatura

    page = fetch(
        url,
        allowlist=settings.knowledge.url_allowlist,
        max_bytes=int(settings.knowledge.url_max_mb * 1_000_000),
        timeout=settings.knowledge.url_timeout_s,
    )
    if "html" not in page.content_type and not page.content.lstrip()[:1] == b"<":
        raise LoadError(
            f"not a web page ({page.content_type or 'no content type'})",
            skipped=True,
            code="not_web_page",
        )
    # favor_precision: menus and link lists left in a chunk answer nothing
    text = trafilatura.extract(
        page.content, url=page.url, include_tables=True, favor_precision=True
    )
    text = text or ""
    if not text.strip():
        raise LoadError("no main text found on the page", skipped=True, code="no_main_text")
    meta = trafilatura.extract_metadata(page.content)
    title = (meta.title if meta and meta.title else "") or url
    return LoadedFile(title=title, sections=[Section(text, {"url": page.url})])


def _urls_file(settings, collection: str) -> Path:
    from ingest.roots import URLS, kb_file

    return kb_file(settings, collection, URLS)


def remembered_urls(settings, collection: str) -> list[str]:
    """The web pages ingested into `collection`, so a re-index fetches them again."""
    try:
        return json.loads(_urls_file(settings, collection).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return []


def remember_urls(settings, collection: str, urls: list[str]) -> None:
    """Add `urls` to the list (under the same file lock as ingest/roots.py's folders)."""
    target = _urls_file(settings, collection)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        known = remembered_urls(settings, collection)
        known += [url for url in dict.fromkeys(urls) if url not in known]
        partial = target.with_suffix(f".{os.getpid()}.part")
        partial.write_text(json.dumps(known, ensure_ascii=False), encoding="utf-8")
        partial.replace(target)
