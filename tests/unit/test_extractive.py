"""The extractive strategy's pure parts: numbering sentences, the grammar, reading the
choice, quoting."""

from __future__ import annotations

from langchain_core.documents import Document

from app.answering import extractive

QA = "• 1.什么是ChatGPT\n• 3. GPT-1模型基本参数?答案:12层、12个head、768维、参数量1.17亿\n"
HISTORY = "ChatGPT于2022年11月30日发布。它很流行！GPT-1采用无监督预训练和有监督微调。"


def test_sentences_are_numbered_across_chunks_without_headings_or_repeats() -> None:
    sentences = extractive.numbered_sentences(
        [Document(QA), Document(HISTORY + QA), Document("   \n")]
    )
    assert [(s.n, s.chunk) for s in sentences] == [(1, 1), (2, 2), (3, 2)]
    # a question line stays with its answer; headings and "它很流行！" are left out
    assert sentences[0].text == "• 3. GPT-1模型基本参数?答案:12层、12个head、768维、参数量1.17亿"
    assert sentences[1].text == "ChatGPT于2022年11月30日发布。"


def test_the_grammar_allows_only_valid_numbers_or_zero() -> None:
    grammar = extractive.choice_grammar(12, 3)
    assert grammar.startswith('root ::= "0" | num ("," num)? ("," num)?')
    assert 'num ::= "12" | "11" |' in grammar and grammar.rstrip().endswith('"1"')


def test_reading_the_choice() -> None:
    assert extractive.parse_choice("3,1,3,99", count=12, max_sentences=3) == [3, 1]
    assert extractive.parse_choice("0", count=12, max_sentences=3) == []
    assert extractive.parse_choice("句子 2 和 5、7、9", count=12, max_sentences=3) == [2, 5, 7]


def test_quotes_are_verbatim_with_their_chunk_markers() -> None:
    sentences = extractive.numbered_sentences([Document(HISTORY)])
    answer = extractive.quote(sentences, "zh")
    assert (
        answer
        == "资料原文：ChatGPT于2022年11月30日发布 [1]。GPT-1采用无监督预训练和有监督微调 [1]。"
    )
    assert (
        extractive.quote(sentences[:1], "en")
        == "From the documents: ChatGPT于2022年11月30日发布 [1]。"
    )
