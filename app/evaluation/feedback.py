"""Feedback becomes evaluation: rated answers written as questions in the shared format.

- 👍: the answer the user accepted is the reference (`answers`), its cited sources (or
  the retrieved ones when none was cited) the `sources`, its quotes the `evidence`: a
  regression set, so a later change that loses the answer shows up in `zhiku eval`.
- 👎: a question to look at. The right answer is not known yet, so `answers` stays empty
  and `needs_review` is true, with the answer given, the sources retrieved and the
  comment beside it. `zhiku eval` skips lines that still need review (an empty `answers`
  would otherwise mean "the documents do not answer this"); a reviewer fills in
  `answers` (or leaves it empty when a refusal was right) and removes the flag. When an
  FAQ entry of that knowledge base now has the question (a 👎 the team answered), its
  answer is the reference and the flag is gone.
- FAQ entries (app.faq): the answer a person wrote is the reference for its question and
  for each alternative phrasing, so `zhiku eval` on the export shows the curated answer
  is what a user gets (`kind` "faq"; the entry's id, author and time beside it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from app.conversations.store import UP, RatedAnswer
from app.faq.store import FaqEntry
from app.faq.text import question_key
from app.text import detect_language


@dataclass(frozen=True)
class ExportCounts:
    up: int
    down: int
    faq: int = 0  # questions written from FAQ entries (each phrasing is one)


def faq_questions(entry: FaqEntry) -> list[dict[str, object]]:
    """An entry's question and each phrasing, with the entry's answer as the reference."""
    return [
        {
            "id": f"faq-{entry.knowledge_base}-{entry.id}" + (f"-{n}" if n else ""),
            "question": question,
            "lang": detect_language(question),
            "kind": "faq",
            "answers": [entry.answer],
            "sources": [],
            "evidence": [],
            "knowledge_base": entry.knowledge_base,
            "faq": {
                "entry_id": entry.id,
                "author": entry.author,
                "updated_at": datetime.fromtimestamp(entry.updated_at, UTC).isoformat(),
                "source": entry.source,
            },
        }
        for n, question in enumerate(entry.questions())
    ]


def _answered_by_faq(line: dict[str, object], entries: list[FaqEntry]) -> dict[str, object]:
    """A 👎 line whose question an FAQ entry of its knowledge base now answers: the
    entry's answer is the reference, nothing left to review."""
    asked = {question_key(str(line["question"])), question_key(str(line["asked"]))}
    for entry in entries:
        if entry.knowledge_base == line["knowledge_base"] and asked & {
            question_key(q) for q in entry.questions()
        }:
            line = {k: v for k, v in line.items() if k != "needs_review"}
            return line | {"answers": [entry.answer], "answered_by_faq": entry.id}
    return line


def feedback_question(rated: RatedAnswer) -> dict[str, object]:
    """One line of a question file for one rated answer."""
    result = rated.result
    question = result.get("standalone_question") or rated.question
    contexts = result.get("contexts") or []
    citations = result.get("citations") or []
    retrieved = _unique(c.get("source") for c in contexts)
    line: dict[str, object] = {
        "id": f"feedback-{rated.message_id}",
        "question": question,
        "lang": detect_language(question),
        "kind": "feedback-up" if rated.rating == UP else "feedback-down",
    }
    if rated.rating == UP:
        line |= {
            "answers": [rated.answer],
            "sources": _unique(c["source"] for c in citations) or retrieved,
            "evidence": _unique(c["quote"] for c in citations if c.get("quote")),
        }
    else:
        line |= {"answers": [], "sources": [], "evidence": [], "needs_review": True}
    return line | {
        "feedback": {
            "rating": "up" if rated.rating == UP else "down",
            "comment": rated.comment,
            "rated_at": datetime.fromtimestamp(rated.rated_at, UTC).isoformat(),
        },
        "asked": rated.question,
        "answer_given": rated.answer,
        "sources_retrieved": retrieved,
        "knowledge_base": rated.knowledge_base,
        "strategy": result.get("strategy", ""),
        "model": rated.model,
        "conversation_id": rated.conversation_id,
    }


def export_feedback(
    rated: list[RatedAnswer], out: Path, faq: list[FaqEntry] | None = None
) -> ExportCounts:
    """Write every rated answer, then every FAQ entry's questions, to `out` (JSON Lines,
    UTF-8); how many of each."""
    entries = faq or []
    feedback = [feedback_question(r) for r in rated]
    feedback = [_answered_by_faq(line, entries) if line.get("needs_review") else line
                for line in feedback]  # fmt: skip
    curated = [line for entry in entries for line in faq_questions(entry)]
    lines = [json.dumps(line, ensure_ascii=False) for line in feedback + curated]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    up = sum(r.rating == UP for r in rated)
    return ExportCounts(up=up, down=len(rated) - up, faq=len(curated))


def _unique(values) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))
