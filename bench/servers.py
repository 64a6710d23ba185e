"""Local servers and the browser, for benchmarks and tests alike: a free loopback port,
waiting for a server to answer, and how Debian's chromium is launched headless.

It lives here, not in `tests/`, so that benchmarks never import test modules; the tests
import it from here.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, proc, timeout: float = 120, headers: dict | None = None) -> None:
    """Poll `url` until it answers 200, failing fast if the server process dies."""
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, headers=headers, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"the server for {url} exited with code {proc.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not come up in {timeout:.0f} s")
        time.sleep(0.3)


def start_zhiku_serve(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """`zhiku serve` on a free loopback port with this environment; (process, base URL)."""
    port = free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("zhiku")), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_for_http(f"{url}/healthz", proc, timeout=120)
    return proc, url
