"""Generation through the chain vs. bare llama-cpp-python on the same prompt and model.

Baseline: a separately loaded `llama_cpp.Llama` streaming `create_chat_completion` for
exactly the messages the chain built (same contexts, greedy decoding, same limits).
Reported: generated tokens/s (after the first token) for both and their ratio; time to
first token of the chain against retrieval time + prompt tokens / the baseline's prompt
rate; and a second question, whose static system prompt llama.cpp reuses from its cache.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from app.answering import prompts
from app.answering.chain import build_rag_chain
from app.models.gguf import resolve_model_path
from app.settings import load_settings
from ingest.indexing import ingest_paths, open_knowledge_base

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
QUESTIONS = ["GPT-1有多少层？参数量是多少？", "BERT和GPT在结构上有什么不同？"]
MAX_TOKENS = 96


def _through_chain(chain, question: str) -> dict:
    stamps: list[float] = []
    result: dict = {}
    for event in chain.stream(question):
        if event["event"] == "token":
            stamps.append(time.perf_counter())
        elif event["event"] == "result":
            result = event
    tokens = result["tokens"]["output_tokens"]
    return {
        "result": result,
        "prompt_tokens": result["tokens"]["input_tokens"],
        "output_tokens": tokens,
        "gen_tok_s": (tokens - 1) / (stamps[-1] - stamps[0]),
    }


def _bare(llm, messages: list[dict]) -> dict:
    started = time.perf_counter()
    stamps = []
    for chunk in llm.create_chat_completion(
        messages=messages, stream=True, temperature=0.0, top_p=1.0, max_tokens=MAX_TOKENS
    ):
        if chunk["choices"][0]["delta"].get("content"):
            stamps.append(time.perf_counter())
    return {"ttft": stamps[0] - started, "stamps": stamps}


def run() -> dict:
    from llama_cpp import Llama

    work = Path(tempfile.mkdtemp(prefix="zhiku-bench-gen-"))
    settings = load_settings(
        data_dir=work / "data",
        cache_dir=work / "cache",
        embedding_backend="use",
        temperature=0.0,
        top_p=1.0,
        max_tokens=MAX_TOKENS,
        top_k=5,
    )
    assert ingest_paths(open_knowledge_base(settings, "samples"), [SAMPLES]).ok
    chain = build_rag_chain(settings, collection="samples", strategy="zero-shot")
    first = _through_chain(chain, QUESTIONS[0])
    second = _through_chain(chain, QUESTIONS[1])

    bare_llm = Llama(
        model_path=str(resolve_model_path(settings)),
        n_ctx=settings.chat_model.llm_context,
        n_threads=settings.chat_model.llm_threads,
        n_batch=512,
        verbose=False,
    )
    timings = []
    for run_ in (first, second):
        result = run_["result"]
        lang = prompts.detect_language(result["question"])
        chunks = [
            prompts.ContextChunk(c["n"], c["source"], c["page"], c["text"])
            for c in result["contexts"]
        ]
        pairs = prompts.answer_messages("zero-shot", result["question"], chunks, lang)
        roles = {"system": "system", "human": "user"}
        messages = [{"role": roles[r], "content": t} for r, t in pairs]
        bare_llm.reset()  # cold cache: measures the full prompt rate
        bare = _bare(bare_llm, messages)
        stamps = bare["stamps"]
        bare_gen = (len(stamps) - 1) / (stamps[-1] - stamps[0])
        prompt_rate = run_["prompt_tokens"] / bare["ttft"]
        expected = (
            result["timings"]["retrieval_s"]
            + result["timings"]["condense_s"]
            + run_["prompt_tokens"] / prompt_rate
        )
        timings.append(
            {
                "question": result["question"],
                "prompt_tokens": run_["prompt_tokens"],
                "output_tokens": run_["output_tokens"],
                "chain_gen_tok_s": run_["gen_tok_s"],
                "bare_gen_tok_s": bare_gen,
                "gen_ratio": run_["gen_tok_s"] / bare_gen,
                "bare_prompt_tok_s": prompt_rate,
                "chain_ttft_s": result["timings"]["first_token_s"],
                "expected_ttft_s": expected,
                "ttft_ratio": result["timings"]["first_token_s"] / expected,
                "retrieval_s": result["timings"]["retrieval_s"],
            }
        )
    return {"runs": timings}
