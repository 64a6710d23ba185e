"""An FAQ import of 10,000 rows (issue 28's bad input), timed: `python -m bench faq import`
alone, or as part of `python -m bench faq`.

The sheet is a product line's support FAQ (`faq_rows`: 1,250 models x 8 questions, each
naming its model, so every question is another entry), also imported by
tests/integration/test_faq_import_10k.py. Three figures on the same questions:

- the import as `zhiku faq import` and the API run it (`FaqService.import_file`: parse,
  check, embed in batches, one transaction per batch), on a fresh data folder;
- the bare model on the same questions, batched (`embed_queries`): the floor, timed on
  the first `BARE_SAMPLE` questions and scaled to all of them;
- the path before (one `embed_query` call per question), on the first `OLD_PATH_SAMPLE`
  and scaled likewise.

CPU seconds are reported beside wall seconds: on a shared machine the wall time says
more about the neighbours than about the import.
"""

from __future__ import annotations

import csv
import io
import tempfile
import time
from pathlib import Path

from app.models.embeddings import embed_queries, make_embeddings

ROWS = 10_000
OLD_PATH_SAMPLE = 500
BARE_SAMPLE = 2_000
PRODUCTS = 1_250
_TEMPLATES = [  # (question, answer) about one model; each asks another kind of thing
    ("{p} 的保修期是多久？", "{p} 保修 {y} 年，自购买之日起计算，凭发票在任一门店办理。"),
    ("{p} 支持哪些操作系统？", "{p} 支持 Windows 10 及以上、macOS 12 及以上和主流 Linux 发行版。"),
    ("{p} 的额定功率是多少瓦？", "{p} 的额定功率是 {w} 瓦，待机功率低于 0.5 瓦。"),
    ("{p} 在哪里可以买到？", "{p} 在官方商城和各地授权门店有售，<b>线上</b>下单次日发货。"),
    ("{p} 如何恢复出厂设置？", "长按 {p} 背面的复位键 {s} 秒，指示灯闪烁后松开即可。"),
    ("{p} 为什么会自动关机？", "{p} 在机身温度过高或电量低于 5% 时会自动关机以保护电池。"),
    ("{p} 是哪一年上市的？", "{p} 于 {year} 年上市。"),
    ("{p} 能不能用 USB-C 充电？", "{p} 可以用 USB-C 充电，建议使用 {w} 瓦以上的充电器。"),
]


def faq_rows(count: int = ROWS) -> list[tuple[str, str]]:
    """`count` distinct (question, answer) pairs; row r of a sheet is pair r - 2."""
    if count > len(_TEMPLATES) * PRODUCTS:
        raise ValueError(f"at most {len(_TEMPLATES) * PRODUCTS} distinct rows")
    rows = []
    for n in range(count):
        product = f"ZK-{1000 + n // len(_TEMPLATES)}"
        question, answer = _TEMPLATES[n % len(_TEMPLATES)]
        values = {"p": product, "y": 1 + n % 3, "w": 20 + n % 45, "s": 3 + n % 8,
                  "year": 2015 + n % 10}  # fmt: skip
        rows.append((question.format(**values), answer.format(**values)))
    return rows


def csv_sheet(rows: list[tuple[str, str]]) -> bytes:
    """A csv file with the 问题,答案 header, as Excel in China saves one (UTF-8 with BOM)."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["问题", "答案"])
    writer.writerows(rows)
    return text.getvalue().encode("utf-8-sig")


def run(settings=None) -> dict:
    """Seconds for the import, the bare batched model and the old path (scaled)."""
    from app.knowledge.faq import FaqService
    from app.knowledge.service import KnowledgeBases
    from app.settings import load_settings

    rows = faq_rows()
    questions = [q for q, _ in rows]
    with tempfile.TemporaryDirectory() as tmp:
        settings = settings or load_settings(data_dir=Path(tmp) / "data")
        embeddings = make_embeddings(settings)
        embeddings.embed_query("预热")  # the model loads once, outside every timing
        KnowledgeBases(settings).create("faq-import")
        service, sheet = FaqService(settings), csv_sheet(rows)
        (report, import_s, import_cpu) = timed(
            lambda: service.import_file("faq-import", "faq.csv", sheet, "bench")
        )
        _, bare_s, bare_cpu = timed(lambda: embed_queries(embeddings, questions[:BARE_SAMPLE]))
        _, old_s, old_cpu = timed(
            lambda: [embeddings.embed_query(q) for q in questions[:OLD_PATH_SAMPLE]]
        )
    bare, old = len(questions) / BARE_SAMPLE, len(questions) / OLD_PATH_SAMPLE
    bare_s, bare_cpu, old_s, old_cpu = bare_s * bare, bare_cpu * bare, old_s * old, old_cpu * old
    return {
        "rows": len(rows),
        "added": report.added,
        "errors": len(report.errors),
        "import_s": round(import_s, 1),
        "import_cpu_s": round(import_cpu, 1),
        "bare_batched_embed_s": round(bare_s, 1),
        "bare_batched_embed_cpu_s": round(bare_cpu, 1),
        "bare_sample": BARE_SAMPLE,
        "old_one_at_a_time_s": round(old_s, 1),
        "old_one_at_a_time_cpu_s": round(old_cpu, 1),
        "old_sample": OLD_PATH_SAMPLE,
        "speedup_vs_old": round(old_s / import_s, 1),
        "import_over_bare": round(import_s / bare_s, 2),
        "load_average": open("/proc/loadavg").read().split()[:3],
    }


def timed(work):
    """(result, wall seconds, CPU seconds of this process: every thread of the model)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def report(result: dict) -> list[str]:
    r = result
    return [
        f"Import of {r['rows']:,} csv rows (`FaqService.import_file`, as `zhiku faq import` "
        f"and the `import-faq` job run it; {r['added']:,} added): **{r['import_s']:.0f} s** "
        f"({r['import_cpu_s']:.0f} CPU s). The bare model on the same questions, batched "
        f"(timed on {r['bare_sample']:,}, scaled): {r['bare_batched_embed_s']:.0f} s "
        f"({r['bare_batched_embed_cpu_s']:.0f} CPU s); the import takes "
        f"{r['import_over_bare']:.2f}x that. The old path, one `embed_query` per question "
        f"(timed on {r['old_sample']}, scaled): {r['old_one_at_a_time_s']:.0f} s "
        f"({r['old_one_at_a_time_cpu_s']:.0f} CPU s), {r['speedup_vs_old']:.1f}x the import. "
        f"Load average at the end: {' / '.join(r['load_average'])}.",
    ]
