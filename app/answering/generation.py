"""Generation: the reply as it streams, reasoning told from answer, loops cut.

How a backend streams, takes turns and counts tokens is the chat backend's
(`app.models.backend`); this module keeps what the chain makes of the pieces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass
class Draft:
    """The model's whole reply, with what the timings and token counts need."""

    text: str = ""
    first_token_at: float | None = None
    usage: dict = field(default_factory=dict)  # as the server reported it, if it did
    pieces: int = 0  # streamed pieces (≈ tokens when no usage is reported)
    looped: bool = False  # cut where the reply started repeating itself


class PartTracker:
    """Chain of thought streams reasoning first: everything up to the final-answer marker
    is "reasoning", the rest "answer". Other strategies stream only "answer"."""

    def __init__(self, marker: str | None) -> None:
        self.marker = marker.rstrip("：:") if marker else None
        self.seen = marker is None
        self.text = ""

    def part(self, piece: str) -> Literal["answer", "reasoning"]:
        self.text += piece
        if not self.seen and self.marker and self.marker in self.text:
            self.seen = True
        return "answer" if self.seen else "reasoning"


def loop_start(text: str, min_unit: int = 4, max_unit: int = 80, repeats: int = 3) -> int | None:
    """Where a loop begins: the text ends in `repeats` copies of one unit of 4–80 characters
    ("无监督预训练+有监督微调+无监督预训练+有监督微调+…"). Returns the end of the first copy,
    or None. Penalties make loops rarer; this cuts the ones that still happen."""
    for unit in range(min_unit, max_unit + 1):
        span = unit * repeats
        if len(text) < span:
            return None
        tail = text[-span:]
        piece = tail[:unit]
        if piece.strip() and tail == piece * repeats:
            return len(text) - span + unit
    return None
