"""Pull citations, quotes and the chain-of-thought final answer out of model text."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import cast

from langchain_core.documents import Document

from app.schema import CitationInfo
from app.text import cited_numbers, strip_citations

__all__ = ["Citation", "best_quote", "citations_for", "cited_numbers", "infer_citations"]

_SENTENCE = re.compile(r"[^。！？!?;；\n]+[。！？!?;；]?")


@dataclass
class Citation:
    n: int
    source: str
    page: int | None
    chunk_id: str
    quote: str
    inferred: bool = False  # the model gave no marker; matched by text overlap instead

    def as_dict(self) -> CitationInfo:
        return cast(CitationInfo, asdict(self))


def _bigrams(text: str) -> set[str]:
    text = re.sub(r"\s+", "", text)
    return {text[i : i + 2] for i in range(len(text) - 1)} or {text}


def best_quote(chunk_text: str, answer: str) -> str:
    """The sentence of the chunk that shares most character bigrams with the answer."""
    sentences = [s.strip() for s in _SENTENCE.findall(chunk_text) if s.strip()]
    if not sentences:
        return chunk_text.strip()[:200]
    target = _bigrams(strip_citations(answer))
    return max(sentences, key=lambda s: len(_bigrams(s) & target) / (1 + len(s) / 200))[:300]


def citations_for(answer: str, contexts: list[Document], inferred: bool = False) -> list[Citation]:
    """One citation per valid [n] in the answer; numbers outside the context are dropped."""
    result = []
    for n in cited_numbers(answer):
        if 1 <= n <= len(contexts):
            doc = contexts[n - 1]
            result.append(
                Citation(
                    n=n,
                    source=str(doc.metadata.get("source", "")),
                    page=doc.metadata.get("page"),
                    chunk_id=str(doc.id),
                    quote=best_quote(doc.page_content, answer),
                    inferred=inferred,
                )
            )
    return result


def infer_citations(answer: str, contexts: list[Document], min_overlap: float = 0.5) -> str:
    """Append [n] to answer sentences the model left uncited, when one context clearly
    contains them (at least `min_overlap` of the sentence's character bigrams).

    Small local models often answer correctly but drop the markers; attributing by
    overlap keeps every answer traceable. Returns the answer with markers added.
    """
    if cited_numbers(answer) or not contexts:
        return answer
    context_grams = [_bigrams(doc.page_content) for doc in contexts]
    parts = []
    for sentence in _SENTENCE.findall(answer):
        grams = _bigrams(sentence)
        overlaps = [len(grams & cg) / len(grams) for cg in context_grams]
        best = max(range(len(contexts)), key=overlaps.__getitem__)
        if sentence.strip() and overlaps[best] >= min_overlap:
            body = sentence.rstrip()
            end = body[-1] if body[-1] in "。！？!?;；." else ""
            sentence = f"{body[: len(body) - len(end)]} [{best + 1}]{end}"
        parts.append(sentence)
    return "".join(parts)


def split_reasoning(text: str, markers: list[str]) -> tuple[str, str]:
    """(reasoning, final answer) of a chain-of-thought reply; no marker → all answer."""
    pattern = "|".join(re.escape(m.rstrip(":：")) + r"\s*[:：]" for m in markers)
    found = list(re.finditer(pattern, text, flags=re.IGNORECASE))
    if not found:
        return "", text.strip()
    last = found[-1]
    reasoning = re.sub(
        r"^\s*(推理|Reasoning)\s*[:：]\s*", "", text[: last.start()].strip(), flags=re.IGNORECASE
    )
    return reasoning.strip(), text[last.end() :].strip()
