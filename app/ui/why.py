"""The "why this answer" panel: the facts a trace records, read from the answer's result.

The same steps the OpenTelemetry spans show (app/tracing.py) — which question was
searched, which chunks each ranking found, what the checks measured and decided, and
what it cost — as plain lines under the answer, so a reader need not run a collector.
"""

from __future__ import annotations

from app.schema import AnswerResult, ContextInfo

SIGNALS = {
    None: "已回答 answered",
    "evidence": "未找到相关资料 nothing relevant retrieved",
    "model": "模型自己拒答 the model declined",
    "reasoning": "推理未找到依据 the reasoning found no passage",
    "support": "回答没有资料支持 the draft is not supported by the passages",
    "selection": "没有选中证据句 no evidence sentence chosen",
}


def why_lines(result: AnswerResult) -> list[str]:
    """Markdown lines (document text already left out) explaining one answer."""
    lines = []  # .get: a saved conversation may hold an older, shorter result
    searched = result.get("standalone_question")
    if searched and searched != result.get("question"):
        lines.append(f"检索用的问题 searched as: {searched}")
    strategy, model = result.get("strategy", "?"), result.get("backend", "?")
    lines.append(f"策略 strategy: {strategy} · 模型 model: {model}")
    lines.extend(_chunk_line(ctx) for ctx in result.get("contexts", []))
    decision = result.get("abstention") or {}
    lines.append(f"判定 decision: {SIGNALS.get(decision.get('signal'), decision.get('signal'))}")
    support = (decision.get("scores") or {}).get("support") or {}
    if isinstance(support, dict) and support.get("support") is not None:
        lines.append(f"资料支持度 word support: {support['support']:.2f}")
    tokens = result.get("tokens") or {}
    if tokens.get("input_tokens"):
        lines.append(
            f"提示 prompt: {tokens['input_tokens']} tokens · "
            f"回答 answer: {tokens.get('output_tokens', 0)} tokens"
        )
    return lines


def _chunk_line(ctx: ContextInfo) -> str:
    """[n] source: each ranking's score, and whether the entity channel brought it."""
    scores = ctx.get("scores") or {}
    parts = [f"{name} {scores[name]:.3f}" for name in ("dense", "bm25", "fused", "rerank")
             if isinstance(scores.get(name), int | float)]  # fmt: skip
    if scores.get("entity"):
        parts.append("实体通道 entity channel")
    return f"[{ctx['n']}] {ctx.get('source') or '?'}: {' · '.join(parts) or '–'}"
