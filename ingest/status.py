"""The last ingest's word on each document of a knowledge base: indexing (now), indexed,
skipped or failed with its reason: what the document table shows beside each file.

An ingest's report is seen by whoever started it (the chat's session, the API job's
owner); this file keeps the outcome for everyone, beside the knowledge base's folders
(ingest/roots.py), in one small JSON file written twice per ingest: when it starts (its
files "indexing", with the writer's process) and when it ends. Reading it is one file
read per page view, not one per document.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Literal

from app.settings import Settings
from ingest.roots import STATUS, kb_file

State = Literal["indexing", "indexed", "skipped", "failed"]


@dataclass(frozen=True)
class DocumentStatus:
    state: State
    reason: str = ""  # the English one-liner (the CLI's, the API's)
    code: str = ""  # ingest.documents.REASON_CODES: what a page translates
    params: dict[str, object] = field(default_factory=dict)
    at: float = 0.0
    host: str = ""  # the writer, while indexing: a dead one's "indexing" means nothing
    pid: int = 0


def read_status(settings: Settings, collection: str) -> dict[str, DocumentStatus]:
    """Each document's last state; an "indexing" whose writer died is left out."""
    try:
        raw = json.loads(kb_file(settings, collection, STATUS).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    found = {}
    for source, data in raw.items():
        try:
            status = DocumentStatus(**data)
        except TypeError:
            continue
        if status.state == "indexing" and not _writing(status):
            continue
        found[source] = status
    return found


def mark_indexing(settings: Settings, collection: str, sources: Iterable[str]) -> None:
    here = {"host": socket.gethostname(), "pid": os.getpid(), "at": time.time()}
    with _editing(settings, collection) as statuses:
        for source in sources:
            statuses[source] = asdict(DocumentStatus("indexing", **here))  # type: ignore[arg-type]


def record_outcome(
    settings: Settings,
    collection: str,
    done: Iterable[str],
    problems: Iterable[tuple[State, str, str, str, dict]],
    unfinished: Iterable[str] = (),
) -> None:
    """`done`: indexed (or unchanged); `problems`: (state, source, reason, code, params);
    `unfinished`: marked "indexing" by this run, which did not reach them."""
    now = time.time()
    with _editing(settings, collection) as statuses:
        for source in unfinished:
            if statuses.get(source, {}).get("state") == "indexing":
                del statuses[source]
        for source in done:
            statuses[source] = asdict(DocumentStatus("indexed", at=now))
        for state, source, reason, code, params in problems:
            statuses[source] = asdict(DocumentStatus(state, reason, code, params, now))


def forget(settings: Settings, collection: str, source: str) -> None:
    """A deleted document has no status left."""
    with _editing(settings, collection) as statuses:
        statuses.pop(source, None)


@contextmanager
def _editing(settings: Settings, collection: str) -> Iterator[dict]:
    """Read-modify-write under the roots folder's file lock (two ingests of different
    folders may end at once), replaced atomically."""
    target = kb_file(settings, collection, STATUS)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            statuses = json.loads(target.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            statuses = {}
        yield statuses
        partial = target.with_name(f".{target.name}.{os.getpid()}.part")
        partial.write_text(json.dumps(statuses, ensure_ascii=False), encoding="utf-8")
        partial.replace(target)


def _writing(status: DocumentStatus) -> bool:
    if status.host != socket.gethostname():
        return True  # another machine's writer: trust it
    try:
        os.kill(status.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
