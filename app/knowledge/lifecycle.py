"""Renaming and deleting a knowledge base: everything kept under its name, moved or removed.

Under its name are: the Chroma collection; its record-manager rows, version and curated
chunk fixes (keyed by the namespace `<chroma location>/<name>`); its BM25 folder; its
uploads folder; its remembered folders, web pages and document states; its description;
its FAQ entries; and, in the access database, the grants and API keys that name it.
Conversations keep their history: on a rename they are labelled with the new name (and
opening one selects it); after a delete they keep the old name, and the chat says that
knowledge base is gone.

No transaction spans a Chroma collection, three SQL databases and folders, so each
operation is recorded first (app/store/pending.py), which hides every name it touches,
and each step is a no-op once done: a process killed half-way leaves a recorded
operation the next `KnowledgeBases` finishes, never a knowledge base half there. The
steps run under the writer lock of the names involved, so no ingest writes meanwhile.

The access database is updated here rather than by the page or route that asked: the
service is the one door every surface (chat, API, CLI) comes through, and `app.auth`
sits below it, so no caller can rename a knowledge base and forget its grants.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from app.auth.access import auth_url, open_access
from app.conversations.store import ConversationStoreError, open_conversation_store
from app.faq.store import open_faq_store
from app.knowledge.descriptions import description_path
from app.knowledge.types import KnowledgeBaseExists
from app.settings import Settings
from app.store import pending
from app.store.bm25 import index_dir
from app.store.chroma import CollectionExists, drop_collection, rename_collection
from app.store.chunk_fixes import drop_all_fixes, move_fixes
from app.store.records import drop_records, move_records
from ingest.roots import forget_roots, move_roots
from ingest.uploads import upload_folder
from ingest.writer_lock import IngestBusyError, writer_lock

log = logging.getLogger("zhiku.knowledge")


def rename(settings: Settings, old: str, new: str) -> None:
    """Move everything of `old` to `new` (both validated and checked by the caller)."""
    with writer_lock(settings, old, whole=True, also=[new]):
        record = pending.begin(settings, "rename", old, new)
        try:
            rename_collection(settings, old, new)
        except CollectionExists:  # made meanwhile (a Chroma server): nothing moved yet
            pending.finished(record)
            raise KnowledgeBaseExists(f"knowledge base {new!r} exists already") from None
        _finish_rename(settings, old, new)
        pending.finished(record)


def delete(settings: Settings, name: str) -> None:
    """Remove everything of `name` (conversations stay, under the old name)."""
    with writer_lock(settings, name, whole=True):
        record = pending.begin(settings, "delete", name)
        _finish_delete(settings, name)
        pending.finished(record)


def finish_pending(settings: Settings) -> None:
    """Finish what a killed rename or delete left (each under its writer lock); one a
    writer is doing now stays for that writer."""
    for operation in pending.pending(settings):
        try:
            others = [operation.new] if operation.new else []
            with writer_lock(settings, operation.name, whole=True, also=others):
                if not operation.path.exists():
                    continue  # its writer finished it meanwhile
                log.warning("finishing an interrupted %s of %r", operation.op, operation.name)
                if operation.op == "rename":
                    rename_collection(settings, operation.name, operation.new)
                    _finish_rename(settings, operation.name, operation.new)
                else:
                    _finish_delete(settings, operation.name)
                pending.finished(operation.path)
        except IngestBusyError:
            continue
        except Exception as exc:  # a database down: the names stay hidden, retried next time
            log.error("cannot finish the %s of %r yet: %s", operation.op, operation.name, exc)


def _finish_rename(settings: Settings, old: str, new: str) -> None:
    """Every step after the collection's (each a no-op once done)."""
    move_records(settings, old, new)
    move_fixes(settings, old, new)
    _move_path(index_dir(settings, old), index_dir(settings, new))
    uploads = upload_folder(settings, old).absolute(), upload_folder(settings, new).absolute()
    _move_path(*uploads)
    move_roots(settings, old, new, dict([uploads]))
    _move_path(description_path(settings, old), description_path(settings, new))
    open_faq_store(settings).rename_knowledge_base(old, new)
    if _access_in_use(settings):
        open_access(settings).rename_knowledge_base(old, new)
    try:  # labels only: a conversation database that cannot be used must not stop this
        open_conversation_store(settings).rename_knowledge_base(old, new)
    except ConversationStoreError as exc:
        log.warning("conversations keep the name %r: %s", old, exc)


def _finish_delete(settings: Settings, name: str) -> None:
    drop_collection(settings, name)
    drop_records(settings, name)
    drop_all_fixes(settings, name)
    shutil.rmtree(index_dir(settings, name), ignore_errors=True)
    shutil.rmtree(upload_folder(settings, name), ignore_errors=True)
    forget_roots(settings, name)
    description_path(settings, name).unlink(missing_ok=True)
    open_faq_store(settings).delete_all(name)
    if _access_in_use(settings):
        open_access(settings).forget_knowledge_base(name)


def _move_path(source: Path, target: Path) -> None:
    """Move a file or folder, once: what is already at the target (a crash after the
    move) stays; leftovers of a deleted knowledge base of the new name give way."""
    if not source.exists():
        return
    if target.exists():
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    source.rename(target)


def _access_in_use(settings: Settings) -> bool:
    """Accounts on, or an access database kept from when they were: its grants must
    not outlive their knowledge base's name (a new one of that name would inherit them)."""
    if settings.access.auth != "none" or settings.access.auth_url:
        return True
    url = auth_url(settings)
    return Path(url.removeprefix("sqlite:///").split("?")[0]).exists()
