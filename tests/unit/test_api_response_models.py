"""The chat route's response model (OpenAPI) and the dict `schemas.completion` builds are
the same shape: a key added, dropped or retyped on one side fails here."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.api import schemas
from app.schema import AnswerResult


def _result() -> AnswerResult:
    return AnswerResult(
        question="GPT-1有多少层？",
        standalone_question="GPT-1有多少层？",
        contexts=[
            {
                "n": 1, "source": "a.txt", "page": None, "chunk_id": "c1",
                "text": "GPT-1有12层。", "score": 0.9, "scores": {"fused": 0.9},
                "relevance": "strong",
                "start": 0, "end": 8,
            }
        ],
        strategy="grounded",
        backend="local",
        answer="GPT-1有12层 [1]。",
        refused=False,
        abstention={"abstained": False, "signal": None, "scores": {"support": {"ratio": 1.0}}},
        draft="",
        citations=[
            {"n": 1, "source": "a.txt", "page": None, "chunk_id": "c1",
             "quote": "GPT-1有12层。", "inferred": False}
        ],
        quotes=[{"n": 1, "source": "a.txt", "page": None, "chunk_id": "c1",
                 "text": "GPT-1有12层。"}],
        reasoning="",
        timings={
            "condense_s": 0.0, "retrieval_s": 0.1, "first_token_s": 1.0, "first_text_s": 0.5,
            "generation_s": 2.0, "total_s": 2.1,
        },
        tokens={"input_tokens": 300, "output_tokens": 12},
    )  # fmt: skip


def test_the_completion_is_what_the_response_model_says() -> None:
    body = schemas.completion("chatcmpl-1", "zhiku/kb", _result(), with_sources=True)
    parsed = schemas.ChatCompletion.model_validate(body)
    assert parsed.model_dump(exclude_unset=True) == body  # nothing dropped or added
    assert parsed.choices[0].message.content.startswith("GPT-1有12层")
    saved = schemas.ChatCompletion.model_validate(body | {"conversation_id": "abc"})
    assert saved.conversation_id == "abc"


def test_a_drifted_completion_fails_the_model() -> None:
    body = schemas.completion("chatcmpl-1", "zhiku/kb", _result(), with_sources=False)
    del body["quotes"]
    with pytest.raises(ValidationError, match="quotes"):
        schemas.ChatCompletion.model_validate(body)
    body = schemas.completion("chatcmpl-1", "zhiku/kb", _result(), with_sources=False)
    body["usage"]["prompt_tokens"] = "many"
    with pytest.raises(ValidationError, match="prompt_tokens"):
        schemas.ChatCompletion.model_validate(body)
