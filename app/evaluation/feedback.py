"""Feedback becomes evaluation: rated answers written as questions in the shared format.

- 👍: the answer the user accepted is the reference (`answers`), its cited sources (or
  the retrieved ones when none was cited) the `sources`, its quotes the `evidence`: a
  regression set, so a later change that loses the answer shows up in `zhiku eval`.
- 👎: a question to look at. The right answer is not known yet, so `answers` stays empty
  and `needs_review` is true, with the answer given, the sources retrieved and the
  comment beside it. `zhiku eval` skips lines that still need review (an empty `answers`
  would otherwise mean "the documents do not answer this"); a reviewer fills in
  `answers` (or leaves it empty when a refusal was right) and removes the flag.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from app.conversations.store import UP, RatedAnswer
from app.text import detect_language


@dataclass(frozen=True)
class ExportCounts:
    up: int
    down: int


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


def export_feedback(rated: list[RatedAnswer], out: Path) -> ExportCounts:
    """Write every rated answer to `out` (JSON Lines, UTF-8); how many of each rating."""
    lines = [json.dumps(feedback_question(r), ensure_ascii=False) for r in rated]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    up = sum(r.rating == UP for r in rated)
    return ExportCounts(up=up, down=len(rated) - up)


def _unique(values) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))
