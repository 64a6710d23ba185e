"""Which addresses a URL ingest may reach (issue 25, SSRF): pure checks, no network
except resolving literal addresses."""

from __future__ import annotations

import ipaddress

import pytest

from ingest.loaders import LoadError
from ingest.web import allowed, checked_target, refused_address


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.10", "private"),
        ("172.16.5.5", "private"),
        ("169.254.169.254", "link-local"),  # the cloud metadata service
        ("100.100.100.200", "non-public"),  # Alibaba Cloud's metadata service (CGNAT range)
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped IPv6
        ("fd00:ec2::254", "private"),  # AWS metadata over IPv6
    ],
)
def test_inner_addresses_are_refused(address: str, kind: str) -> None:
    reason = refused_address(ipaddress.ip_address(address))
    assert reason is not None and kind in reason


def test_public_addresses_pass() -> None:
    assert refused_address(ipaddress.ip_address("93.184.216.34")) is None
    assert refused_address(ipaddress.ip_address("2606:4700::1111")) is None


def test_the_allowlist_names_hosts_or_networks() -> None:
    ip = ipaddress.ip_address("10.0.3.7")
    assert allowed("Wiki.Intranet.", ip, ["wiki.intranet"])
    assert allowed("x", ip, ["10.0.0.0/8"])
    assert not allowed("x", ip, ["10.1.0.0/16", "wiki.intranet", "not a network"])


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "only http and https"),
        ("ftp://example.com/x", "only http and https"),
        ("http://127.0.0.1:8080/admin", "loopback address 127.0.0.1"),
        ("http://[::1]/", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://localhost/", "loopback"),
    ],
)
def test_urls_are_refused_in_one_line(url: str, reason: str) -> None:
    with pytest.raises(LoadError, match=reason) as info:
        checked_target(url, [])
    assert "\n" not in str(info.value)


def test_an_allowlisted_loopback_passes() -> None:
    host, ip, port = checked_target("http://127.0.0.1:8080/x", ["127.0.0.1"])
    assert (host, str(ip), port) == ("127.0.0.1", "127.0.0.1", 8080)
