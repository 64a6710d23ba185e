"""zhiku as an MCP server (the official SDK's MCPServer, FastMCP's successor in mcp 2):
tools to list knowledge bases, search one and ask one, and every document as a resource
`zhiku://<knowledge base>/<source>`.

`search` is `app.retrieval.service` (the same function as `POST /v1/retrieve`); `ask` is
the RAG chain, taking its turn for the model through the same admission queue as the
HTTP API and the chat. Every failure reaches the client as a tool error of one line
(an assistant shows it to its user); unexpected ones are logged here, never sent.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypedDict
from urllib.parse import quote

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp_types import ListResourcesResult, Resource

from app import tracing
from app.auth import FULL_ACCESS, Callers, Principal, can, visible
from app.errors import UserError
from app.once import once_per_arguments
from app.retrieval.service import RetrievalService, UnknownKnowledgeBase, check_query
from app.settings import STRATEGIES, Settings

log = logging.getLogger("zhiku.mcp")
SCHEME = "zhiku"

INSTRUCTIONS = (
    "知库：本地中文知识库。先用 list_knowledge_bases 看有哪些知识库，再用 search 找原文片段，"
    "或用 ask 让知库根据资料回答（带引用，资料不支持时会拒答）。\n"
    "zhiku: local knowledge bases. list_knowledge_bases first, then search for passages, "
    "or ask for an answer with citations (it abstains when the documents do not support one)."
)
LIST_DOC = "列出所有知识库及其片段数。 / List the knowledge bases and how many chunks each holds."
SEARCH_DOC = (
    "在知识库中检索与查询最相关的原文片段（混合检索：向量 + BM25），返回来源、页码、分数、"
    "相关度（strong / partial / weak）和文本。"
    " / Search a knowledge base (dense + BM25 hybrid) for the passages closest to the query; "
    "returns each chunk's source, page, score (cosine similarity 0-1), relevance (strong, "
    "partial or weak: how likely it holds the answer) and text."
)
ASK_DOC = (
    "根据知识库的资料回答问题，返回答案、引用和是否拒答；本地模型回答需要数秒到数十秒。"
    " / Answer a question from a knowledge base's documents: the answer, its citations and "
    "whether zhiku abstained. The local model takes seconds to tens of seconds."
)

Strategy = Literal[STRATEGIES]  # type: ignore[valid-type]


class Answer(TypedDict):
    """What `ask` returns (typed, so clients get it as structured content too)."""

    answer: str
    citations: list[dict]
    abstention: dict
    strategy: str


def _one_line(function: Callable[..., Any]) -> Callable[..., Any]:
    """A tool's failures as one-line MCP tool errors; unexpected ones logged, not sent."""

    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except UserError as exc:
            raise ToolError(" ".join(str(exc).split())) from None
        except Exception:
            log.exception("MCP tool %s failed", function.__name__)
            raise ToolError("internal error; see the zhiku server log") from None

    return call


NOBODY = Principal(name="anonymous", owner="anonymous")  # sees no knowledge base


class ZhikuMCP(MCPServer):
    """MCPServer whose resource list is read from the knowledge bases at each request,
    showing only the caller's (over HTTP with keys: `callers` names them)."""

    def __init__(
        self, service: RetrievalService, callers: Callers | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.service = service
        self.callers = callers

    def caller_of(self, headers: Mapping[str, str] | None) -> Principal:
        """Who sent a call (stdio: the local user, full access)."""
        if self.callers is None:
            return FULL_ACCESS
        return self.callers.identify(headers.get("authorization") if headers else None) or NOBODY

    async def _handle_list_resources(self, ctx: Any, params: Any) -> ListResourcesResult:
        # the SDK's handler, overridden because `list_resources` is not told who asks
        import anyio

        who = self.caller_of(getattr(getattr(ctx, "request", None), "headers", None))
        listed = await anyio.to_thread.run_sync(self._document_resources, who)
        return ListResourcesResult(resources=listed)

    def _document_resources(self, who: Principal = FULL_ACCESS) -> list[Resource]:
        return [
            Resource(
                uri=document_uri(kb, source),
                name=f"{kb}/{source}",
                description=f"{chunks} chunks",
                mime_type="text/plain",
            )
            for kb in self.service.knowledge_bases()
            if can(who, "read", kb)
            for source, chunks in self.service.documents(kb).items()
        ]


def document_uri(knowledge_base: str, source: str) -> str:
    return f"{SCHEME}://{knowledge_base}/{quote(source, safe='/')}"


def build_server(
    settings: Settings, service: RetrievalService | None = None, callers: Callers | None = None
) -> ZhikuMCP:
    """The MCP server over the knowledge bases of `settings`. Over HTTP, `callers` says
    who sent each call (its Authorization header, already checked by the API's
    middleware) and a tool sees only their knowledge bases; stdio is the local user."""
    service = service or RetrievalService(settings)

    def caller(ctx: Context | None) -> Principal:
        return server.caller_of(ctx.headers if ctx is not None else None)

    def check(ctx: Context | None, scope: Literal["ask", "read"], knowledge_base: str) -> None:
        """As the API: a base the caller may not see is one that does not exist."""
        who = caller(ctx)
        if not visible(who, knowledge_base):
            raise UnknownKnowledgeBase(f"no knowledge base {knowledge_base!r}")
        if not can(who, scope, knowledge_base):
            raise UserError(f"this key may not {scope} in {knowledge_base!r}")

    server = ZhikuMCP(
        service, callers, name="zhiku", instructions=INSTRUCTIONS, log_level="WARNING"
    )
    chains = once_per_arguments(maxsize=16)(functools.partial(_build_chain, settings))

    @server.tool(description=LIST_DOC)
    @_one_line
    def list_knowledge_bases(ctx: Context | None = None) -> list[dict]:
        who = caller(ctx)
        return [
            {"name": kb, "documents": len(docs), "chunks": sum(docs.values())}
            for kb in service.knowledge_bases()
            if can(who, "ask", kb)
            for docs in [service.documents(kb)]
        ]

    @server.tool(description=SEARCH_DOC)
    @_one_line
    def search(
        knowledge_base: str,
        query: str,
        k: int = settings.retrieval.top_k,
        ctx: Context | None = None,
    ) -> list[dict]:
        check(ctx, "ask", knowledge_base)
        chunks = service.search(knowledge_base, query, k)
        return [
            {
                "source": c.source,
                "page": c.page,
                "chunk_id": c.chunk_id,
                "score": c.score,
                "relevance": c.relevance,
                "text": c.text,
            }
            for c in chunks
        ]

    @server.tool(description=ASK_DOC)
    @_one_line
    def ask(
        knowledge_base: str,
        question: str,
        strategy: Strategy | None = None,
        ctx: Context | None = None,
    ) -> Answer:
        from app.answering.admission import admission_for

        check(ctx, "ask", knowledge_base)
        question = check_query(question, 1, settings.serving.max_question_chars)
        if knowledge_base not in service.knowledge_bases():
            raise UnknownKnowledgeBase(f"no knowledge base {knowledge_base!r}")
        chosen = strategy or settings.answering.strategy
        chain = chains(knowledge_base, chosen, service.identity(knowledge_base))
        with (
            admission_for(settings, chain.backend).slot(),
            tracing.answer("mcp", collection=knowledge_base) as trace,
        ):
            result = chain.invoke({"question": question, "history": []})
            trace.record(result)
        return Answer(
            answer=result["answer"],
            citations=[
                {k: c[k] for k in ("n", "source", "page", "chunk_id", "quote")}
                for c in result["citations"]
            ],
            abstention=dict(result["abstention"]),
            strategy=result["strategy"],
        )

    @server.resource(
        f"{SCHEME}://{{knowledge_base}}/{{+source}}", mime_type="text/plain",
        description="知识库中的一篇文档（按索引的片段顺序） / A document as indexed",
    )  # fmt: skip
    def document(knowledge_base: str, source: str, ctx: Context | None = None) -> str:
        try:
            check(ctx, "read", knowledge_base)
            return service.document_text(knowledge_base, source)
        except UserError as exc:
            raise ResourceError(" ".join(str(exc).split())) from None

    return server


def _build_chain(settings: Settings, collection: str, strategy: str, identity: str):
    """`identity` (the collection's id) only keys the cache: see RetrievalService.identity."""
    from app.answering.chain import build_rag_chain

    return build_rag_chain(settings, collection=collection, strategy=strategy)
