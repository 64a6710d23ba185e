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

# Order matters only for readability: every pattern that matches adds its kind.
_KINDS: dict[str, str] = {
    "who": r"谁|哪位|哪个(?:团队|公司|机构|人)|哪家|\bwho\b|\bwhom\b",
    "when": r"哪一?年|什么时候|何时|哪天|几月|\bwhen\b|\b(?:which|what) year\b",
    "count": r"多少|几(?:个|层|步|种|次|位|年|天|倍)|多[大长久快慢重]"
    r"|\bhow (?:many|much|big|long)\b",
    "why": r"为什么|为何|什么原因|\bwhy\b",
    "how": r"怎么|怎样|如何|[按靠]什么|用什么方[法式]|方[法式]|过程|步骤"
    r"|\bhow\b(?! (?:many|much|big|long))",
    "where": r"哪里|哪儿|在哪(?!一?年|个|些)|什么地方|(?:什么|哪个|哪些)位置|\bwhere\b",
    "which": r"哪些|有哪|哪种|哪一?类|哪个(?!团队|公司|机构|人)|\bwhich\b(?! year)",
    "define": r"是什么|什么是|什么叫|何为|何谓|指的?是|意思|解释|介绍|是指"
    r"|\bwhat (?:is|are)\b|\bdefine\b|\bmean",
    "whether": r"吗\s*[？?]?\s*$|是否|是不是|能不能|可不可以|有没有|要不要"
    r"|^\s*(?:does|do|is|are|can|could|should|will|would)\b",
    "purpose": r"做什么|干什么|作用|用途|用来|\bwhat does\b.*\bdo\b|\bfor what\b",
}
_PATTERNS = {kind: re.compile(pattern, re.IGNORECASE) for kind, pattern in _KINDS.items()}
_OTHER_WHAT = re.compile(r"什么|啥|\bwhat\b", re.IGNORECASE)


def asks(question: str) -> frozenset[str]:
    """The kinds of answer the question asks for; empty when it has no interrogative."""
    found = {kind for kind, pattern in _PATTERNS.items() if pattern.search(question)}
    if not found and _OTHER_WHAT.search(question):
        found.add("what")  # 有什么优点, 用什么索引: a what, but not "what is X"
    return frozenset(found)


def same_ask(question: str, entry_questions: list[str]) -> bool:
    """The question asks for a kind of answer one of the entry's questions asks for
    (or it, or all of them, ask for nothing in particular)."""
    wanted = asks(question)
    offered = frozenset().union(*(asks(q) for q in entry_questions))
    return not wanted or not offered or bool(wanted & offered)
