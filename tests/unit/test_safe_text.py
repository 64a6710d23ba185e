"""Document and model text is shown as text: every Markdown or HTML character escaped."""

from __future__ import annotations

import re

from app.ui.safe_text import escape_markdown, highlight


def test_escape_markdown_neutralises_links_images_and_html() -> None:
    text = "![x](http://evil/t.png) <img src=x onerror=alert(1)> [a](b) **b** $x$ :red[r]"
    escaped = escape_markdown(text)
    # every character Markdown or HTML could act on is backslash-escaped
    assert re.search(r"(?<!\\)[<>\[\]()!*$:]", escaped) is None
    assert highlight("前文。引用的句子。后文。", "引用的句子。") == (
        escape_markdown("前文。")
        + ":orange-background["
        + escape_markdown("引用的句子。")
        + "]"
        + escape_markdown("后文。")
    )
