"""The synthetic corpus of `python -m bench scale`: distinct passages, one chunk each,
the same passage n whatever the size (so the sizes nest and share embeddings)."""

from __future__ import annotations

from pathlib import Path

from bench.scale_corpus import (
    MAX_CHARS,
    MIN_CHARS,
    PER_FILE,
    passage,
    read_paragraphs,
    split_paragraphs,
    write_corpus,
)
from ingest.splitting import make_splitter

SENTENCES = [
    "GPT-1 有 12 层，每层 12 个注意力头。",
    "Transformer 由编码器和解码器组成，最早用于机器翻译。",
    "检索增强生成先检索相关段落，再让模型根据段落回答问题！",
    "BM25 是一种经典的词袋检索算法，对中文需要合适的分词？",
    "向量检索把问题和段落都编码为向量，再按余弦相似度排序。",
]


def _corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    long_line = "".join(SENTENCES * 2)
    (folder / "a.txt").write_text(f"标题\n{long_line}\n\n{long_line[::-1]}\n", encoding="utf-8")
    (folder / "b.md").write_text("".join(SENTENCES[::-1] * 2), encoding="utf-8")
    (folder / "ignored.csv").write_text("".join(SENTENCES * 2), encoding="utf-8")
    return folder


def test_short_lines_are_not_paragraphs_and_sentences_keep_their_ends():
    found = split_paragraphs("短标题\n" + "".join(SENTENCES * 2))
    assert len(found) == 1
    assert found[0].sentences[0] == SENTENCES[0]
    assert len(found[0].sentences) == 2 * len(SENTENCES)


def test_only_text_and_markdown_files_are_read(tmp_path):
    assert len(read_paragraphs([_corpus(tmp_path)])) == 3


def test_passages_are_distinct_bounded_and_numbered(tmp_path):
    paragraphs = read_paragraphs([_corpus(tmp_path)])
    texts = [passage(n, paragraphs) for n in range(300)]
    assert len(set(texts)) == len(texts)
    assert all(MIN_CHARS <= len(t) <= MAX_CHARS for t in texts)
    assert all(t.startswith(f"〔{n}〕") for n, t in enumerate(texts))
    assert passage(7, paragraphs) == passage(7, paragraphs)


def test_a_smaller_size_is_a_prefix_of_a_larger_one(tmp_path):
    paragraphs = read_paragraphs([_corpus(tmp_path)])
    assert write_corpus(tmp_path / "small", 2 * PER_FILE, paragraphs) == 2
    assert write_corpus(tmp_path / "large", 5 * PER_FILE, paragraphs) == 5
    for name in ("scale-00000.txt", "scale-00001.txt"):
        assert (tmp_path / "small" / name).read_text() == (tmp_path / "large" / name).read_text()


def test_zhikus_splitter_makes_each_passage_exactly_one_chunk(tmp_path):
    paragraphs = read_paragraphs([_corpus(tmp_path)])
    write_corpus(tmp_path / "out", PER_FILE * 3, paragraphs)
    splitter = make_splitter(300, 50)
    for number, path in enumerate(sorted((tmp_path / "out").iterdir())):
        chunks = splitter.split_text(path.read_text(encoding="utf-8"))
        first = number * PER_FILE
        assert chunks == [passage(n, paragraphs) for n in range(first, first + PER_FILE)]
