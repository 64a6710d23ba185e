"""`python -m bench grounded-speed`: what the two free speed-ups of the grounded strategy buy.

Three variants answer the same questions over `samples/` with the default model, in
turn question by question (so a slower minute of the machine falls on all of them):

- `shipped`: as zhiku runs — both calls start with the same static system prompt, so
  llama.cpp keeps it evaluated and each call reads only its own part;
- `no-prefix-reuse`: the same chain with the model's KV cache emptied before every call
  (the baseline: every call reads its whole prompt);
- `prompt-lookup`: the shipped chain on a second copy of the model built with llama.cpp's
  prompt-lookup decoding (`LlamaPromptLookupDecoding`), which drafts tokens by copying
  n-grams from the prompt — answers that copy from the quotes could be written faster.

Reported per variant: first useful text (the quotes) and total time per answer, p50,
as a ratio to `shipped`; the share of answers identical to `shipped`'s; peak memory.
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
from pathlib import Path

from app.answering.chain import RagChain, build_rag_chain
from app.evaluation.runner import default_collection, prepare_collection
from app.models.gguf import resolve_model_path
from app.models.local import LocalChat, local_client
from app.settings import REPO_ROOT, get_settings

QUESTIONS = REPO_ROOT / "bench" / "questions" / "samples.jsonl"
# prompt lookup (`--with-prompt-lookup`) crashed llama-cpp-python 0.3.36 on the 2nd
# question here: its logits_all scores buffer overflowed (docs/benchmarks.md, issue 21)
VARIANTS = (
    "shipped",
    "no-prefix-reuse",
    *(("prompt-lookup",) if "--with-prompt-lookup" in sys.argv else ()),
)


def _without_prefix_reuse(chain: RagChain) -> None:
    """Empty the KV cache before every completion: each call reads its whole prompt."""
    client = local_client(chain.model)
    complete = client.create_chat_completion

    def from_scratch(*args, **kwargs):
        client.reset()
        return complete(*args, **kwargs)

    client.create_chat_completion = from_scratch


def _with_prompt_lookup(settings, retriever) -> RagChain:
    """The shipped chain on its own model copy with prompt-lookup decoding."""
    from langchain_community.chat_models import ChatLlamaCpp
    from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

    chain = RagChain(settings, retriever, strategy="grounded", backend="local")
    model = ChatLlamaCpp(
        model_path=str(resolve_model_path(settings)),
        n_ctx=settings.chat_model.llm_context,
        n_threads=settings.chat_model.llm_threads,
        n_batch=512,
        seed=settings.chat_model.llm_seed,
        verbose=False,
        model_kwargs={"draft_model": LlamaPromptLookupDecoding(num_pred_tokens=10)},
    )
    chain.model = model.bind(**LocalChat(settings).sampling_options())
    return chain


def run(limit: int = 8) -> dict:
    settings = get_settings()
    corpus = REPO_ROOT / "samples"
    collection = default_collection(corpus, settings)
    prepare_collection(settings, corpus, collection)
    shipped = build_rag_chain(settings, collection=collection, strategy="grounded")
    plain = build_rag_chain(settings, collection=collection, strategy="grounded")
    # a second process-level model would be the same object (one per file): reuse a
    # fresh chain on the same model for the baseline, patched around each call
    chains = {"shipped": shipped, "no-prefix-reuse": plain, "prompt-lookup": None}
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()[:limit]
    questions = [json.loads(line)["question"] for line in lines]
    timings: dict[str, list[dict]] = {v: [] for v in VARIANTS}
    answers: dict[str, list[str]] = {v: [] for v in VARIANTS}
    if "prompt-lookup" in VARIANTS:
        chains["prompt-lookup"] = _with_prompt_lookup(settings, shipped.retriever)
    client = local_client(shipped.model)
    complete = client.create_chat_completion
    for n, question in enumerate(questions):
        order = VARIANTS[n % len(VARIANTS) :] + VARIANTS[: n % len(VARIANTS)]
        for variant in order:
            if variant == "no-prefix-reuse":
                _without_prefix_reuse(plain)
            result = chains[variant].invoke(question)
            client.create_chat_completion = complete  # undo the patch for the others
            timings[variant].append(result["timings"])
            answers[variant].append(result["answer"])
    return _summary(questions, timings, answers)


def _summary(questions: list[str], timings: dict, answers: dict) -> dict:
    def p50(variant: str, key: str) -> float:
        return round(statistics.median(t[key] for t in timings[variant]), 2)

    base_text, base_total = p50("shipped", "first_text_s"), p50("shipped", "total_s")
    rows = []
    for variant in VARIANTS:
        same = sum(a == b for a, b in zip(answers[variant], answers["shipped"], strict=True))
        rows.append(
            {
                "variant": variant,
                "first_text_p50_s": p50(variant, "first_text_s"),
                "total_p50_s": p50(variant, "total_s"),
                "first_text_ratio": round(p50(variant, "first_text_s") / base_text, 2),
                "total_ratio": round(p50(variant, "total_s") / base_total, 2),
                "same_answer_as_shipped": f"{same}/{len(questions)}",
            }
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"questions": len(questions), "rows": rows, "peak_rss_mb": round(peak_mb)}


def report(result: dict) -> list[str]:
    lines = [
        "",
        f"| grounded, {result['questions']} samples questions | first text p50 s | ratio | "
        "total p50 s | ratio | same answer as shipped |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['variant']} | {r['first_text_p50_s']} | {r['first_text_ratio']}× | "
        f"{r['total_p50_s']} | {r['total_ratio']}× | {r['same_answer_as_shipped']} |"
        for r in result["rows"]
    ]
    return [*lines, f"peak RSS {result['peak_rss_mb']} MB"]


def write(result: dict, results: Path) -> None:
    (results / "grounded_speed.json").write_text(json.dumps(result, indent=2))
