"""Chroma access: an embedded folder by default, a `chroma run` server when configured.

Chroma's own default embedding function downloads a model, so every collection is
opened through `langchain_chroma.Chroma` with our embeddings, and the collection
records which embedding model built it: querying with another model is refused
with a clear message instead of returning nonsense.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from urllib.parse import urlparse

from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings

from app.errors import UserError
from app.models.embeddings import embedding_id
from app.once import once_per_arguments
from app.settings import Settings, validate_collection_name

EMBEDDING_KEY = "zhiku_embedding"


class StoreError(UserError, RuntimeError):
    """The vector store cannot be used as asked; the message says why and what to do."""


class CollectionExists(StoreError):
    """A rename onto a name another collection has."""


def make_client(settings: Settings):
    """A Chroma client for the settings: HttpClient for a server URL, else PersistentClient."""
    return _client(settings.storage.chroma_server_url, str(settings.storage.chroma_dir))


@once_per_arguments(maxsize=8)
def _client(server_url: str, path: str):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if server_url:
        url = urlparse(server_url)
        try:
            client = chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
            client.heartbeat()
        except Exception as exc:
            raise StoreError(
                f"cannot reach the Chroma server at {server_url} ({type(exc).__name__}); start it "
                "with `chroma run --path DIR --port PORT` or unset ZHIKU_CHROMA_SERVER_URL"
            ) from None
        return client
    return chromadb.PersistentClient(path=path, settings=chroma_settings)


def chroma_name(name: str) -> str:
    """The Chroma collection of a knowledge base: Chroma takes only ASCII names, so a
    Chinese one is stored in punycode behind the reserved prefix `xn--` (as in IDNA)."""
    validate_collection_name(name)
    return name if name.isascii() else "xn--" + name.encode("punycode").decode("ascii")


def knowledge_base_name(collection: str) -> str:
    """The knowledge base a Chroma collection holds (the inverse of `chroma_name`)."""
    if collection.startswith("xn--"):
        try:
            return collection[4:].encode("ascii").decode("punycode")
        except UnicodeError:  # not one of ours: shown as Chroma names it
            return collection
    return collection


def rename_collection(settings: Settings, old: str, new: str) -> None:
    """Give a knowledge base's collection its new name (Chroma's own `modify`: the chunks,
    their ids and vectors stay where they are). Done already when `old` is gone and `new`
    is there; a collection under each name is refused."""
    client = make_client(settings)
    present = {c.name for c in client.list_collections()}
    source, target = chroma_name(old), chroma_name(new)
    if source not in present:
        return
    if target in present:
        raise CollectionExists(f"knowledge base {new!r} exists already; choose another name")
    client.get_collection(source).modify(name=target)
    _forget(settings, old)


def drop_collection(settings: Settings, collection: str) -> None:
    """Delete a knowledge base's collection (nothing to do when it is gone)."""
    client = make_client(settings)
    if chroma_name(collection) in {c.name for c in client.list_collections()}:
        client.delete_collection(chroma_name(collection))
    _forget(settings, collection)


def _forget(settings: Settings, collection: str) -> None:
    with _follow_lock:
        _queried_at.pop((str(settings.storage.chroma_dir), collection), None)


def open_vector_store(settings: Settings, embeddings: Embeddings, collection: str) -> Chroma:
    """The collection as a LangChain vector store, created if missing (cosine space)."""
    name = chroma_name(collection)
    client = make_client(settings)
    model = embedding_id(embeddings)
    store = Chroma(
        client=client,
        collection_name=name,
        embedding_function=embeddings,
        collection_metadata={"hnsw:space": "cosine", EMBEDDING_KEY: model},
    )
    built_with = (client.get_collection(name).metadata or {}).get(EMBEDDING_KEY)
    if built_with and built_with != model:
        raise StoreError(
            f"knowledge base {collection!r} was built with embedding model {built_with!r}, "
            f"but {model!r} is configured; set ZHIKU_EMBEDDING_BACKEND back, or ingest into "
            "another collection"
        )
    return store


# The collection version (app/store/records.py) each embedded Chroma folder's collections
# were last queried at, in this process.
_queried_at: dict[tuple[str, str], int] = {}
_follow_lock = threading.Lock()


def follow_writes(settings: Settings, collection: str, version: int) -> None:
    """Let this process's embedded Chroma see what other processes wrote to `collection`.

    The embedded client keeps each collection's vector index in memory and updates it
    with this process's own writes only: the chat answered from the index it had loaded
    while `zhiku ingest` added chunks, until restarted (issue 22, item 8). So before a
    query, when the collection's version (bumped by every writer) is not the one this
    process last queried at, the client's storage bindings are opened again, which
    reloads the indexes from disk (~20 ms, then the first query's load). The client
    object stays the same, so every store and collection handle follows. A Chroma server
    sees every writer itself.
    """
    if settings.storage.chroma_server_url:
        return
    key = (str(settings.storage.chroma_dir), collection)
    with _follow_lock:
        if _queried_at.get(key) == version:
            return
        server = getattr(make_client(settings), "_server", None)  # chromadb's RustBindingsAPI
        if server is not None and hasattr(server, "bindings"):
            server.start()  # new bindings on the same folder; calls in flight keep the old
        _queried_at[key] = version


def wrote(settings: Settings, collection: str, version: int) -> None:
    """This process's own write moved `collection` to `version`, made under the writer lock
    after `follow_writes`: its client holds the write already, so the next query need not
    reload the indexes (~0.5 s on a busy machine, paid by the first search after an edit)."""
    if not settings.storage.chroma_server_url:
        with _follow_lock:
            _queried_at[(str(settings.storage.chroma_dir), collection)] = version


def iter_pages(store: Chroma, include: list[str], page_size: int = 5000) -> Iterator[dict]:
    """The whole collection, one `get` page at a time (a single get can exceed limits)."""
    offset = 0
    while True:
        page = store.get(include=include, limit=page_size, offset=offset)
        yield page
        if len(page["ids"]) < page_size:
            return
        offset += page_size


def max_batch_size(settings: Settings) -> int:
    """Chroma's (SQLite-derived) limit on one write; larger adds fail."""
    client = make_client(settings)
    try:
        return int(client.get_max_batch_size())
    except Exception:  # an older server without the call
        return 1000
