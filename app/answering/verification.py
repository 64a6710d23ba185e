"""After generation: check the answer, sentence by sentence, against the retrieved chunks.

A 0.5B model answers a question the documents do not answer by restating the question,
by inventing a figure, or by attaching a name from one passage to the subject of another
("Alpaca 是由 Google 开发的"). So a sentence is verified when every fact in it — number,
Latin name, quoted term — either comes from the question or occurs in a chunk that also
mentions what the question is about (its names and quoted terms). Verification stops at
the first sentence that fails: what came before is kept (small models tend to drift
into invention after a correct start), and if nothing is left, or what is left only
restates the question, or the question asked for a figure and none is left, the answer is
withheld.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.answering.abstention import word_support
from app.text import (
    HAN_RANGES,
    QUOTED_TERM,
    has_han,
    keywords,
    names,
    normalise,
    squash,
    strip_citations,
)

_ENTITY = re.compile(r"[A-Z][a-z]{2,}(?: [A-Z][a-z]{2,})*")
_NUMBER = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?![\d])")
# "1. **Self attention**", "2、词典": list numbering is not a fact.
_LIST_MARKER = re.compile(
    rf"(?:^|(?<=[\s:：。.！？!?*]))\d{{1,2}}[.、)](?=[\s*]|[{HAN_RANGES}]|$)", re.MULTILINE
)
# A question that asks for a figure: 多少, 多长, 几层 (not 这几种 / 哪几个), how many.
_ASKS_FIGURE = re.compile(
    r"多少|多长|多大|多久|多高|哪一?年|(?<![这那哪前后好])几[个层年次种位倍天月块张条项步]|"
    r"\bhow (?:many|much|long|large|big)\b|\bwhat year\b",
    re.IGNORECASE,
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


def _plain(text: str) -> str:
    """Without citation markers and list numbering."""
    return _LIST_MARKER.sub(" ", strip_citations(text, " "))


def facts(text: str) -> list[str]:
    """Numbers (normalised), Latin names and quoted terms a sentence asserts."""
    plain = _plain(text)
    found = sorted(set(_NUMBER.findall(normalise(plain))))
    found += names(plain, strict=not has_han(plain))
    found += QUOTED_TERM.findall(plain)
    return found


def sentences(text: str) -> list[str]:
    """Sentences with their end marks and line breaks: "".join(sentences(t)) == t."""
    return [m.group(0) for m in _SENTENCE.finditer(text) if m.group(0)]


def asks_only_for_a_figure(question: str) -> bool:
    """One question (one ? in it) and it asks for a number: 'GPT-3 有多少参数？'."""
    asks = [part for part in re.split(r"[?？]", question) if part.strip()]
    return len(asks) <= 1 and bool(_ASKS_FIGURE.search(question))


def new_numbers(question: str, answer: str) -> list[str]:
    """Numbers the answer states that the question did not."""
    asked = normalise(question)
    return [
        n
        for n in _NUMBER.findall(normalise(_plain(answer)))
        if not re.search(rf"(?<![\d.]){re.escape(n)}(?![\d])", asked)
    ]


def novelty(question: str, answer: str) -> float:
    """Share of the answer's content words that are not in the question (0 = an echo)."""
    asked = normalise(question)
    words = [w for w in keywords(strip_citations(answer, " ")) if w not in _FILLER]
    if not words:
        return 0.0
    return sum(w not in asked for w in words) / len(words)


def names_subject(question: str, texts: Sequence[str]) -> list[bool]:
    """For each text, whether it names what the question is about (one of its names or
    quoted terms); every text does when the question names nothing."""
    anchors = [squash(a) for a in names(question) + QUOTED_TERM.findall(question)]
    return [not anchors or any(a in squash(normalise(t)) for a in anchors) for t in texts]


def verify(
    question: str,
    answer: str,
    contexts: Sequence[str],
    lang: str,
    sources: Sequence[str] | None = None,
) -> Verification:
    """Check `answer` against the retrieved `contexts` (and their `sources`, file names)."""
    asked = normalise(question)
    asked_squashed = squash(asked)
    chunks = [normalise(c) for c in contexts]
    sources = list(sources) if sources is not None else [str(n) for n in range(len(chunks))]
    naming = names_subject(question, chunks)
    # Without any chunk naming the subject, facts are checked against all chunks.
    subject_chunks = [c for c, named in zip(chunks, naming, strict=True) if named] or chunks
    # The figure a question asks for must come from a document that names its subject
    # (the passage itself may leave the subject implicit: "约33K个数据" under a ChatGPT
    # heading); a figure from an article about something else answers nothing.
    subject_sources = {s for s, named in zip(sources, naming, strict=True) if named}
    subject_documents = [
        c for c, s in zip(chunks, sources, strict=True) if s in subject_sources
    ] or chunks
    figure_only = asks_only_for_a_figure(question)

    def supported(fact: str) -> bool:
        value = normalise(fact)
        if _NUMBER.fullmatch(value):
            pattern = re.compile(rf"(?<![\d.]){re.escape(value)}(?![\d])")
            pool = subject_documents if figure_only else chunks
            return bool(pattern.search(asked)) or any(pattern.search(c) for c in pool)
        # Who/which-organisation answers: an entity name (Google, Meta) must be found next
        # to the subject. Technical tokens (W_y) are often stated in a passage that
        # leaves the subject implicit, so they only need to be found at all.
        where = subject_chunks if _ENTITY.fullmatch(fact) else chunks
        squashed = squash(value)
        return squashed in asked_squashed or any(squashed in squash(c) for c in where)

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
            # asked for a figure, and what is kept gives none: not an answer
            "figure_missing": figure_only and not new_numbers(question, kept),
        },
        kept=kept,
    )
