"""Text rules every layer shares: what a Chinese character is, how text is tokenised and
normalised, what a citation marker looks like, and how to tell that a text says "the
documents do not answer this".

One definition each, so that BM25, the prompts, the checks after generation and the
evaluation agree: an answer whose markers `citations` reads as [1, 2] is stripped of
the same markers before its words are checked or scored.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
import warnings
from collections.abc import Iterable
from typing import Literal

# --- characters ----------------------------------------------------------------------
# CJK Unified Ideographs, Extension A and the compatibility block.
HAN_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
HAN = re.compile(f"[{HAN_RANGES}]")
# CMRC2018's official evaluation script counts only U+4E00–U+9FA5 as Chinese; EM and F1
# use exactly its definition so the figures compare with published ones.
CMRC_HAN = re.compile(r"[\u4e00-\u9fa5]")


def has_han(text: str) -> bool:
    return bool(HAN.search(text))


def detect_language(text: str) -> Literal["zh", "en"]:
    """ "zh" if the text has any Han characters, else "en"."""
    return "zh" if has_han(text) else "en"


# --- tokens -----------------------------------------------------------------------
_WORD = re.compile(rf"[a-z0-9]+(?:[.\-+_][a-z0-9]+)*|[{HAN_RANGES}]+")


def tokenize(text: str) -> list[str]:
    """Unigrams and bigrams of Chinese runs, whole lower-cased Latin/digit words (after NFKC,
    so full-width "ＧＰＴ－１" and "GPT-1" match). The BM25 index and any overlap between
    two texts use these tokens."""
    tokens: list[str] = []
    for match in _WORD.finditer(unicodedata.normalize("NFKC", text).lower()):
        run = match.group()
        if run[0].isascii():
            tokens.append(run)
        else:
            tokens.extend(run)
            tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
    return tokens


def jieba_words(text: str) -> list[str]:
    """Words by jieba (quietly), with spaces and punctuation-only pieces dropped."""
    import jieba

    jieba.setLogLevel(60)
    return [w.strip() for w in jieba.lcut(text) if w.strip() and re.search(r"\w", w)]


# Question words and particles that say nothing about the topic.
_STOPWORD_TEXT = (
    "什么 哪 哪个 哪些 哪儿 哪里 多少 几 几个 怎么 怎样 如何 为什么 为何 是 的 了 吗 呢 吧 啊 有 "
    "和 与 及 或 在 对 把 被 给 用 都 也 就 还 又 这 那 这个 那个 这种 那种 其 它 他 她 们 "
    "是否 能否 可以 能 会 要 说 讲 提到 里 中 上 下 时 时候 之 以 而 则 请 问 一个 一种 到底 "
    "具体 主要 大概 大约 分别 哪一 何 谁 是谁 什么样 多 多大 多长 有何 叫 叫做 称为 被称为"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def keywords(question: str) -> list[str]:
    """The question's content words (jieba, after `normalise`), question words dropped."""
    return [w for w in jieba_words(normalise(question)) if w not in _STOPWORDS]


# --- normalisation ----------------------------------------------------------------
# 一 inside common words that do not mean "one" (cn2an would turn 一共 into 1共), and as
# the indefinite article (一种, 一个, 一步一步): an answer's "一种索引" states no figure.
_WORD_ONE = re.compile(r"一(?=[共起样些般直定旦致切下点同再边种类个份部步])|(?<=[统唯之])一")
_KEEP = "\ue000"  # a private-use character holds their place while cn2an runs
_SCALED = re.compile(r"(\d+(?:\.\d+)?)\s*([万亿])")


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


# --- names and quoted terms ----------------------------------------------------------
# GPT-3.5, LLaMA-2, C++ — a dot joins only digits, so "feature.2" (a list run on) is not one.
_LATIN_NAME = re.compile(r"[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*(?:[-+][A-Za-z0-9]+|(?<=\d)\.\d+)*")
QUOTED_TERM = re.compile(r"[“\"「『《]([^”\"」』》]{1,40})[”\"」』》]")


def names(text: str, strict: bool = False) -> list[str]:
    """Latin tokens that look like names: GPT-3, LLaMA, TPU, ChatGPT (not plain words).

    `strict` (for English answers, where markdown breaks sentence detection) keeps only
    tokens with a digit or an inner capital; otherwise a capitalised word inside a
    sentence, or in Chinese text, is a name too (Meta, Pathways).
    """
    found: list[str] = []
    chinese = has_han(text)  # in Chinese text any capitalised word is a name
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


# --- citation markers ----------------------------------------------------------------
# [1], [1, 2], [1，2、3], 【3】: what the prompts ask for and what small models write.
CITATION_MARKER = re.compile(r"[\[【]\s*(\d{1,2}(?:\s*[,，、]\s*\d{1,2})*)\s*[\]】]")
_MARKER_WITH_SPACE = re.compile(r"\s*" + CITATION_MARKER.pattern)


def cited_numbers(answer: str) -> list[int]:
    """[1], [1, 2], 【3】 → 1, 2, 3 in order of first appearance."""
    seen: list[int] = []
    for match in CITATION_MARKER.finditer(answer):
        for part in re.split(r"[,，、]", match.group(1)):
            n = int(part)
            if n not in seen:
                seen.append(n)
    return seen


def strip_citations(text: str, replacement: str = "") -> str:
    """The text without its citation markers (and the space before each)."""
    return _MARKER_WITH_SPACE.sub(replacement, text)


# --- "the documents do not answer this" --------------------------------------------
REFUSAL = re.compile(
    r"没有找到|未找到|找不到|没有提到|未提及|没有提及|无法回答|无法确定|不包含|没有相关|"
    r"could not find|couldn't find|cannot find|can't find|not (?:mentioned|found|contain)|"
    r"no information|does not (?:say|mention|contain)",
    re.IGNORECASE,
)
# Chain-of-thought reasoning that concluded no passage answers ("没有段落提到…").
NOTHING_FOUND = re.compile(
    r"(没有|并未|未|均未|都没有|无)(任何)?(段落|资料|材料|内容)?[^。]{0,8}(包含|提到|提及|涉及|给出|说明)[^。]{0,6}(答案|信息)?|"
    r"\bnone of the passages\b|\bno passage\b|do(?:es)? not (?:contain|mention|say)",
    re.IGNORECASE,
)


def is_refusal(answer: str, refusal_sentences: Iterable[str] = (), phrases: bool = True) -> bool:
    """The answer says the documents do not answer: empty, one of the prompts' refusal
    sentences (end mark ignored), or — with `phrases` — a phrase such as 没有找到 / not
    mentioned. The chain passes `phrases=False`: "X 不包含解码器" is an answer, and only
    the sentence the prompt asks for marks the model's own refusal; evaluation counts
    every phrase, since a shown answer that says "not found" answers nothing."""
    if not answer.strip():
        return True
    if any(s.rstrip("。.") in answer for s in refusal_sentences if s.strip()):
        return True
    return phrases and bool(REFUSAL.search(answer))


def reasoning_finds_nothing(reasoning: str) -> bool:
    """Chain of thought: the reasoning itself concluded that no passage answers."""
    return bool(reasoning) and bool(NOTHING_FOUND.search(reasoning))


# --- showing text that must not render ---------------------------------------------------
# Everything Markdown (and Streamlit's :color[...] / $math$ extensions) gives meaning to.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def escape_markdown(text: str) -> str:
    """Backslash-escape (CommonMark: any ASCII punctuation) so Markdown shows the
    characters literally: a file named `![y](http://…) b.txt` is text, not an image the
    reader's browser fetches. Used for document and model text and for every file, folder
    and knowledge-base name the chat or the API puts in Markdown."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text).replace("\n", "  \n")
