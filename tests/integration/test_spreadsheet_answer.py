"""A question about one spreadsheet row is answered from that row (issue 25): the real
xlsx reader, real retrieval among other documents, and the suite's 0.5B model answering;
the row is cited and the answer holds the row's value."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.answering.chain import build_rag_chain
from ingest.indexing import ingest_paths, open_knowledge_base
from tests.document_files import price_xlsx
from tests.helpers import MODELS_DIR, SAMPLES


@pytest.fixture(scope="module")
def sheet_settings(tmp_path_factory: pytest.TempPathFactory, embedding_cache_root: Path):
    from app.settings import load_settings

    folder = tmp_path_factory.mktemp("sheet-docs")
    shutil.copytree(SAMPLES, folder / "samples")  # other documents to retrieve past
    price_xlsx(folder / "价格表.xlsx")
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("sheet-data"),
        cache_dir=embedding_cache_root,
        models_dir=MODELS_DIR,
        embedding_backend="use",
        collection="sheet",
        top_k=3,
        max_tokens=64,
    )
    assert ingest_paths(open_knowledge_base(settings, "sheet"), [folder]).ok
    return settings


def test_a_question_about_one_row_is_answered_from_that_row(sheet_settings) -> None:
    chain = build_rag_chain(sheet_settings, collection="sheet")
    result = chain.invoke({"question": "型号 X300 的价格是多少？", "history": []})
    assert "4100" in result["answer"], result["answer"]
    cited = {c["n"] for c in result["citations"]}
    rows = [c for c in result["contexts"] if c["n"] in cited and c["source"] == "价格表.xlsx"]
    assert rows, (result["citations"], [c["source"] for c in result["contexts"]])
    assert any("型号: X300；功率: 2.2 kW；价格: 4100" in c["text"] for c in rows)
