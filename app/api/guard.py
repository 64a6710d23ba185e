"""What `zhiku serve` checks before a route runs: who may call it and how much they may send.

- Keyless mode (no `ZHIKU_API_KEYS`): the server listens on loopback only, but any web
  page the user visits can still send requests to 127.0.0.1 (a form posting a multipart
  upload needs no CORS preflight), and a DNS-rebinding name (`rebind.evil.example`
  resolving to 127.0.0.1) makes such a page same-origin. So the `Host` header must be a
  loopback name and an `Origin` header, when sent, a loopback origin; otherwise 403.
  With keys, a browser never attaches the bearer key by itself, so neither attack works.
- Body size: `Content-Length` over the cap is 413 before a byte is read; a body without
  one (chunked) is counted as it arrives and refused the moment it passes the cap, so a
  500 MB upload never reaches /tmp. Uploads (multipart) have `ZHIKU_MAX_REQUEST_MB`,
  everything else `ZHIKU_MAX_JSON_MB`.
"""

from __future__ import annotations

import json

from app.auth import keys_required
from app.loopback import loopback_host_header, loopback_origin
from app.settings import Settings


def _error(message: str, code: str) -> bytes:
    kind = "invalid_request_error"
    body = {"error": {"message": message, "type": kind, "code": code, "param": None}}
    return json.dumps(body).encode()


async def _reply(send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})


class Guard:
    """Pure ASGI middleware (it must see the body's bytes before anyone stores them)."""

    def __init__(self, app, settings: Settings) -> None:
        self.app = app
        self.keyless = not keys_required(settings)
        self.upload_cap = int(settings.serving.max_request_mb * 1_000_000)
        self.json_cap = int(settings.serving.max_json_mb * 1_000_000)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if self.keyless and (refusal := self._foreign(headers)):
            return await _reply(send, 403, _error(refusal, "forbidden_origin"))
        multipart = headers.get("content-type", "").lower().startswith("multipart/")
        cap = self.upload_cap if multipart else self.json_cap
        setting = "ZHIKU_MAX_REQUEST_MB" if multipart else "ZHIKU_MAX_JSON_MB"
        too_large = _error(
            f"request body over the {cap / 1e6:g} MB limit ({setting}); send less per request",
            "request_too_large",
        )
        try:
            declared = int(headers.get("content-length") or 0)
        except ValueError:
            declared = 0
        if declared > cap:
            return await _reply(send, 413, too_large)
        state = {"received": 0, "over": False, "started": False}

        async def counted() -> dict:
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > cap:
                    state["over"] = True  # the route sees a client that went away
                    return {"type": "http.disconnect"}
            return message

        async def sending(message: dict) -> None:
            if state["over"]:
                return  # the route's reply to a cut-off body is replaced by the 413
            state["started"] = True
            await send(message)

        try:
            await self.app(scope, counted, sending)
        except Exception:
            if not state["over"]:
                raise
        if state["over"] and not state["started"]:
            await _reply(send, 413, too_large)

    @staticmethod
    def _foreign(headers: dict[str, str]) -> str | None:
        """Why a keyless request may come from another site; None when it cannot."""
        if not loopback_host_header(headers.get("host", "")):
            return (
                "Host must be 127.0.0.1, localhost or [::1] without API keys "
                "(set ZHIKU_API_KEYS to serve other names)"
            )
        origin = headers.get("origin")
        if origin is not None and not loopback_origin(origin):
            return "requests from other web sites are refused without API keys (Origin)"
        return None
