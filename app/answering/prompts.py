"""Load the prompt strategies under `prompts/` and render them into chat messages.

Prompts are files (YAML + Jinja2), never strings assembled in code. The language of the
question picks the Chinese or English variant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from app.settings import REPO_ROOT
from app.text import has_han

PROMPTS_DIR = REPO_ROOT / "prompts"
Lang = Literal["zh", "en"]
STRATEGY_FILES: dict[str, str] = {
    "zero-shot": "zero_shot.yaml",
    "few-shot": "few_shot.yaml",
    "cot": "cot.yaml",
    "extractive": "extractive.yaml",
    "grounded": "grounded.yaml",
}
# Closing tags a document could use to break out of the context fence.
_FENCE_TAGS = re.compile(r"</?\s*(资料|documents)\s*>", re.IGNORECASE)


def detect_language(text: str) -> Lang:
    """Chinese if the text has any Han characters, else English."""
    return "zh" if has_han(text) else "en"


@dataclass(frozen=True)
class ContextChunk:
    n: int
    source: str
    page: int | None
    text: str


@lru_cache(maxsize=4)
def _environment(folder: Path) -> Environment:
    # autoescape off: the output is a plain-text prompt, not HTML.
    return Environment(
        loader=FileSystemLoader(folder), undefined=StrictUndefined, keep_trailing_newline=False
    )


@lru_cache(maxsize=16)
def load_yaml(name: str, folder: Path = PROMPTS_DIR) -> dict:
    with open(folder / name, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def refusal(lang: Lang, strategy: str = "zero-shot") -> str:
    return load_yaml(STRATEGY_FILES[strategy])["refusal"][lang]


def cot_marker(lang: Lang) -> str:
    return load_yaml(STRATEGY_FILES["cot"])["marker"][lang]


def fence_safe(text: str) -> str:
    """Document text must not close the context fence and pose as instructions."""
    return _FENCE_TAGS.sub(lambda m: m.group(0).replace("<", "‹").replace(">", "›"), text)


def render(template: str, folder: Path = PROMPTS_DIR, **variables: object) -> str:
    return _environment(folder).from_string(template).render(**variables).strip()


def answer_messages(
    strategy: str,
    question: str,
    context: list[ContextChunk],
    lang: Lang,
    examples: list[dict] | None = None,
    answer_first: bool = False,
) -> list[tuple[str, str]]:
    """(role, content) pairs: the static system part first, then context and question."""
    spec = load_yaml(STRATEGY_FILES[strategy])[lang]
    chunks = [ContextChunk(c.n, c.source, c.page, fence_safe(c.text)) for c in context]
    common: dict[str, Any] = {
        "refusal": refusal(lang, strategy), "lang": lang, "answer_first": answer_first,
    }  # fmt: skip
    system = render(spec["system"], examples=examples or [], **common)
    user = render(spec["user"], context=chunks, question=question, **common)
    return [("system", system), ("human", user)]


def few_shot_examples(lang: Lang) -> list[dict]:
    return load_yaml("few_shot_examples.yaml")[lang]


def condense_messages(question: str, history: list[dict], lang: Lang) -> list[tuple[str, str]]:
    spec = load_yaml("condense.yaml")[lang]
    return [
        ("system", render(spec["system"])),
        ("human", render(spec["user"], history=history, question=question)),
    ]
