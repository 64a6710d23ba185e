"""Which FAQ entries reach the model as one more context (`ZHIKU_FAQ_CONTEXT_THRESHOLD`,
below the match threshold), measured on the rows `bench.faq_bench` scored: no chat model.

With the match threshold as shipped, a question's closest entry (the best passing the
matcher's checks, else the best) is passed as context when `decide` says "context". It is
*right* when it is the question's own entry (a paraphrase the match left to the model),
*wrong* otherwise (a near-miss, or another entry's paraphrase: text on the same subject
that does not answer the question, put first in the model's context). Precision: right /
passed; recall: right / paraphrases left to the model. Two rules for an entry that fails
the checks (names another thing, asks another kind of answer): passed as context when
close enough, or never. The value is chosen on the dev half as the best F1 (a misleading
context costs as much as a missed helpful one), a tie going to the higher threshold,
and read on the test half and the fresh questions.
"""

from __future__ import annotations

THRESHOLDS = [round(0.80 + 0.01 * i, 2) for i in range(11)]
CHECKS = "names + kind of answer"  # the matcher's checks, as bench.faq_bench names them
RULES = {
    "closest entry, checks or not": False,
    "only an entry passing the checks": True,  # shipped (app.faq.matching.decide)
}


def verdict(found: dict, threshold: float, match: float, rule: str) -> str:
    """`app.faq.matching.decide` under either rule for an entry failing the checks."""
    if found["score"] >= match and found["passes"]:
        return "answer"
    if found["score"] >= threshold and (found["passes"] or not RULES[rule]):
        return "context"
    return "none"


def context_metrics(rows: list[dict], threshold: float, match: float, rule: str) -> dict:
    right = wrong = left = 0
    for r in rows:
        found = r["matches"][CHECKS]
        given = verdict(found, threshold, match, rule)
        own = r["kind"] == "paraphrase" and found["top"] == r["entry"]
        left += r["kind"] == "paraphrase" and given != "answer"
        if given == "context":
            right, wrong = right + own, wrong + (not own)
    precision = right / (right + wrong) if right + wrong else 1.0
    recall = right / left if left else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"threshold": threshold, "rule": rule, "right": right, "wrong": wrong,
            "left": left, "precision": precision, "recall": recall, "f1": f1}  # fmt: skip


def run(halves: dict[str, list[dict]], match: float) -> dict:
    """Every threshold on each half under each rule; the value chosen on dev."""
    grid = {
        rule: {half: _row(rows, match, rule) for half, rows in halves.items()} for rule in RULES
    }
    chosen = {}
    for rule, by_half in grid.items():
        best = max(by_half["dev"], key=lambda m: (round(m["f1"], 6), m["threshold"]))
        chosen[rule] = {
            half: next(m for m in by_half[half] if m["threshold"] == best["threshold"])
            for half in halves
        }
    return {"match_threshold": match, "grid": grid, "chosen": chosen}


def _row(rows: list[dict], match: float, rule: str) -> list[dict]:
    return [context_metrics(rows, t, match, rule) for t in THRESHOLDS]


def report(result: dict, shipped: float) -> list[str]:
    lines = [
        "",
        f"FAQ entries given to the model as context (match threshold "
        f"{result['match_threshold']:.2f}; right / wrong contexts and precision / recall, "
        "dev + test + fresh):",
        "",
        "| context threshold | " + " | ".join(RULES) + " |",
        "|---" * (len(RULES) + 1) + "|",
    ]
    for n, t in enumerate(THRESHOLDS):
        cells = []
        for rule in RULES:
            by_half = result["grid"][rule]
            summed = _sum([by_half[half][n] for half in by_half])
            cells.append(_cell(summed))
        mark = " (default)" if abs(t - shipped) < 1e-9 else ""
        lines.append(f"| {t:.2f}{mark} | " + " | ".join(cells) + " |")
    lines += ["", "| rule | chosen on dev (best F1) | dev | test | fresh |", "|---" * 5 + "|"]
    for rule, by_half in result["chosen"].items():
        dev = by_half["dev"]
        lines.append(
            f"| {rule} | {dev['threshold']:.2f} | "
            + " | ".join(_cell(by_half[h]) for h in ("dev", "test", "fresh"))
            + " |"
        )
    return lines


def _sum(cells: list[dict]) -> dict:
    right, wrong = sum(c["right"] for c in cells), sum(c["wrong"] for c in cells)
    left = sum(c["left"] for c in cells)
    return {
        "right": right,
        "wrong": wrong,
        "left": left,
        "precision": right / (right + wrong) if right + wrong else 1.0,
        "recall": right / left if left else 1.0,
    }


def _cell(m: dict) -> str:
    return (
        f"{m['right']} right, {m['wrong']} wrong of {m['left']} left: "
        f"{m['precision']:.2f} / {m['recall']:.2f}"
    )
