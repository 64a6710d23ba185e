"""FAQ entries without models: the store, the matcher's decision and checks, the kinds of
answer a question asks for. Vectors come from a tiny table of texts, not a model."""

from __future__ import annotations

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from app.faq.asking import asks, same_ask
from app.faq.matching import FaqMatcher, best_scores, decide, embed_entries, embed_questions
from app.faq.store import FaqDraft, FaqDuplicate, FaqError, FaqNotFound, FaqStore, FaqVectors
from app.faq.text import question_key
from app.models.lazy_embeddings import LazyEmbeddings
from app.settings import FaqSettings


class TableEmbeddings(Embeddings):
    """Each known text has a fixed direction; anything else is orthogonal to all of them."""

    name = "table"

    def __init__(self, table: dict[str, list[float]]) -> None:
        self.table, self.queries = table, 0

    def embed_query(self, text: str) -> list[float]:
        self.queries += 1
        return self.table.get(text, [0.0, 0.0, 0.0, 1.0])

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(t) for t in texts]


class BatchEmbeddings(LazyEmbeddings):
    """A backend with a batched query side, recording the size of each call."""

    name, batch_size = "batch", 64

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[int] = []

    def _load(self) -> object:
        return object()

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)

    def _encode_queries(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(len(texts))
        return [self._vector(t) for t in texts]

    @staticmethod
    def _vector(text: str) -> list[float]:
        number = int(text[1:])
        return [float(text[0] == "q"), float(number % 17), float(number // 17 + 1)]


TABLE = {
    "GPT-1 有多少参数？": [1.0, 0.0, 0.0, 0.0],
    "GPT-1 一共多少个参数": [0.95, 0.31, 0.0, 0.0],  # cosine 0.95 with the question
    "GPT-2 有多少参数？": [0.97, 0.24, 0.0, 0.0],  # close, but names another model
    "GPT-1 是哪一年发布的？": [0.96, 0.0, 0.28, 0.0],  # close, but asks when
    "GPT-1 的参数量有多少个": [0.88, 0.475, 0.0, 0.0],  # 0.88: context, not the answer
}


@pytest.fixture
def store(tmp_path) -> FaqStore:
    return FaqStore(f"sqlite:///{tmp_path / 'faq.sqlite'}")


def _add(store: FaqStore, embeddings: Embeddings, question: str, answer: str, kb: str = "kb"):
    draft = FaqDraft(question, answer)
    vectors = embed_questions(embeddings, [question])
    return store.add(kb, draft, "alice", vectors, "table")


def _matcher(store: FaqStore, embeddings: Embeddings, **config: float) -> FaqMatcher:
    settings = FaqSettings(faq_match_threshold=0.9, faq_context_threshold=0.85, **config)
    return FaqMatcher(store, "kb", embeddings, settings)


def test_question_key_ignores_case_width_spacing_and_punctuation() -> None:
    assert question_key("什么是 RAG？") == question_key("什么是ｒａｇ") == "什么是rag"


def test_a_draft_is_checked_in_one_line() -> None:
    with pytest.raises(FaqError, match="question is empty"):
        FaqDraft("  ", "a").checked()
    with pytest.raises(FaqError, match="answer to 'q' is empty"):
        FaqDraft("q", " \n").checked()
    draft = FaqDraft(" a  b ", " x ", ("a b", "", "c", "C")).checked()
    assert (draft.question, draft.answer, draft.phrasings) == ("a b", "x", ("c",))


def test_a_duplicate_question_is_refused_naming_the_entry(store: FaqStore) -> None:
    embeddings = TableEmbeddings(TABLE)
    entry = _add(store, embeddings, "GPT-1 有多少参数？", "1.17 亿")
    with pytest.raises(FaqDuplicate, match=f"entry {entry.id}: edit it instead"):
        _add(store, embeddings, "gpt-1有多少参数", "other")
    assert _add(store, embeddings, "GPT-1 有多少参数？", "1.17 亿", kb="other").id != entry.id


def test_an_entry_of_another_knowledge_base_is_not_found(store: FaqStore) -> None:
    entry = _add(store, TableEmbeddings(TABLE), "GPT-1 有多少参数？", "1.17 亿")
    with pytest.raises(FaqNotFound):
        store.get("other", entry.id)
    with pytest.raises(FaqNotFound):
        store.delete("other", entry.id)
    assert store.get("kb", entry.id).answer == "1.17 亿"


def test_an_edit_keeps_the_creation_time_and_changes_the_version(store: FaqStore) -> None:
    embeddings = TableEmbeddings(TABLE)
    entry = _add(store, embeddings, "GPT-1 有多少参数？", "1.17 亿")
    before = store.version("kb")
    vectors = embed_questions(embeddings, ["GPT-1 有多少参数？"])
    draft = FaqDraft("GPT-1 有多少参数？", "约 1.17 亿")
    edited = store.update("kb", entry.id, draft, "bob", vectors, "table")
    assert (edited.created_at, edited.author, edited.answer) == (
        entry.created_at,
        "bob",
        "约 1.17 亿",
    )
    assert edited.updated_at > entry.updated_at and store.version("kb") != before


def test_decide_answers_at_the_threshold_and_gives_context_below() -> None:
    config = FaqSettings(faq_match_threshold=0.9, faq_context_threshold=0.85)
    assert decide(0.9, config) == "answer"
    assert decide(0.95, config, same=False) == "none"  # another name or kind of answer
    assert decide(0.89, config) == "context"
    assert decide(0.84, config) == "none"


def test_best_scores_takes_each_entry_at_its_closest_phrasing() -> None:
    matrix = np.array([[1, 0], [0, 1], [0.6, 0.8]], dtype=np.float32)
    vectors = FaqVectors(matrix, np.array([7, 7, 9]), (3, 0.0))
    ranked = best_scores(np.array([0.0, 2.0]), vectors)
    assert ranked == [(7, pytest.approx(1.0)), (9, pytest.approx(0.8))]


def test_a_paraphrase_gets_the_answer_and_a_near_miss_does_not(store: FaqStore) -> None:
    embeddings = TableEmbeddings(TABLE)
    _add(store, embeddings, "GPT-1 有多少参数？", "1.17 亿")
    matcher = _matcher(store, embeddings)
    paraphrase = matcher.match("GPT-1 一共多少个参数")
    assert paraphrase is not None and paraphrase.verdict == "answer"
    assert paraphrase.entry.answer == "1.17 亿"
    for near_miss in ("GPT-2 有多少参数？", "GPT-1 是哪一年发布的？"):  # names, kind of answer
        match = matcher.match(near_miss)
        assert match is not None and match.verdict == "none", near_miss  # not even context
    below = matcher.match("GPT-1 的参数量有多少个")
    assert below is not None and below.verdict == "context"
    unrelated = matcher.match("天气怎么样")
    assert unrelated is not None and unrelated.verdict == "none"


def test_the_same_question_matches_without_embedding_it(store: FaqStore) -> None:
    embeddings = TableEmbeddings(TABLE)
    _add(store, embeddings, "GPT-1 有多少参数？", "1.17 亿")
    matcher, before = _matcher(store, embeddings), embeddings.queries
    match = matcher.match("gpt-1 有多少参数")
    assert match is not None and (match.score, match.verdict) == (1.0, "answer")
    assert embeddings.queries == before


def test_an_entry_added_or_deleted_is_seen_on_the_next_match(store: FaqStore) -> None:
    embeddings = TableEmbeddings(TABLE)
    matcher = _matcher(store, embeddings)
    assert matcher.match("GPT-1 一共多少个参数") is None  # no FAQ yet
    entry = _add(store, embeddings, "GPT-1 有多少参数？", "1.17 亿")  # another writer
    match = matcher.match("GPT-1 一共多少个参数")
    assert match is not None and match.verdict == "answer"
    store.delete("kb", entry.id)
    assert matcher.match("GPT-1 一共多少个参数") is None


def test_vectors_of_another_embedding_model_are_made_again(store: FaqStore) -> None:
    embeddings = TableEmbeddings(TABLE)
    vectors = embed_questions(embeddings, ["GPT-1 有多少参数？"])
    store.add("kb", FaqDraft("GPT-1 有多少参数？", "1.17 亿"), "a", vectors, "old-model")
    match = _matcher(store, embeddings).match("GPT-1 一共多少个参数")
    assert match is not None and match.verdict == "answer"
    assert store.vectors("kb", "table")[1] == []  # nothing stale any more


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("RAG 是谁在哪一年提出的？", {"who", "when"}),
        ("GPT-1 有多少层？", {"count"}),
        ("什么是重排序？", {"define"}),
        ("什么叫向量嵌入", {"define"}),
        ("为什么需要位置编码？", {"why"}),
        ("中文文本应该怎么分块？", {"how"}),
        ("重排序模型有哪些？", {"which"}),
        ("RAG 需要重新训练模型吗？", {"whether"}),
        ("RAG 和微调比有什么优点？", {"what"}),
        ("请说明自注意力的计算步骤", {"how"}),
        ("Who proposed the Transformer, and in which year?", {"who", "when"}),
        ("How many parameters does GPT-1 have?", {"count"}),
        ("What does a reranker do?", {"purpose"}),
        ("Does RAG need fine-tuning?", {"whether"}),
        ("检索增强生成", set()),
        # a noun naming a person or a year is what "是什么" asks for
        ("检索增强生成的提出者和年份分别是什么？", {"who", "when"}),
        ("Transformer 的作者是？", {"who"}),
        ("作者提出了什么方法？", {"how"}),  # the author is the subject, not the ask
        # "方法/步骤" is a how only when nothing else is asked
        ("除了余弦相似度，还有哪些衡量向量距离的方法？", {"which"}),
        ("RAG 方法是谁提出的？", {"who"}),
        ("能解释一下检索增强生成吗？", {"define", "whether"}),
    ],
)
def test_the_kind_of_answer_a_question_asks_for(question: str, kinds: set[str]) -> None:
    assert asks(question) == kinds


def test_questions_asking_for_different_kinds_of_answer_differ() -> None:
    assert not same_ask("检索增强生成是什么东西", ["RAG 是谁在哪一年提出的？"])
    assert same_ask("RAG 哪年提出的", ["RAG 是谁在哪一年提出的？"])
    assert same_ask("检索增强生成", ["RAG 是谁提出的？"])  # asks nothing in particular


def test_an_import_batch_is_a_few_model_calls_and_each_entry_gets_its_own_rows() -> None:
    embeddings = BatchEmbeddings()
    questions = [[f"q{i}", *([f"p{i}"] if i % 3 == 0 else [])] for i in range(200)]
    blocks = embed_entries(embeddings, questions)
    texts = sum(len(q) for q in questions)  # 267
    assert embeddings.calls == [64, 64, 64, 64, texts - 256]  # not one call per question
    assert [len(block) for block in blocks] == [len(q) for q in questions]
    for block, texts_of_entry in zip(blocks, questions, strict=True):
        for row, text in zip(block, texts_of_entry, strict=True):
            expected = np.asarray(embeddings.embed_query(text), dtype=np.float32)
            assert row == pytest.approx(expected / np.linalg.norm(expected))
    assert embed_entries(embeddings, []) == [] and len(embeddings.calls) == 5
