"""Issue 22, item 3 for the web chat: a DNS-rebinding name cannot open the chat's session.

A page on `rebind.evil.example` (resolving to 127.0.0.1) is same-origin for Streamlit's
XSRF and Origin checks, so before the fix its websocket was accepted and the page could
ask questions and upload files. `zhiku chat` on loopback now allows only loopback Host
names (Streamlit's `server.allowedHosts`)."""

from __future__ import annotations

import socket
import subprocess
from contextlib import suppress

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.helpers import start_chat


def _open(port: int, host: str) -> bool:
    """Whether the chat keeps a websocket open for a browser that calls it `host`."""
    sock = socket.create_connection(("127.0.0.1", port))
    origin = f"http://{host}:{port}"  # what a browser on that page sends: same-origin
    try:
        with connect(f"ws://{host}:{port}/_stcore/stream", sock=sock, origin=origin,
                     subprotocols=["streamlit"], open_timeout=10) as ws:  # fmt: skip
            with suppress(TimeoutError):
                ws.recv(timeout=2)
            ws.ping().wait(2)
            return True
    except (InvalidStatus, ConnectionClosed):
        return False


def test_a_rebinding_host_cannot_open_the_chat(make_settings, tmp_path) -> None:
    settings = make_settings(first_start_samples=False)
    proc, url = start_chat(settings, tmp_path / "chat.log")
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    try:
        assert _open(port, "127.0.0.1") and _open(port, "localhost")
        assert not _open(port, "rebind.evil.example")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


pytestmark = pytest.mark.slow
