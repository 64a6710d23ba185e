"""Answer metrics against hand-computed values (CMRC2018's official normalisation)."""

from __future__ import annotations

import math

import pytest

from app.evaluation import answer_metrics as am
from app.evaluation.report import ANSWER_KEYS, RETRIEVAL_KEYS, summarise


def test_mixed_segmentation_splits_chinese_characters_and_keeps_words() -> None:
    assert am.mixed_segmentation("GPT-1有12层, 参数量1.17亿。", remove_punctuation=True) == [
        "gpt1", "有", "12", "层", ",", "参", "数", "量", "1.17", "亿",
    ]  # fmt: skip


def test_exact_match_follows_the_official_script() -> None:
    assert am.exact_match("《12层》。", ["12层"]) == 1.0  # Chinese punctuation removed
    assert am.exact_match("GPT-1", ["gpt1"]) == 1.0  # lower-cased, '-' is in its list
    assert am.exact_match("12 层", ["12层"]) == 0.0  # the script keeps inner spaces for EM
    assert am.exact_match("12层.", ["12层"]) == 0.0  # '.' is not in its list
    assert am.exact_match("十二层", ["无关", "十二层"]) == 1.0  # best over references


def test_f1_uses_the_longest_common_substring_of_mixed_tokens() -> None:
    # ['共','12','层'] vs ['12','层']: common run 2, P = 2/3, R = 1 -> 0.8
    assert am.f1("共12层", ["12层"]) == pytest.approx(0.8)
    # a substring, not a subsequence: ['12','个','层'] vs ['12','层'] share a run of 1
    assert am.f1("12个层", ["12层"]) == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))
    assert am.f1("12 层", ["12层"]) == 1.0  # spaces vanish in tokenisation
    assert am.f1("共12层", ["无关的答案", "12层"]) == pytest.approx(0.8)
    assert am.f1("完全不同", ["12层"]) == 0.0
    # English words stay whole; the final '.' is a token: P = 5/6, R = 1
    english = "Grouped-query attention and sliding-window attention."
    assert am.f1(english, [english.rstrip(".")]) == pytest.approx(2 * (5 / 6) / (5 / 6 + 1))


def test_rouge_l_and_bleu_on_chinese() -> None:
    # subsequence ['12','层'] of ['共','12','层']: P = 2/3, R = 1 -> 0.8
    assert am.rouge_l("共12层", ["12层"]) == pytest.approx(0.8)
    assert am.rouge_l("层12", ["12层"]) == pytest.approx(0.5)
    assert am.sentence_bleu(
        "参数量约为一亿一千七百万", ["参数量约为一亿一千七百万"]
    ) == pytest.approx(1.0)
    assert am.sentence_bleu("完全不同的句子", ["参数量约为一亿"]) < 0.1
    same = am.corpus_bleu(["甲乙丙丁戊", "一二三四五"], [["甲乙丙丁戊"], ["一二三四五", "别的"]])
    assert same == pytest.approx(1.0)


def test_refusals_faithfulness_and_citations() -> None:
    context = ["GPT-1 采用 Transformer 解码器，共 12 层，参数量约 1.17 亿。"]
    assert am.faithfulness("GPT-1 共 12 层[1]。", context) == 1.0
    invented = am.faithfulness("GPT-1 共 48 层，由谷歌发布。", context)
    assert 0 < invented < 0.7
    assert am.citation_accuracy(["a.txt", "b.txt"], ["a.txt"]) == 0.5
    assert am.citation_accuracy([], ["a.txt"]) is None


def test_summary_has_exactly_the_documented_keys() -> None:
    rows = [
        {"id": "1", "answerable": True, "hit@1": 1.0, "hit@3": 1.0, "hit@5": 1.0, "hit@10": 1.0,
         "mrr@10": 1.0, "evidence_hit@5": 1.0, "answer": "12层", "references": ["12层"],
         "refused": False, "em": 1.0, "f1": 1.0, "rouge_l": 1.0, "bleu": 1.0,
         "faithfulness": 1.0, "citation_acc": 1.0, "ppl_context": 2.0, "ppl_no_context": 8.0,
         "retrieval_s": 0.1, "total_s": 3.0},
        {"id": "2", "answerable": True, "hit@1": 0.0, "hit@3": 0.0, "hit@5": 1.0, "hit@10": 1.0,
         "mrr@10": 0.25, "evidence_hit@5": 0.0, "answer": "资料中没有找到答案。",
         "references": ["十二层"], "refused": True, "em": 0.0, "f1": 0.0, "rouge_l": 0.0,
         "bleu": 0.0, "faithfulness": None, "citation_acc": None, "ppl_context": 8.0,
         "ppl_no_context": 32.0, "retrieval_s": 0.3, "total_s": 5.0},
        {"id": "3", "answerable": False, "answer": "资料中没有找到答案。", "references": [],
         "refused": True, "faithfulness": None, "citation_acc": None, "retrieval_s": 0.2,
         "total_s": 4.0},
    ]  # fmt: skip
    summary = summarise(rows)
    assert list(summary) == ["n", "retrieval", "answer", "latency"]
    assert tuple(summary["retrieval"]) == RETRIEVAL_KEYS
    assert tuple(summary["answer"]) == ANSWER_KEYS
    assert summary["n"] == 3
    assert summary["retrieval"]["mrr@10"] == pytest.approx(0.625)
    answer = summary["answer"]
    assert (answer["em"], answer["refusal_acc"], answer["false_refusal"]) == (0.5, 1.0, 0.5)
    assert answer["ppl_context"] == pytest.approx(4.0)  # geometric mean of 2 and 8
    assert answer["ppl_no_context"] == pytest.approx(16.0)
    assert summary["latency"]["total_s"] == {"p50": 4.0, "p95": 5.0}
    assert not math.isnan(answer["faithfulness"])


def test_key_facts_and_reference_spans_after_normalisation() -> None:
    facts = [["5400亿", "540b"], ["7800亿"], ["6144"]]
    answer = "PaLM 有 540B 参数 [1]，用 7800 亿个标记预训练。"  # "7800 亿": space removed
    assert am.fact_recall(answer, facts) == pytest.approx(2 / 3)
    assert am.fact_recall("PaLM 有 540B 参数，7800 亿个标记，6,144 块 TPU。", facts) == 1.0
    assert am.fact_recall("whatever", []) is None
    assert am.is_correct("PaLM：5400亿参数、7800亿token、6144块TPU。", ["…"], facts)
    assert not am.is_correct(answer, ["…"], facts)  # one fact missing is wrong
    assert am.contains_reference("答：GPT-2 的词表有 50,257 个词 [2]。", ["50257"])
    assert not am.contains_reference("词表有 100,257 个词。", ["50257"])
    # CMRC's scorer drops punctuation: a span ending in "。" is still found mid-sentence
    answer = "公园里的火车博物馆是用来展示泰国的机车及车厢的 [1]。"
    assert am.contains_reference(answer, ["展示泰国的机车及车厢。"])
    assert am.contains_reference("面积约为0.304平方公里 [1]。", ["约为0.304平方公里。"])
    assert not am.contains_reference("面积约为3.04平方公里。", ["0.304平方公里"])  # "." stays
    assert am.is_correct("生命数耗完即算踢爆。", ["踢爆"], [])
    assert not am.is_correct("资料中没有找到答案。", ["资料"], [])  # a refusal is never right


def test_precision_coverage_and_correct_drafts_withheld() -> None:
    def row(answerable: bool, refused: bool, correct: bool, draft_correct: bool) -> dict:
        extra = {"correct": correct, "draft_correct": draft_correct, "match": draft_correct,
                 "fact_recall": float(draft_correct)} if answerable else {}  # fmt: skip
        return {"answerable": answerable, "answer": "x", "references": ["x"] if answerable else [],
                "refused": refused, "em": 0.0, "f1": 0.0, "rouge_l": 0.0, "faithfulness": None,
                "citation_acc": None, **extra}  # fmt: skip

    rows = [
        row(True, False, True, True),  # shown, right
        row(True, False, False, False),  # shown, wrong
        row(True, True, False, True),  # a right draft withheld
        row(True, True, False, False),  # a wrong draft withheld: the right call
        row(False, False, False, False),  # an unanswerable question answered: wrong
        row(False, True, False, False),  # an unanswerable question refused
    ]
    answer = summarise(rows)["answer"]
    assert answer["accuracy"] == 0.5  # drafts: 2 of 4 right
    assert answer["coverage"] == 0.25  # shown and right: 1 of 4 answerable
    assert answer["precision"] == pytest.approx(1 / 3, abs=1e-3)  # 1 right of 3 shown
    assert answer["false_refusal_correct"] == 0.5  # 1 of 2 right drafts withheld
    assert answer["refusal_acc"] == 0.5 and answer["match"] == 0.5
