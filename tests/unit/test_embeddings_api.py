"""POST /v1/embeddings, pure parts: what input is accepted, OpenAI's base64 layout, the
response shape, the query/passage switch, and the client backend's settings checks."""

from __future__ import annotations

import asyncio
import base64

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from app.answering.admission import QueueFull
from app.api.embeddings import (
    EmbeddingInputError,
    EmbeddingRequest,
    EmbeddingService,
    approx_tokens,
    encode,
    response,
    texts_of,
)
from app.models.embeddings import EmbeddingModelError
from app.models.remote_embeddings import remote_config
from app.settings import SettingsError, load_settings


def test_a_string_or_a_list_of_strings_is_accepted() -> None:
    assert texts_of("知库", 10) == ["知库"]
    assert texts_of(["a", "知库"], 10) == ["a", "知库"]


@pytest.mark.parametrize(
    ("raw", "status", "says"),
    [
        ([], 400, "at least one text"),
        ([1, 2, 3], 400, "token arrays are not supported"),
        ([[1, 2], [3]], 400, "token arrays are not supported"),
        (["ok", "  "], 400, "input[1]: empty text"),
        (["x"] * 11, 413, "at most 10 (ZHIKU_API_MAX_EMBEDDING_INPUTS)"),
    ],
)
def test_bad_input_is_refused_with_its_status(raw, status: int, says: str) -> None:
    with pytest.raises(EmbeddingInputError) as info:
        texts_of(raw, 10)
    assert info.value.status == status
    assert says in str(info.value) and "\n" not in str(info.value)


def test_base64_is_little_endian_float32_as_the_openai_sdk_decodes_it() -> None:
    vector = [0.5, -1.25, 3.0e-8, 1234.5]
    encoded = encode(vector, "base64")
    # exactly what openai-python does with an `encoding_format="base64"` reply
    decoded = np.frombuffer(base64.b64decode(encoded), dtype="float32").tolist()
    assert decoded == [np.float32(v).item() for v in vector]
    assert encode(vector, "float") == vector


def test_response_has_openai_shape_in_input_order() -> None:
    body = response("m", ["GPT-1 有 12 层", "hello world"], [[1.0, 0.0], [0.0, 1.0]], "float")
    assert body["object"] == "list" and body["model"] == "m"
    assert [(d["object"], d["index"], d["embedding"]) for d in body["data"]] == [
        ("embedding", 0, [1.0, 0.0]),
        ("embedding", 1, [0.0, 1.0]),
    ]
    # GPT, -, 1, 有, 12, 层 | hello, world
    assert body["usage"] == {"prompt_tokens": 8, "total_tokens": 8}
    assert approx_tokens("知库，zhiku!") == 5


class _Fake(Embeddings):
    """Tells queries from passages by the first coordinate."""

    name = "fake-embedder"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[0.0, float(len(t))] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return [1.0, float(len(text))]


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch, tmp_path) -> EmbeddingService:
    monkeypatch.setattr("app.models.embeddings.make_embeddings", lambda _settings: _Fake())
    settings = load_settings(data_dir=tmp_path, max_queue=0, api_max_embedding_inputs=4)
    return EmbeddingService(settings)


def _run(service: EmbeddingService, **fields) -> dict:
    return asyncio.run(service.run(EmbeddingRequest(model="fake-embedder", **fields)))


def test_passages_by_default_queries_when_asked(service: EmbeddingService) -> None:
    assert _run(service, input=["ab"])["data"][0]["embedding"] == [0.0, 2.0]
    assert _run(service, input="ab", input_type="query")["data"][0]["embedding"] == [1.0, 2.0]
    assert service.model_card()["id"] == "fake-embedder"


def test_another_model_or_dimension_is_refused(service: EmbeddingService) -> None:
    with pytest.raises(LookupError, match="this server embeds with 'fake-embedder'"):
        asyncio.run(service.run(EmbeddingRequest(model="text-embedding-3-small", input="a")))
    with pytest.raises(EmbeddingInputError, match="2-dimensional vectors only"):
        _run(service, input="a", dimensions=1024)
    assert _run(service, input="a", dimensions=2)["data"][0]["embedding"] == [0.0, 1.0]


def test_a_full_queue_is_refused(service: EmbeddingService) -> None:
    service._pending = 1  # one running, MAX_QUEUE=0 may wait
    with pytest.raises(QueueFull):
        _run(service, input="a")


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({}, "ZHIKU_EMBEDDING_BASE_URL"),
        ({"embedding_base_url": "http://127.0.0.1:9/v1"}, "ZHIKU_EMBEDDING_MODEL"),
    ],
)
def test_the_openai_backend_needs_a_server_and_a_model(overrides: dict, named: str) -> None:
    settings = load_settings(embedding_backend="openai", **overrides)
    with pytest.raises(EmbeddingModelError, match=named):
        remote_config(settings)


def test_the_key_stays_out_of_reprs_and_urls_are_checked() -> None:
    settings = load_settings(
        embedding_backend="openai",
        embedding_base_url="http://10.0.0.5:8000/v1/",
        embedding_model="m",
        embedding_api_key="sk-secret-value",
    )
    config = remote_config(settings)
    assert config.embedding_base_url == "http://10.0.0.5:8000/v1"
    assert config.embedding_api_key.get_secret_value() == "sk-secret-value"
    assert "sk-secret-value" not in repr(config) + repr(settings)
    with pytest.raises(SettingsError, match="ZHIKU_EMBEDDING_BASE_URL"):
        load_settings(embedding_base_url="10.0.0.5:8000")
