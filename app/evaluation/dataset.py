"""Question sets in the shared/eval format, and the retrievers an evaluation feeds the chain."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import Field

from app.errors import UserError


@dataclass(frozen=True)
class Question:
    """One line of a question file (see shared/eval/README.md)."""

    id: str
    question: str
    answers: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    lang: str = "zh"
    kind: str = ""
    # key facts a correct answer must state, each a list of acceptable surface forms
    facts: list[list[str]] = field(default_factory=list)

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


class QuestionFileError(UserError, ValueError):
    """A question file that cannot be read; the message names the line."""


def load_questions(path: Path, limit: int | None = None) -> list[Question]:
    questions = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise QuestionFileError(f"cannot read {path}: {exc.strerror}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if data.get("needs_review"):  # exported 👎 feedback nobody has answered yet
                continue
            questions.append(
                Question(
                    id=str(data.get("id", number)),
                    question=data["question"],
                    answers=list(data.get("answers", [])),
                    sources=list(data.get("sources", [])),
                    evidence=list(data.get("evidence", [])),
                    lang=data.get("lang", "zh"),
                    kind=data.get("kind", ""),
                    facts=[list(forms) for forms in data.get("facts") or []],
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise QuestionFileError(f"{path}:{number}: not a question line ({exc})") from None
        if limit and len(questions) >= limit:
            break
    return questions


def count_needing_review(paths: list[Path]) -> int:
    """Lines flagged `needs_review` (👎 feedback without a reference answer yet), which
    `load_questions` skips."""
    count = 0
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and '"needs_review"' in line and json.loads(line).get("needs_review"):
                count += 1
    return count


def load_question_files(paths: Path | list[Path], limit: int | None = None) -> list[Question]:
    """Several files as one set (e.g. a dev set plus extra unanswerable questions)."""
    questions: list[Question] = []
    for path in [paths] if isinstance(paths, Path) else paths:
        questions += load_questions(path)
    return questions[:limit] if limit else questions


class LookupRetriever(BaseRetriever):
    """Returns documents decided beforehand for each question.

    The evaluation retrieves once (top 10, for hit@10 and MRR@10) and hands the chain
    the top k of that same list, or the gold passages for the upper-bound run.
    """

    documents: dict[str, list[Document]] = Field(default_factory=dict)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return self.documents.get(query, [])


def gold_passages(store, question: Question, k: int) -> list[Document]:
    """The chunks of the gold sources that hold the evidence (else the closest ones)."""
    docs = []
    for source in question.sources:
        got = store.get(where={"source": source}, include=["documents", "metadatas"])
        docs += [
            Document(page_content=text, metadata={**(meta or {}), "scores": {}}, id=chunk_id)
            for chunk_id, text, meta in zip(
                got["ids"], got["documents"], got["metadatas"], strict=True
            )
        ]
    with_evidence = [d for d in docs if any(e in d.page_content for e in question.evidence)]
    if with_evidence:
        return with_evidence[:k]
    evidence = "".join(question.evidence)
    wanted = {evidence[i : i + 2] for i in range(len(evidence) - 1)}

    def overlap(doc: Document) -> int:
        text = doc.page_content
        return len(wanted & {text[i : i + 2] for i in range(len(text) - 1)})

    return sorted(docs, key=overlap, reverse=True)[: min(k, 2)]
