"""Know when not to answer: an evidence check before generation, a support check after.

- Evidence (before the model is asked): the question's names (GPT-3, Mistral-7B, …) must
  occur in some retrieved chunk, and the best chunk must be close enough (dense cosine
  similarity) or cover enough of the question's keywords. Otherwise nothing relevant was
  found and the model is not asked at all.
- Support (after, measured in `app.verification`): every number, Latin name and quoted
  term of the answer must occur in the retrieved chunks — compared after NFKC (full-width
  → half-width), Chinese numerals → Arabic (cn2an) and 万/亿 expanded —, what is kept
  must say more than the question, and enough of its words must be found in the chunks.
  Small models invent figures and restate the question; this catches them.

Thresholds are settings (ZHIKU_ABSTAIN_*), chosen from `python -m bench abstention`.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

from langchain_core.documents import Document

# Question words and particles that say nothing about the topic.
_STOPWORD_TEXT = (
    "什么 哪 哪个 哪些 哪儿 哪里 多少 几 几个 怎么 怎样 如何 为什么 为何 是 的 了 吗 呢 吧 啊 有 "
    "和 与 及 或 在 对 把 被 给 用 都 也 就 还 又 这 那 这个 那个 这种 那种 其 它 他 她 们 "
    "是否 能否 可以 能 会 要 说 讲 提到 里 中 上 下 时 时候 之 以 而 则 请 问 一个 一种 到底 "
    "具体 主要 大概 大约 分别 哪一 何 谁 是谁 什么样 多 多大 多长 有何 叫 叫做 称为 被称为"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
# GPT-3.5, LLaMA-2, C++ — a dot joins only digits, so "feature.2" (a list run on) is not one.
_LATIN_NAME = re.compile(r"[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*(?:[-+][A-Za-z0-9]+|(?<=\d)\.\d+)*")
_CJK = re.compile(r"[\u4e00-\u9fff]")
QUOTED_TERM = re.compile(r"[“\"「『《]([^”\"」』》]{1,40})[”\"」』》]")
# 一 inside common words that do not mean "one" (cn2an would turn 一共 into 1共).
_WORD_ONE = re.compile(r"一(?=[共起样些般直定旦致切下点同再边])|(?<=[统唯之])一")
_KEEP = "\ue000"  # a private-use character holds their place while cn2an runs
_SCALED = re.compile(r"(\d+(?:\.\d+)?)\s*([万亿])")


@dataclass(frozen=True)
class AbstentionConfig:
    enabled: bool = True
    min_dense: float = 0.0
    min_coverage: float = 0.0
    min_support: float = 0.0
    min_novelty: float = 0.0
    check_facts: bool = True

    @classmethod
    def from_settings(cls, settings) -> AbstentionConfig:
        return cls(
            enabled=settings.abstain,
            min_dense=settings.abstain_min_dense,
            min_coverage=settings.abstain_min_coverage,
            min_support=settings.abstain_min_support,
            min_novelty=settings.abstain_min_novelty,
            check_facts=settings.abstain_check_facts,
        )


@dataclass
class Decision:
    """What the checks measured and, if the answer is withheld, which signal decided."""

    signal: str | None = None  # "evidence", "support", "model" (it refused itself) or None
    scores: dict = field(default_factory=dict)

    @property
    def abstained(self) -> bool:
        return self.signal is not None

    def as_dict(self) -> dict:
        return {"abstained": self.abstained, "signal": self.signal, "scores": self.scores}


# --- normalisation ---------------------------------------------------------------
def normalise(text: str) -> str:
    """NFKC, lower case, Chinese numerals as Arabic, 1.17亿 → 117000000, no digit commas."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cn2an warns about every part it cannot parse
        import cn2an

        text = _WORD_ONE.sub(_KEEP, text)  # 一共, 统一: words, not the number 1
        with contextlib.suppress(Exception):  # a numeral it cannot parse: text unchanged
            text = cn2an.transform(text, "cn2an")
        text = text.replace(_KEEP, "一")

    def expand(match: re.Match) -> str:
        value = float(match.group(1)) * (10_000 if match.group(2) == "万" else 100_000_000)
        return f"{value:.0f}"

    return _SCALED.sub(expand, text)


def squash(name: str) -> str:
    """LLaMA-2, llama 2 and Llama2 compare equal."""
    return re.sub(r"[\s\-_.]", "", name.lower())


def names(text: str, strict: bool = False) -> list[str]:
    """Latin tokens that look like names: GPT-3, LLaMA, TPU, ChatGPT (not plain words).

    `strict` (for English answers, where markdown breaks sentence detection) keeps only
    tokens with a digit or an inner capital; otherwise a capitalised word inside a
    sentence, or in Chinese text, is a name too (Meta, Pathways).
    """
    found: list[str] = []
    chinese = bool(_CJK.search(text))  # in Chinese text any capitalised word is a name
    joinable_end = -1  # where the last capitalised word ended: "Code Llama" is one name
    for match in _LATIN_NAME.finditer(text):
        token = match.group(0)
        inner_upper = any(c.isupper() for c in token[1:])
        if any(c.isdigit() for c in token) or inner_upper:
            found.append(token)
            joinable_end = -1
        elif token[0].isupper() and len(token) > 2 and not strict:
            before = text[: match.start()].rstrip()
            if match.start() == joinable_end + 1 and text[joinable_end] == " ":
                found[-1] += " " + token  # Project December, Harrison Chase
            elif chinese or (before and before[-1] not in ".?!。？！\n"):
                found.append(token)  # capitalised inside a sentence: Meta, Pathways
            else:
                continue
            joinable_end = match.end()
    return found


def keywords(question: str) -> list[str]:
    import jieba

    jieba.setLogLevel(60)
    words = [w.strip() for w in jieba.lcut(normalise(question))]
    return [w for w in words if w and re.search(r"\w", w) and w not in _STOPWORDS]


def word_support(answer: str, contexts: Sequence[str]) -> float:
    """Share of the answer's words (jieba; citation markers dropped) found in the contexts."""
    import jieba

    jieba.setLogLevel(60)
    text = normalise(re.sub(r"\[\d+\]", " ", answer))
    words = [w for w in jieba.lcut(text) if w.strip() and re.search(r"\w", w)]
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


def evidence_says_abstain(scores: dict, config: AbstentionConfig) -> bool:
    if scores["missing_names"]:
        return True
    return scores["dense_top"] < config.min_dense and scores["coverage"] < config.min_coverage


_NOTHING_FOUND = re.compile(
    r"(没有|并未|未|均未|都没有|无)(任何)?(段落|资料|材料|内容)?[^。]{0,8}(包含|提到|提及|涉及|给出|说明)[^。]{0,6}(答案|信息)?|"
    r"\bnone of the passages\b|\bno passage\b|do(?:es)? not (?:contain|mention|say)",
    re.IGNORECASE,
)


def reasoning_finds_nothing(reasoning: str) -> bool:
    """Chain of thought: the reasoning itself concluded that no passage answers."""
    return bool(reasoning) and bool(_NOTHING_FOUND.search(reasoning))


def support_says_abstain(scores: dict, config: AbstentionConfig) -> bool:
    """Scores from `app.verification.verify`: withhold when not even the first sentence
    is verified, when a figure was asked for and none is given, when what is left
    restates the question, or when too few of its words are found in the chunks."""
    if config.check_facts and scores["sentences"] and not scores["verified"]:
        return True
    if config.check_facts and scores.get("figure_missing"):
        return True
    if scores["novelty"] < config.min_novelty:
        return True
    return scores["support"] is not None and scores["support"] < config.min_support
