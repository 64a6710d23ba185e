"""What a question asks for (who, when, how many, why, how, where, which ones, what it is,
what it is for, yes or no, some other what): the answer type question-answering systems have
classified since TREC, here from the interrogative words of Chinese and English.

Why: a small embedding model places "检索增强生成是什么" within 0.02 of "检索增强生成是谁
提出的" — same subject, same words — yet the curated answer to one is wrong for the
other. Two questions asking for different kinds of answer are two questions, however
close their vectors (docs/benchmarks.md, "FAQ entries"). A question with no interrogative
word ("请说明自注意力的计算步骤") asks nothing in particular and agrees with any.
"""

from __future__ import annotations

import re

# Each pattern that matches adds its kind. A noun that names a person or a date as the
# thing asked about ("提出者和年份分别是什么") asks who or when.
_KINDS: dict[str, str] = {
    "who": r"谁|哪位|哪个(?:团队|公司|机构|人)|哪家|\bwho\b|\bwhom\b"
    r"|(?:(?:提出|发明|创[立造建]|开发|设计)者|作者|发明人|创始人|负责人)"
    r"(?=\s*(?:是|叫|为|和|与|及|、|分别|[？?]|$))",
    "when": r"哪一?年|年份|什么时候|何时|哪天|几月|\bwhen\b|\b(?:which|what) year\b",
    "count": r"多少|几(?:个|层|步|种|次|位|年|天|倍)|多[大长久快慢重]"
    r"|\bhow (?:many|much|big|long)\b",
    "why": r"为什么|为何|什么原因|\bwhy\b",
    "how": r"怎么|怎样|如何|[按靠]什么|用什么方[法式]|\bhow\b(?! (?:many|much|big|long))",
    "where": r"哪里|哪儿|在哪(?!一?年|个|些)|什么地方|(?:什么|哪个|哪些)位置|\bwhere\b",
    "which": r"哪些|有哪|哪种|哪一?类|哪个(?!团队|公司|机构|人)|\bwhich\b(?! year)",
    "whether": r"吗\s*[？?]?\s*$|是否|是不是|能不能|可不可以|有没有|要不要"
    r"|^\s*(?:does|do|is|are|can|could|should|will|would)\b",
    "purpose": r"做什么|干什么|作用|用途|用来|\bwhat does\b.*\bdo\b|\bfor what\b",
    "define": r"解释|介绍|意思|\bexplain\b|\bmean",  # "能解释一下 X 吗" asks what X is
}
# Kinds that count only when none of the above is asked: "是什么" after a noun asks about
# that noun ("提出者是什么" is a who), and "方法/步骤" name a how only in a question with
# no interrogative of its own ("请说明自注意力的计算步骤"; "还有哪些方法" is a which).
_FALLBACK_KINDS: dict[str, str] = {
    "define": r"是什么|什么是|什么叫|何为|何谓|指的?是|是指|\bwhat (?:is|are)\b|\bdefine\b",
    "how": r"方[法式]|过程|步骤|流程",
}
_PATTERNS = {kind: re.compile(pattern, re.IGNORECASE) for kind, pattern in _KINDS.items()}
_FALLBACKS = {kind: re.compile(pattern, re.IGNORECASE) for kind, pattern in _FALLBACK_KINDS.items()}
_OTHER_WHAT = re.compile(r"什么|啥|\bwhat\b", re.IGNORECASE)


def asks(question: str) -> frozenset[str]:
    """The kinds of answer the question asks for; empty when it has no interrogative."""
    found = {kind for kind, pattern in _PATTERNS.items() if pattern.search(question)}
    if not found:
        found = {kind for kind, pattern in _FALLBACKS.items() if pattern.search(question)}
    if not found and _OTHER_WHAT.search(question):
        found.add("what")  # 有什么优点, 用什么索引: a what, but not "what is X"
    return frozenset(found)


def same_ask(question: str, entry_questions: list[str]) -> bool:
    """The question asks for a kind of answer one of the entry's questions asks for
    (or it, or all of them, ask for nothing in particular)."""
    wanted = asks(question)
    offered = frozenset().union(*(asks(q) for q in entry_questions))
    return not wanted or not offered or bool(wanted & offered)
