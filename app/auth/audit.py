"""The audit trail: who did what, to what, from where, and how it ended.

Callers pass names, never secrets: a key appears as its display prefix, a failed
sign-in as the name tried. Recording never fails the request it describes (a locked
database is logged), and `export_csv` gives admins the whole trail.
"""

from __future__ import annotations

import csv
import io
import logging
import time

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.auth.tables import AuditRow
from app.auth.types import AuditEvent

log = logging.getLogger("zhiku.audit")
FIELDS = ("at", "actor", "action", "target", "client", "outcome", "detail")


class AuditLog:
    def __init__(self, db: Engine) -> None:
        self._engine = db

    def record(
        self,
        actor: str,
        action: str,
        target: str = "",
        client: str = "",
        outcome: str = "ok",
        detail: str = "",
    ) -> None:
        row = AuditRow(at=time.time(), actor=actor[:120], action=action[:40], target=target[:300],
                       client=client[:64], outcome=outcome[:8], detail=detail[:500])  # fmt: skip
        try:
            with Session(self._engine) as session, session.begin():
                session.add(row)
        except SQLAlchemyError as exc:
            log.warning("audit event not recorded (%s %s): %s", action, target,
                        str(exc).splitlines()[0][:200])  # fmt: skip

    def events(
        self, limit: int | None = None, action: str | None = None, actor: str | None = None
    ) -> list[AuditEvent]:
        """Oldest first (the newest `limit` when given), of one action and/or of actors
        whose name contains `actor`."""
        query = select(AuditRow).order_by(AuditRow.id.desc())
        if action:
            query = query.where(AuditRow.action == action)
        if actor:
            query = query.where(AuditRow.actor.contains(actor, autoescape=True))
        if limit is not None:
            query = query.limit(limit)
        with Session(self._engine) as session:
            rows = list(session.scalars(query))
        return [_event(row) for row in reversed(rows)]

    def count(self, action: str, since: float, target: str | None = None,
              client: str | None = None, detail: str | None = None) -> int:  # fmt: skip
        """Events of `action` since a time, for one target, client or detail (rate
        limits; an OIDC sign-in seen before, or ended)."""
        query = select(func.count()).where(AuditRow.action == action, AuditRow.at >= since)
        if target is not None:
            query = query.where(AuditRow.target == target)
        if client is not None:
            query = query.where(AuditRow.client == client)
        if detail is not None:
            query = query.where(AuditRow.detail == detail)
        with Session(self._engine) as session:
            return session.scalar(query) or 0

    def actions(self) -> list[str]:
        """The actions the trail holds (for a filter)."""
        with Session(self._engine) as session:
            return list(
                session.scalars(select(AuditRow.action).distinct().order_by(AuditRow.action))
            )

    def export_csv(self) -> str:
        """The whole trail as CSV, time in UTC: `zhiku audit export --csv` and the admin
        page's download."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(FIELDS)
        for event in self.events():
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(event.at))
            writer.writerow([stamp, *(getattr(event, name) for name in FIELDS[1:])])
        return out.getvalue()


def _event(row: AuditRow) -> AuditEvent:
    return AuditEvent(row.at, row.actor, row.action, row.target, row.client,
                      row.outcome, row.detail)  # type: ignore[arg-type]  # fmt: skip
