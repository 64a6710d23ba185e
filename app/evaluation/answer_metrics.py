"""Answer metrics: CMRC2018's EM/F1, ROUGE-L, BLEU, refusals, faithfulness, citations.

EM and F1 reproduce the official `cmrc2018_evaluate.py` (github.com/ymcui/cmrc2018):
lower-case, its punctuation list removed, Chinese characters as single tokens, other
runs tokenised as words, F1 from the longest common *substring* of the token lists,
best over the reference answers. The script calls `nltk.word_tokenize`, which needs
the `punkt` data (a download, impossible here); `_word_tokenize` is a regex that gives
the same tokens for the numbers, words and punctuation these answers contain.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from app.text import CMRC_HAN, is_refusal, strip_citations

# The official script's punctuation list, verbatim.
CMRC_PUNCTUATION = frozenset(
    ["-", ":", "_", "*", "^", "/", "\\", "~", "`", "+", "=", "，", "。", "：", "？", "！", "“",
     "”", "；", "’", "《", "》", "……", "·", "、", "「", "」", "（", "）", "－", "～", "『", "』"]
)  # fmt: skip
_WORD = re.compile(r"\d+(?:[.,]\d+)+|\w+(?:'\w+)?|[^\w\s]")


def _word_tokenize(text: str) -> list[str]:
    return _WORD.findall(text)


def mixed_segmentation(text: str, remove_punctuation: bool = False) -> list[str]:
    """Chinese characters one by one, everything else as words (the official script)."""
    tokens: list[str] = []
    pending = ""
    for char in str(text).lower().strip():
        if remove_punctuation and char in CMRC_PUNCTUATION:
            continue
        if CMRC_HAN.match(char) or char in CMRC_PUNCTUATION:
            if pending:
                tokens.extend(_word_tokenize(pending))
                pending = ""
            tokens.append(char)
        else:
            pending += char
    if pending:
        tokens.extend(_word_tokenize(pending))
    return tokens


def _strip_punctuation(text: str) -> str:
    return "".join(c for c in str(text).lower().strip() if c not in CMRC_PUNCTUATION)


def _longest_common_substring(a: Sequence[str], b: Sequence[str]) -> int:
    best = 0
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0] * (len(b) + 1)
        for j, y in enumerate(b, start=1):
            if x == y:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


def exact_match(prediction: str, answers: Sequence[str]) -> float:
    clean = _strip_punctuation(prediction)
    return 1.0 if any(_strip_punctuation(a) == clean for a in answers) else 0.0


def f1(prediction: str, answers: Sequence[str]) -> float:
    predicted = mixed_segmentation(prediction, remove_punctuation=True)
    scores = [0.0]
    for answer in answers:
        reference = mixed_segmentation(answer, remove_punctuation=True)
        common = _longest_common_substring(reference, predicted)
        if common:
            precision, recall = common / len(predicted), common / len(reference)
            scores.append(2 * precision * recall / (precision + recall))
    return max(scores)


class _MixedTokenizer:
    """rouge-score's default tokenizer drops every non-ASCII character; this keeps
    Chinese characters as tokens (ROUGE over characters, Latin words whole)."""

    def tokenize(self, text: str) -> list[str]:
        return mixed_segmentation(text, remove_punctuation=True)


@lru_cache(maxsize=1)
def _rouge():
    from rouge_score.rouge_scorer import RougeScorer

    return RougeScorer(["rougeL"], tokenizer=_MixedTokenizer())


def rouge_l(prediction: str, answers: Sequence[str]) -> float:
    """ROUGE-L F-measure over characters (Chinese) and words (Latin), best reference."""
    if not answers:
        return 0.0
    return max(_rouge().score(a, prediction)["rougeL"].fmeasure for a in answers)


def sentence_bleu(prediction: str, answers: Sequence[str]) -> float:
    """One answer's BLEU (sacrebleu, zh tokenizer, smoothed), scaled to 0–1."""
    import sacrebleu

    return sacrebleu.sentence_bleu(prediction, list(answers), tokenize="zh").score / 100


def corpus_bleu(predictions: Sequence[str], answers: Sequence[Sequence[str]]) -> float:
    """Corpus BLEU (sacrebleu, zh tokenizer) over all answers, scaled to 0–1.

    sacrebleu wants the same number of references per answer: shorter lists are padded
    by repeating their first reference, which changes neither clipped counts nor the
    closest reference length.
    """
    import sacrebleu

    if not predictions:
        return 0.0
    width = max(len(refs) for refs in answers)
    streams = [[refs[min(i, len(refs) - 1)] for refs in answers] for i in range(width)]
    return sacrebleu.corpus_bleu(list(predictions), streams, tokenize="zh").score / 100


# --- correctness: key facts and reference spans (shared/eval/README.md) -------------
def fact_normalise(text: str) -> str:
    """NFKC, lower case, no whitespace, no thousands separators, no citation markers."""
    text = unicodedata.normalize("NFKC", strip_citations(str(text))).lower()
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    return re.sub(r"\s+", "", text)


def fact_recall(answer: str, facts: Sequence[Sequence[str]]) -> float | None:
    """Share of the key facts the answer states (a fact: any of its surface forms)."""
    if not facts:
        return None
    said = fact_normalise(answer)
    return sum(any(fact_normalise(form) in said for form in forms) for forms in facts) / len(facts)


def span_normalise(text: str) -> str:
    """`fact_normalise`, then CMRC's punctuation removed: a span "展示泰国的机车及车厢。"
    is contained in "…用来展示泰国的机车及车厢的。" as the official scorer would see it."""
    return "".join(c for c in fact_normalise(text) if c not in CMRC_PUNCTUATION)


def contains_reference(answer: str, references: Sequence[str]) -> bool:
    """The answer contains one of the reference spans (generative-QA accuracy: RGB, PopQA),
    compared as CMRC2018's scorer compares answers (no spaces, no punctuation)."""
    said = span_normalise(answer)
    return any(span_normalise(r) and span_normalise(r) in said for r in references)


def is_correct(answer: str, references: Sequence[str], facts: Sequence[Sequence[str]]) -> bool:
    """Every key fact stated when the question has facts, else a reference span contained;
    a refusal is never correct."""
    if is_refusal(answer):
        return False
    if facts:
        return fact_recall(answer, facts) == 1.0
    return contains_reference(answer, references)


def faithfulness(answer: str, contexts: Sequence[str]) -> float:
    """Share of the answer's words found in the retrieved chunks: the same measure the
    chain's support check uses (jieba words, numbers and full-width forms normalised)."""
    from app.answering.abstention import word_support

    return word_support(answer, contexts)


def citation_accuracy(cited_sources: Sequence[str], gold_sources: Sequence[str]) -> float | None:
    """Share of cited chunks that come from a gold source (None: nothing cited)."""
    if not cited_sources:
        return None
    gold = set(gold_sources)
    return sum(s in gold for s in cited_sources) / len(cited_sources)
