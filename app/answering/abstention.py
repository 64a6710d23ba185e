"""Know when not to answer: an evidence check before generation, a support check after.

- Evidence (before the model is asked): the question's names (GPT-3, Mistral-7B, …) must
  occur in some retrieved chunk, and the best chunk must be close enough (dense cosine
  similarity) or cover enough of the question's keywords. Otherwise nothing relevant was
  found and the model is not asked at all.
- Support (after, measured in `app.answering.verification`): every number, Latin name and quoted
  term of the answer must occur in the retrieved chunks — compared after NFKC (full-width
  → half-width), Chinese numerals → Arabic (cn2an) and 万/亿 expanded —, what is kept
  must say more than the question, and enough of its words must be found in the chunks.
  Small models invent figures and restate the question; this catches them.

Thresholds are settings (ZHIKU_ABSTAIN_*), chosen from `python -m bench abstention`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from langchain_core.documents import Document

from app.schema import AbstentionInfo
from app.settings import AbstentionSettings
from app.text import (
    jieba_words,
    keywords,
    names,
    normalise,
    reasoning_finds_nothing,
    squash,
    strip_citations,
)

Signal = Literal["evidence", "model", "reasoning", "support", "selection"]


@dataclass
class Decision:
    """What the checks measured and, if the answer is not given, which signal decided."""

    signal: Signal | None = None
    scores: dict = field(default_factory=dict)

    @property
    def abstained(self) -> bool:
        """No answer from the documents: withheld, or the model refused by itself."""
        return self.signal is not None

    @property
    def withholds(self) -> bool:
        """zhiku withholds the draft (the model's own refusal is shown as it is)."""
        return self.signal not in (None, "model")

    def as_dict(self) -> AbstentionInfo:
        return AbstentionInfo(abstained=self.abstained, signal=self.signal, scores=self.scores)


def decide(
    config: AbstentionSettings,
    evidence: dict,
    *,
    has_context: bool,
    support: dict | None = None,
    refused: bool = False,
    reasoning: str = "",
) -> Decision:
    """Whether to answer, from the scores alone (pure: the chain and the bench call it).

    Before generation pass `evidence` only (`support=None`); after it, the verification
    `support` scores, whether the model `refused` itself, and the CoT `reasoning`.
    """
    scores = (
        {"evidence": evidence} if support is None else {"evidence": evidence, "support": support}
    )
    if config.abstain and (not has_context or evidence_says_abstain(evidence, config)):
        return Decision("evidence", scores)
    if support is None:
        return Decision(None, scores)
    if refused:
        return Decision("model", scores)
    if config.abstain and reasoning_finds_nothing(reasoning):
        return Decision("reasoning", scores)
    if config.abstain and support_says_abstain(support, config):
        return Decision("support", scores)
    return Decision(None, scores)


def word_support(answer: str, contexts: Sequence[str]) -> float:
    """Share of the answer's words (jieba; citation markers dropped) found in the contexts."""
    words = jieba_words(normalise(strip_citations(answer, " ")))
    if not words:
        return 0.0
    context = normalise("\n".join(contexts))
    return sum(w in context for w in words) / len(words)


# --- the two checks ------------------------------------------------------------
def evidence_scores(question: str, docs: Sequence[Document]) -> dict:
    texts = [normalise(d.page_content) for d in docs]
    squashed = [squash(t) for t in texts]
    missing = [n for n in names(question) if not any(squash(n) in s for s in squashed)]
    words = keywords(question)
    total = sum(len(w) for w in words) or 1
    coverage = max((sum(len(w) for w in words if w in t) / total for t in texts), default=0.0)
    dense = [d.metadata.get("scores", {}).get("dense") for d in docs]
    return {
        "dense_top": max((s for s in dense if s is not None), default=0.0),
        "coverage": round(coverage, 4),
        "missing_names": missing,
    }


def evidence_says_abstain(scores: dict, config: AbstentionSettings) -> bool:
    if config.abstain_check_names and scores["missing_names"]:
        return True
    return (
        scores["dense_top"] < config.abstain_min_dense
        and scores["coverage"] < config.abstain_min_coverage
    )


def support_says_abstain(scores: dict, config: AbstentionSettings) -> bool:
    """Scores from `app.answering.verification.verify`: withhold when not even the first sentence
    is verified, when a figure was asked for and none is given, when what is left
    restates the question, or when too few of its words are found in the chunks."""
    if config.abstain_check_facts and scores["sentences"] and not scores["verified"]:
        return True
    if config.abstain_check_facts and scores.get("figure_missing"):
        return True
    if scores["novelty"] < config.abstain_min_novelty:
        return True
    return scores["support"] is not None and scores["support"] < config.abstain_min_support
