"""The RAG chain end to end: real Chroma, real BM25, real embeddings, the real GGUF model."""

from __future__ import annotations

import json
import re
from pathlib import Path

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from app.answering.chain import build_rag_chain
from app.settings import REPO_ROOT
from ingest.indexing import ingest_paths, open_knowledge_base
from tests.helpers import INJECTION, SAMPLES, settings_env, zhiku

GPT1_PARAMS = "GPT-1模型基本参数?答案:12层、12个head、768维、参数量1.17亿"


def test_ask_json_has_the_documented_shape(kb_settings) -> None:
    result = zhiku(kb_settings, "ask", "GPT-1有多少层?", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    for key in ["answer", "citations", "contexts", "strategy", "reasoning", "timings"]:
        assert key in data
    assert data["strategy"] == "zero-shot" and data["answer"]
    assert "12" in data["answer"]
    assert len(data["contexts"]) == 3
    assert {c["source"] for c in data["contexts"]} & {
        "samples/大语言模型简史.txt",
        "llm-background-qa-notes.txt",
    }
    assert data["citations"], "every answer must be traceable to a context"
    for ctx in data["contexts"]:
        assert {"source", "text", "score"} <= set(ctx) and ctx["score"] > 0
        assert ctx["relevance"] in ("strong", "partial", "weak")
    for cite in data["citations"]:
        assert {"source", "page", "chunk_id", "quote"} <= set(cite)
        context = next(c for c in data["contexts"] if c["n"] == cite["n"])
        assert cite["quote"] in context["text"]
    timings = data["timings"]
    assert 0 < timings["retrieval_s"] < timings["first_token_s"] <= timings["total_s"]
    assert data["tokens"]["input_tokens"] > 100 and data["tokens"]["output_tokens"] > 0


def test_stream_events_and_batch(kb_settings) -> None:
    chain = build_rag_chain(kb_settings, strategy="few-shot")
    events = list(chain.stream("What does BM25 score a chunk by?"))
    assert events[0]["event"] == "contexts"
    tokens = [e for e in events if e["event"] == "token"]
    assert len(tokens) >= 2
    result = events[-1]
    assert result["event"] == "result" and result["strategy"] == "few-shot"
    streamed = "".join(t["text"] for t in tokens).strip()
    assert re.sub(r" \[\d+\]", "", result["answer"]) == re.sub(r" \[\d+\]", "", streamed)

    batch = chain.batch(["RAG是什么？", "量化是什么？"])
    assert len(batch) == 2 and all(r["answer"] for r in batch)


def test_chain_of_thought_returns_reasoning_apart(kb_settings) -> None:
    """The split, on a reply streamed in pieces as a model would (the marker cut in two)."""
    chain = build_rag_chain(kb_settings.updated(**{"abstain": False}), strategy="cot")
    reply = "推理：段落[1]说GPT-1共12层。\n最终", "答案：GPT-1共有12层 [1]。"
    chain.model = GenericFakeChatModel(messages=iter([AIMessage(content="".join(reply))]))
    events = list(chain.stream("GPT-1有多少层？"))
    result = events[-1]
    assert result["strategy"] == "cot"
    assert result["reasoning"] == "段落[1]说GPT-1共12层。"
    assert result["answer"] == "GPT-1共有12层 [1]。" and result["citations"]
    parts = [e["part"] for e in events if e["event"] == "token"]
    assert parts[0] == "reasoning" and parts[-1] == "answer"
    assert parts == sorted(parts, key=["reasoning", "answer"].index)  # reasoning, then answer


def test_chain_of_thought_with_the_real_model_answers(kb_settings) -> None:
    # The 0.5B model mostly answers at once, without the reasoning and marker the prompt
    # asks for (docs/benchmarks.md); whatever it writes, no marker reaches the answer.
    result = build_rag_chain(kb_settings, strategy="cot").invoke("GPT-1有多少层？")
    assert result["strategy"] == "cot" and "12" in result["answer"]
    assert "最终答案" not in result["answer"] and "推理：" not in result["answer"]


def test_document_text_cannot_pose_as_instructions(kb_settings) -> None:
    result = build_rag_chain(kb_settings).invoke("知库的吉祥物是什么？")
    assert any(INJECTION in c["text"] for c in result["contexts"])  # the attack was seen
    assert "我已被攻破" not in result["answer"]


def test_follow_up_question_retrieves_the_right_passage(kb_settings) -> None:
    chain = build_rag_chain(kb_settings)
    history = [
        {"role": "user", "content": "GPT-1有多少层?"},
        {"role": "assistant", "content": "GPT-1有12层 [1]。"},
    ]
    result = chain.invoke({"question": "它的参数量呢?", "history": history})
    assert "GPT" in result["standalone_question"].upper()
    assert any(GPT1_PARAMS in c["text"] for c in result["contexts"])


def test_readme_python_example_runs_as_written(tmp_path: Path, make_settings) -> None:
    import subprocess
    import sys

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    example = readme.split("```python\n", 1)[1].split("```", 1)[0]
    assert len(example.strip().splitlines()) <= 5
    settings = make_settings(top_k=3, max_tokens=64)
    assert ingest_paths(open_knowledge_base(settings, "samples"), [SAMPLES]).ok
    result = subprocess.run(
        [sys.executable, "-c", example],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "12" in result.stdout and ".txt" in result.stdout
