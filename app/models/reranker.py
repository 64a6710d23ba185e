"""Optional cross-encoder reranking from a local folder (no reranker ships on PyPI)."""

from __future__ import annotations

from pathlib import Path

from langchain_core.documents import Document

from app.models.embeddings import EmbeddingModelError
from app.once import once_per_arguments
from app.settings import Settings


class Reranker:
    """Scores (question, chunk) pairs with a sentence-transformers CrossEncoder."""

    def __init__(self, model_dir: str) -> None:
        if not Path(model_dir).is_dir():
            raise EmbeddingModelError(
                f"reranker folder {model_dir!r} does not exist; set ZHIKU_RERANKER_MODEL to a "
                "local CrossEncoder folder, or leave it empty to turn reranking off"
            )
        from sentence_transformers import CrossEncoder

        try:
            self.model = CrossEncoder(model_dir, device="cpu", local_files_only=True)
        except Exception as exc:
            raise EmbeddingModelError(
                f"cannot load a CrossEncoder from {model_dir!r} ({str(exc).splitlines()[0]})"
            ) from None

    def rerank(self, query: str, docs: list[Document]) -> list[Document]:
        if not docs:
            return docs
        scores = self.model.predict(
            [(query, d.page_content) for d in docs], show_progress_bar=False
        )
        for doc, score in zip(docs, scores, strict=True):
            doc.metadata.setdefault("scores", {})["rerank"] = round(float(score), 4)
        return [doc for _, doc in sorted(zip(scores, docs, strict=True), key=lambda p: -p[0])]


@once_per_arguments(maxsize=2)
def _load(model_dir: str) -> Reranker:
    return Reranker(model_dir)


def make_reranker(settings: Settings) -> Reranker | None:
    """The configured reranker, loaded once per process; None when off (the default)."""
    return _load(settings.retrieval.reranker_model) if settings.retrieval.reranker_model else None
