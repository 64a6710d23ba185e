"""A conversation as Markdown: each question, its answer and the answer's numbered sources.

The export is a file for people (a report, a ticket), so document and model text is
written as it is; each source passage goes on one quoted line so it cannot break the
layout of the questions and answers around it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.conversations.store import Conversation, Message

RATINGS = {1: "👍", 0: "👎"}


def to_markdown(conversation: Conversation) -> str:
    when = datetime.fromtimestamp(conversation.created_at).strftime("%Y-%m-%d %H:%M")
    lines = [
        f"# {conversation.title}",
        "",
        f"知识库 Knowledge base: `{conversation.knowledge_base}` · {when}",
        "",
    ]
    for message in conversation.messages:
        if message.role == "user":
            lines += [f"## 问 Q: {_one_line(message.content)}", ""]
        else:
            lines += _answer(message)
    return "\n".join(lines).rstrip() + "\n"


def _answer(message: Message) -> list[str]:
    result: Mapping[str, Any] = message.result or {}  # older answers may lack keys
    lines = [message.content, ""]
    meta = [f"strategy {result.get('strategy', '?')}", f"model {message.model or '?'}"]
    total = (result.get("timings") or {}).get("total_s")
    if total is not None:
        meta.append(f"{total:.1f} s")
    if message.rating is not None:
        meta.append(RATINGS[message.rating] + (f" {message.comment}" if message.comment else ""))
    lines += [f"*{' · '.join(meta)}*", ""]
    contexts = result.get("contexts") or []
    if contexts:
        cited = {c["n"] for c in result.get("citations") or []}
        lines += ["来源 Sources:", ""]
        for ctx in contexts:
            page = f", 第{ctx['page']}页" if ctx.get("page") else ""
            mark = " ✅" if ctx["n"] in cited else ""
            lines.append(f"{ctx['n']}. {ctx.get('source') or '?'}{page}{mark}")
            lines.append(f"   > {_one_line(ctx.get('text', ''))}")
        lines.append("")
    return lines


def _one_line(text: str) -> str:
    return " ".join(text.split())
