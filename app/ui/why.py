"""The "why this answer" panel: the facts a trace records, read from the answer's result.

The same steps the OpenTelemetry spans show (app/tracing.py) — which question was
searched, which chunks each ranking found, what the checks measured and decided, and
what it cost — as plain lines under the answer, so a reader need not run a collector.
"""

from __future__ import annotations

from app.schema import AnswerResult, ContextInfo
from app.ui.i18n import N_, _

SIGNALS = {
    None: N_("answered"),
    "evidence": N_("nothing relevant retrieved"),
    "model": N_("the model declined"),
    "reasoning": N_("the reasoning found no passage"),
    "support": N_("the draft is not supported by the passages"),
    "selection": N_("no evidence sentence chosen"),
}


def why_lines(result: AnswerResult) -> list[str]:
    """Markdown lines (document text already left out) explaining one answer."""
    lines = []  # .get: a saved conversation may hold an older, shorter result
    searched = result.get("standalone_question")
    if searched and searched != result.get("question"):
        lines.append(_("searched as: {question}", question=searched))
    strategy, model = result.get("strategy", "?"), result.get("backend", "?")
    lines.append(_("strategy: {strategy} · model: {model}", strategy=strategy, model=model))
    lines.extend(_chunk_line(ctx) for ctx in result.get("contexts", []))
    decision = result.get("abstention") or {}
    signal = decision.get("signal")
    shown = _(SIGNALS[signal]) if signal in SIGNALS else str(signal)
    lines.append(_("decision: {decision}", decision=shown))
    support = (decision.get("scores") or {}).get("support") or {}
    if isinstance(support, dict) and support.get("support") is not None:
        lines.append(_("word support: {support}", support=format(support["support"], ".2f")))
    tokens = result.get("tokens") or {}
    if tokens.get("input_tokens"):
        lines.append(
            _(
                "prompt: {prompt} tokens · answer: {answer} tokens",
                prompt=tokens["input_tokens"],
                answer=tokens.get("output_tokens", 0),
            )
        )
    return lines


def _chunk_line(ctx: ContextInfo) -> str:
    """[n] source: each ranking's score, and whether the entity channel brought it."""
    scores = ctx.get("scores") or {}
    parts = [f"{name} {scores[name]:.3f}" for name in ("dense", "bm25", "fused", "rerank")
             if isinstance(scores.get(name), int | float)]  # fmt: skip
    if scores.get("entity"):
        parts.append(_("entity channel"))
    return f"[{ctx['n']}] {ctx.get('source') or '?'}: {' · '.join(parts) or '–'}"
