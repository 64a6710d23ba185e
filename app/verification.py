"""After generation: check the answer, sentence by sentence, against the retrieved chunks.

A 0.5B model answers a question the documents do not answer by restating the question,
by inventing a figure, or by attaching a name from one passage to the subject of another
("Alpaca 是由 Google 开发的"). So a sentence is verified when every fact in it — number,
Latin name, quoted term — either comes from the question or occurs in a chunk that also
mentions what the question is about (its names and quoted terms). Verification stops at
the first sentence that fails: what came before is kept (small models tend to drift
into invention after a correct start), and if nothing is left, or what is left only
restates the question, the answer is withheld.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.abstention import (
    _QUOTED,
    _squash,
    keywords,
    names,
    normalise,
    word_support,
)

_ENTITY = re.compile(r"[A-Z][a-z]{2,}")
_NUMBER = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?![\d])")
_CITATION = re.compile(r"\s*\[\d+\]")
# "1. **Self attention**", "2、词典": list numbering is not a fact.
_LIST_MARKER = re.compile(
    r"(?:^|(?<=[\s:：。.！？!?*]))\d{1,2}[.、)](?=[\s*]|[\u4e00-\u9fff]|$)", re.MULTILINE
)
_SENTENCE = re.compile(r".*?(?:[。！？!?；;]+|\.(?=\s)|\n+|$)")
# Words that carry no answer: what an answer says about itself and its sources.
_FILLER_TEXT = (
    "根据 资料 材料 文中 原文 文章 内容 信息 答案 如下 以下 提供 所述 显示 来说 总结 因此 所以 "
    "according article articles information provided passage passages context text based "
    "answer the a an is are was were be been of to in on for and or by with that this it as "
    "its from at which what who how many much does do did"
)
_FILLER = frozenset(_FILLER_TEXT.split())


@dataclass
class Verification:
    """Scores for the decision, and the answer cut to its verified sentences."""

    scores: dict = field(default_factory=dict)
    kept: str = ""

    @property
    def trimmed(self) -> bool:
        """Some sentences were verified and a later one was not: only those are kept."""
        return 0 < self.scores["verified"] < self.scores["sentences"]


def facts(text: str) -> list[str]:
    """Numbers (normalised), Latin names and quoted terms a sentence asserts."""
    plain = _LIST_MARKER.sub(" ", _CITATION.sub(" ", text))
    found = sorted(set(_NUMBER.findall(normalise(plain))))
    found += names(plain, strict=not re.search(r"[\u4e00-\u9fff]", plain))
    found += _QUOTED.findall(plain)
    return found


def sentences(text: str) -> list[str]:
    """Sentences with their end marks and line breaks: "".join(sentences(t)) == t."""
    return [m.group(0) for m in _SENTENCE.finditer(text) if m.group(0)]


def novelty(question: str, answer: str) -> float:
    """Share of the answer's content words that are not in the question (0 = an echo)."""
    asked = normalise(question)
    words = [w for w in keywords(_CITATION.sub(" ", answer)) if w not in _FILLER]
    if not words:
        return 0.0
    return sum(w not in asked for w in words) / len(words)


def verify(question: str, answer: str, contexts: Sequence[str], lang: str) -> Verification:
    asked = normalise(question)
    asked_squashed = _squash(asked)
    chunks = [normalise(c) for c in contexts]
    anchors = [_squash(a) for a in names(question) + _QUOTED.findall(question)]
    anchored = [c for c in chunks if not anchors or any(a in _squash(c) for a in anchors)]
    # Without any chunk naming the subject, facts are checked against all chunks.
    subject_chunks = anchored or chunks

    def supported(fact: str) -> bool:
        value = normalise(fact)
        if _NUMBER.fullmatch(value):
            pattern = re.compile(rf"(?<![\d.]){re.escape(value)}(?![\d])")
            return bool(pattern.search(asked)) or any(pattern.search(c) for c in chunks)
        # Who/which-organisation answers: an entity name (Google, Meta) must be found next
        # to the subject. Figures and technical tokens (33K, W_y) are often stated in a
        # passage that leaves the subject implicit, so they only need to be found at all.
        where = subject_chunks if _ENTITY.fullmatch(fact) else chunks
        squashed = _squash(value)
        return squashed in asked_squashed or any(squashed in _squash(c) for c in where)

    parts = sentences(answer)
    verified, unsupported = 0, []
    for sentence in parts:
        if not sentence.strip():
            verified += 1
            continue
        unsupported = [f for f in facts(sentence) if not supported(f)]
        if unsupported:
            break
        verified += 1
    kept = "".join(parts[:verified]).strip() if unsupported else answer.strip()
    share = word_support(kept, contexts) if lang == "zh" and kept else None
    return Verification(
        scores={
            "support": None if share is None else round(share, 4),
            "unsupported": unsupported,
            "sentences": len(parts),
            "verified": verified,
            "novelty": round(novelty(question, kept), 4) if kept else 0.0,
        },
        kept=kept,
    )
