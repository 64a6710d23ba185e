"""The extractive strategy: the model picks evidence sentences by number, zhiku quotes them.

A 0.5B–1.5B model miscopies figures and drifts when it writes an answer; choosing among
numbered sentences is an easier task, and a verbatim quote cannot get a figure wrong.
With the local model the choice is grammar-constrained (llama.cpp GBNF: a few numbers
separated by commas, or 0 for "none"), so the reply always parses; a hosted model gets
the same prompt and its reply is read for numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from langchain_core.documents import Document

from app.answering import prompts
from app.models.backend import ChatBackend
from app.text import has_han, tokenize

# A sentence ends at Chinese or Latin end marks, or at a line break (lists, headings).
# Clauses joined by ； stay together: "BERT 只用编码器…；GPT 系列只用解码器…" is one
# comparison, and quoting half of it answers half the question.
_SENTENCE = re.compile(r"[^。！？!?\n]+(?:[。！？!?]+|\.(?=\s)|$)|[^\n]+", re.MULTILINE)
MAX_SENTENCES = 80  # numbered sentences shown to the model (k = 5 chunks give 20–50)


@dataclass(frozen=True)
class Sentence:
    n: int  # its number in the prompt
    chunk: int  # the number of the chunk it comes from, as the answer cites it
    text: str
    at: int = 0  # its place in the chunks' text, for quoting in the documents' order


def candidate_sentences(question: str, docs: list[Document], limit: int) -> list[Sentence]:
    """The `limit` sentences that share most with the question, numbered best first.

    Small models favour the first numbers they see; putting the sentences closest to the
    question first turns that bias into help, and a shorter list is read faster.
    """
    ranked = closest_sentences(question, numbered_sentences(docs), limit)
    return [Sentence(n, s.chunk, s.text, s.at) for n, s in enumerate(ranked, start=1)]


def closest_sentences(question: str, sentences: list[Sentence], limit: int) -> list[Sentence]:
    """The `limit` sentences sharing most with the question (longer shared words weigh
    more; long sentences are damped so a paragraph does not win by size), best first."""
    wanted = set(tokenize(question))

    def overlap(sentence: Sentence) -> float:
        tokens = set(tokenize(sentence.text))
        return sum(len(t) for t in wanted & tokens) / (1 + len(sentence.text) / 200)

    return sorted(sentences, key=lambda s: (-overlap(s), s.n))[:limit]


def numbered_sentences(
    docs: list[Document], limit: int = MAX_SENTENCES, quotable_only: bool = True
) -> list[Sentence]:
    """The chunks' sentences, numbered in order; headings and fragments too short to be
    quoted as an answer are left out unless `quotable_only` is false."""
    found: list[Sentence] = []
    for chunk, doc in enumerate(docs, start=1):
        # A question line stays with its answer ("GPT-1模型基本参数?答案:12层…"), and a
        # line that announces what follows with a colon stays with its first item
        # ("训练过程分为以下三个阶段:" says nothing alone).
        asked = ""
        for match in _SENTENCE.finditer(doc.page_content):
            text = asked + match.group(0).strip()
            asked = text if text.endswith(("?", "？", ":", "：")) and len(text) < 60 else ""
            unwanted = not text or (quotable_only and not _worth_quoting(text))
            if asked or unwanted or any(s.text == text for s in found):
                continue  # chunks overlap: a sentence is offered once
            found.append(Sentence(len(found) + 1, chunk, text, len(found) + 1))
            if len(found) >= limit:
                return found
    return found


def _worth_quoting(text: str) -> bool:
    """A statement, not a heading or a list bullet: "• 1.什么是ChatGPT" says nothing."""
    if not text:
        return False
    words = len(re.sub(r"[\W_]", "", text))
    ends = text[-1] in "。！？!?；;." or text.endswith(("”", "」"))
    return words >= 15 or (words >= 6 and ends and not text.endswith(("?", "？")))


def choice_messages(
    question: str, sentences: list[Sentence], lang: str, max_sentences: int
) -> list[tuple[str, str]]:
    spec = prompts.load_yaml(prompts.STRATEGY_FILES["extractive"])[lang]
    fenced = [Sentence(s.n, s.chunk, prompts.fence_safe(s.text)) for s in sentences]
    return [
        ("system", prompts.render(spec["system"], max_sentences=max_sentences)),
        ("human", prompts.render(spec["user"], sentences=fenced, question=question)),
    ]


def choice_grammar(count: int, max_sentences: int) -> str:
    """GBNF for "0", or 1–`max_sentences` distinct-looking numbers from 1..count."""
    numbers = " | ".join(f'"{n}"' for n in range(count, 0, -1))  # longest first
    more = ' ("," num)?' * (max_sentences - 1)
    return f'root ::= "0" | num{more}\nnum ::= {numbers}\n'


def choice_options(chat: ChatBackend, count: int, max_sentences: int) -> dict:
    """What the model call needs: a short reply, held to the grammar where the backend
    takes one (llama.cpp)."""
    grammar = chat.grammar_options(choice_grammar(count, max_sentences))
    return {"max_tokens": 4 * max_sentences + 4, **grammar}


def parse_choice(reply: str, count: int, max_sentences: int) -> list[int]:
    """The chosen sentence numbers, in order, valid and without repeats; [] for "none"."""
    chosen: list[int] = []
    for token in re.findall(r"\d+", reply):
        n = int(token)
        if 1 <= n <= count and n not in chosen:
            chosen.append(n)
    return chosen[:max_sentences]


def quote(chosen: list[Sentence], lang: str) -> str:
    """The answer: a short lead, then each sentence verbatim with its chunk's marker."""
    lead = prompts.load_yaml(prompts.STRATEGY_FILES["extractive"])["lead"][lang]
    parts = []
    for sentence in chosen:
        text = sentence.text.rstrip()
        end = text[-1] if text[-1] in "。！？!?；;." else ""
        body = text[: len(text) - len(end)] if end else text
        parts.append(f"{body} [{sentence.chunk}]{end or ('。' if has_han(text) else '.')}")
    return lead + ("" if lang == "zh" else " ") + ("" if lang == "zh" else " ").join(parts)
