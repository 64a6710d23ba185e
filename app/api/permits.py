"""May the caller do this: the checks routes make once `app.api.access` has identified
who is calling (issue 24).

A knowledge base the caller may not see at all answers exactly as one that does not
exist (each route passes its own not-found error), so its name leaks nothing; one they
see but may not act in is 403. Writes and refused writes go to the audit trail (with
accounts on; `ZHIKU_AUTH=none` keeps no trail and creates no database).
"""

from __future__ import annotations

import asyncio

from fastapi import HTTPException, Request

from app.auth import Action, Principal, can, visible

WRITES = ("write", "admin")


def principal(request: Request) -> Principal:
    return request.state.principal


def client(request: Request) -> str:
    return request.client.host if request.client else ""


async def audit(
    request: Request, action: str, target: str, outcome: str = "ok", detail: str = ""
) -> None:
    """Record an event when accounts are on (never a secret: callers pass names)."""
    access = request.app.state.callers.access
    if access is not None:
        actor = principal(request).name if hasattr(request.state, "principal") else "anonymous"
        await asyncio.to_thread(
            access.audit.record, actor, action, target, client(request), outcome, detail
        )


async def allow(request: Request, action: Action, knowledge_base: str, hidden: Exception) -> None:
    """Go on only if the caller may `action` in `knowledge_base`: raise `hidden` (the
    route's own not-found) when they may not even see it, 403 when they see it."""
    caller = principal(request)
    if not visible(caller, knowledge_base):
        raise hidden
    if not can(caller, action, knowledge_base):
        if action in WRITES:
            await audit(request, f"{action}.denied", knowledge_base, "denied", request.url.path)
        raise HTTPException(403, f"this key may not {action} in {knowledge_base!r}")


def allow_anywhere(request: Request, action: Action) -> None:
    """For routes that touch no knowledge base (embeddings): the scope is enough."""
    if not can(principal(request), action, None):
        raise HTTPException(403, f"this key has no {action!r} scope")
