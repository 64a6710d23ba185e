"""Composed passage vectors of `python -m bench scale`: the length-weighted, normalised
mean of the passage's sentence vectors (read here from a stored file, no model)."""

from __future__ import annotations

import numpy as np
import pytest

from app.settings import load_settings
from bench.scale_corpus import Paragraph
from bench.scale_vectors import SentenceVectors

PARAGRAPHS = [Paragraph(("短句。", "这是长一些的句子。")), Paragraph(("第三句！",))]


@pytest.fixture
def vectors(tmp_path):
    path = tmp_path / "sentence-vectors.npz"
    sentences = sorted({s for p in PARAGRAPHS for s in p.sentences})
    matrix = np.eye(len(sentences), 4, dtype=np.float32)  # one axis per sentence
    np.savez(path, sentences=np.array(sentences), vectors=matrix)
    return SentenceVectors(load_settings(data_dir=tmp_path), PARAGRAPHS, path)


def test_one_sentence_gives_its_own_vector(vectors):
    composed = np.array(vectors.compose([("第三句！",)]))
    assert composed == pytest.approx(vectors.matrix[vectors.row["第三句！"]])


def test_sentences_weigh_by_their_length_and_the_result_is_unit_length(vectors):
    composed = np.array(vectors.compose([("短句。", "这是长一些的句子。")]))
    short, long = vectors.row["短句。"], vectors.row["这是长一些的句子。"]
    assert np.linalg.norm(composed) == pytest.approx(1.0)
    assert composed[long] / composed[short] == pytest.approx(len("这是长一些的句子。") / 3)
