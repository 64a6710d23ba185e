"""Document and model text is shown as text: every Markdown or HTML character escaped."""

from __future__ import annotations

import re

from app.ui.safe_text import escape_markdown, highlight


def test_escape_markdown_neutralises_links_images_and_html() -> None:
    text = "![x](http://evil/t.png) <img src=x onerror=alert(1)> [a](b) **b** $x$ :red[r]"
    escaped = escape_markdown(text)
    # every character Markdown or HTML could act on is backslash-escaped
    assert re.search(r"(?<!\\)[<>\[\]()!*$:]", escaped) is None
    assert highlight("前文。引用的句子。后文。", ["引用的句子。"]) == (
        escape_markdown("前文。")
        + ":orange-background[**"
        + escape_markdown("引用的句子。")
        + "**]"
        + escape_markdown("后文。")
    )


def test_every_quoted_sentence_is_highlighted_and_headings_lose_their_markers() -> None:
    chunk = "## GPT-1 的结构\n\nGPT-1有12层。它的维度是768。参数量是1.17亿。"
    shown = highlight(chunk, ["GPT-1有12层。", "参数量是1.17亿。", "不在段落里的句子。"])
    assert shown.count(":orange-background[**") == 2
    assert "\\#" not in shown and not shown.startswith("#")  # no raw '## '
    assert shown.startswith("GPT\\-1 的结构")
    assert rendered(shown).count("<strong>") == 2  # the bold closes after Chinese punctuation


def test_an_export_is_named_after_its_title() -> None:
    from app.ui.safe_text import file_name_from_title

    assert file_name_from_title("GPT-1 的结构？") == "GPT-1-的结构.md"
    assert file_name_from_title("../../etc/passwd") == "etc-passwd.md"
    assert file_name_from_title("？？？") == "zhiku.md"


LEAK = "![y](https:/127.0.0.1:8123/leak.txt) b.txt"


def rendered(markdown: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").render(markdown)


def test_a_file_name_in_the_apis_content_renders_as_text() -> None:
    """The API appends the cited file names to `content`, which clients render as
    Markdown: a name that is an image must stay text (issue 22, item 7)."""
    from app.api.schemas import answer_content

    result = {
        "question": "泄露？",
        "answer": "答案[1]。",
        "citations": [{"n": 1, "quote": ""}],
        "contexts": [{"n": 1, "source": f"docs/{LEAK}", "page": None}],
    }
    html = rendered(answer_content(result, with_sources=True))
    assert "<img" not in html and "<a " not in html
    assert LEAK in html.replace("\n", "")


def test_the_escape_is_the_one_every_layer_uses() -> None:
    import app.text

    assert escape_markdown is app.text.escape_markdown
    assert "<img" not in rendered(escape_markdown(LEAK)) and LEAK in rendered(escape_markdown(LEAK))


def test_a_quote_over_several_lines_is_marked_line_by_line() -> None:
    """A background directive does not span a line break: each line gets its own."""
    shown = highlight("前文\n第一行\n\n第二行*\n后文", ["第一行\n\n第二行*"])
    assert shown == (
        "前文  \n:orange-background[**第一行**]  \n  \n:orange-background[**第二行\\***]  \n后文"
    )
