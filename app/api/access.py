"""Who is calling `zhiku serve` (issue 24): the middleware turns the Authorization header
into a `Principal` once per request (`app.auth.Callers`) before any route runs, and
refuses an unknown, revoked, expired or malformed key with 401 (Dify's shape on Dify's
route), recording the refusal, never the key, in the audit trail. What the caller may
then do is `app.api.permits`.
"""

from __future__ import annotations

import asyncio

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from app.api import retrieve, schemas
from app.api.permits import audit
from app.auth import Callers, bearer
from app.auth.tokens import token_prefix
from app.settings import Settings

OPEN_PATHS = {"/healthz"}


def add_auth(app: FastAPI, settings: Settings) -> None:
    """Identify every request's caller before its route runs; refuse unknown ones (401)."""
    callers = app.state.callers = Callers(settings)

    @app.middleware("http")
    async def identify(request: Request, call_next):
        if request.url.path in OPEN_PATHS:
            return await call_next(request)
        headers = request.headers.getlist("authorization")
        header = headers[0] if len(headers) == 1 else ("" if headers else None)
        if callers.access is None:
            caller = callers.identify(header)
        else:  # a database read: off the event loop
            caller = await asyncio.to_thread(callers.identify, header)
        if caller is None:
            await _refused(request, header)
            if request.url.path == "/retrieval":  # Dify's own error shape and codes
                return retrieve.dify_auth_error(bearer(header) is not None)
            kind = "missing" if header is None else "invalid"
            return JSONResponse(
                schemas.error(f"{kind} API key: send Authorization: Bearer <key>",
                              "invalid_request_error", "invalid_api_key"),
                status_code=401,
            )  # fmt: skip
        request.state.principal = caller
        request.state.owner = caller.owner
        return await call_next(request)


async def _refused(request: Request, header: str | None) -> None:
    token = bearer(header)
    if header is None:
        why = "no Authorization header"
    elif token is None:
        why = "malformed Authorization header"
    elif prefix := token_prefix(token):
        why = f"unknown, revoked or expired key {prefix}"
    else:
        why = "unknown key"
    await audit(request, "auth.failed", request.url.path, "denied", why)
