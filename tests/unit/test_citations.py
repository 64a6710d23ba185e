from langchain_core.documents import Document

from app.answering.citations import best_quote, citations_for, cited_numbers, split_reasoning


def test_cited_numbers_in_all_common_forms() -> None:
    assert cited_numbers("A [2]. B [1, 3]，C【2】 D [1][4]") == [2, 1, 3, 4]
    assert cited_numbers("no markers; 2023 [year]") == []


def test_citations_map_to_contexts_and_quote_the_matching_sentence() -> None:
    contexts = [
        Document(
            id="c1",
            page_content="BERT是编码器。GPT-1有12层，参数量1.17亿。",
            metadata={"source": "a.txt"},
        ),
        Document(id="c2", page_content="第二段。", metadata={"source": "b.pdf", "page": 4}),
    ]
    cites = citations_for("GPT-1的参数量为1.17亿 [1]，另见 [2] 和 [7]。", contexts)
    assert [(c.n, c.source, c.page, c.chunk_id) for c in cites] == [
        (1, "a.txt", None, "c1"),
        (2, "b.pdf", 4, "c2"),
    ]
    assert cites[0].quote == "GPT-1有12层，参数量1.17亿。"
    assert best_quote("", "x") == ""


def test_split_reasoning_takes_the_last_marker() -> None:
    text = "推理：资料[1]说GPT-1有12层。\n最终答案：GPT-1有12层 [1]。"
    assert split_reasoning(text, ["最终答案：", "Final answer:"]) == (
        "资料[1]说GPT-1有12层。",
        "GPT-1有12层 [1]。",
    )
    assert split_reasoning("Reasoning: x\nFINAL ANSWER: y", ["Final answer:"]) == ("x", "y")
    assert split_reasoning("just an answer", ["最终答案："]) == ("", "just an answer")


def test_uncited_sentences_get_markers_only_when_a_context_contains_them() -> None:
    from app.answering.citations import infer_citations

    contexts = [
        Document(id="a", page_content="BERT是双向编码器。"),
        Document(id="b", page_content="GPT-1共12层，参数量约1.17亿。"),
    ]
    assert infer_citations("GPT-1共12层。它很有名。", contexts) == "GPT-1共12层 [2]。它很有名。"
    assert infer_citations("已有标注 [1]。", contexts) == "已有标注 [1]。"
    assert infer_citations("完全无关的内容", contexts) == "完全无关的内容"
