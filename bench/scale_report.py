"""The tables and the chart of `python -m bench scale`, from its JSON rows (one per size)."""

from __future__ import annotations

from pathlib import Path


def table(rows: list[dict]) -> list[str]:
    """Markdown tables: build and disk; query memory and latency; BM25 and updates."""
    lines = [
        "| chunks | build s (in the model) | zhiku chunks/s without the model | "
        "Chroma MB | BM25 MB | record manager MB |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        b = r["build"]
        disk = b["disk_mb"]
        lines.append(
            f"| {b['chunks']:,} | {b['build_s']:.0f} ({b['embed_s']:.0f}) | "
            f"{b['zhiku_chunks_per_s']:.0f} | {disk['chroma']:.0f} | {disk['bm25']:.0f} | "
            f"{disk['record_manager']:.0f} |"
        )
    if all("query" in r for r in rows):
        lines += [
            "",
            "| chunks | hybrid p50 / p95 ms | dense p50 / p95 | BM25 p50 / p95 | "
            "hybrid without entity channel | embedding the question p50 | "
            "RSS MB: embedder → + Chroma → + BM25 → after queries | hit@5 hybrid (without) "
            "| load avg |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            q = r["query"]
            lat, mem = q["latency"], q["memory_mb"]
            lines.append(
                f"| {r['build']['chunks']:,} | **{_pair(lat['hybrid'])}** | "
                f"{_pair(lat['dense'])} | {_pair(lat['bm25'])} | "
                f"{_pair(lat['hybrid_no_entities'])} | "
                f"{lat['embed_query']['p50_ms']} | {mem['embedder']:.0f} → {mem['chroma']:.0f}"
                f" → {mem['bm25']:.0f} → {mem['after_queries']:.0f} | {q['hit@5']['hybrid']} "
                f"({q['hit@5']['hybrid_no_entities']}) | {' '.join(q['loadavg'])} |"
            )
    if all("bm25" in r and "updates" in r for r in rows):
        lines += [
            "",
            "| chunks | BM25 build s / load s | bm25s q/s | rank_bm25 q/s | **ratio** | "
            "add 3-chunk file s | delete it s | full BM25 rebuild s | add / rebuild |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            m, u = r["bm25"], r["updates"]
            load = r.get("query", {}).get("bm25_load_s", float("nan"))
            lines.append(
                f"| {m['chunks']:,} | {m['bm25s_build_s']} / {load} | {m['bm25s_qps']} | "
                f"{m['rank_bm25_qps']} | **{m['ratio']}×** | {u['add_s']} | {u['delete_s']} | "
                f"{u['full_bm25_rebuild_s']} | {u['add_vs_rebuild']} |"
            )
    return lines


def _pair(p: dict) -> str:
    return f"{p['p50_ms']:.0f} / {p['p95_ms']:.0f}"


def chart(rows: list[dict], path: Path) -> None:
    """Four cost curves against the collection's size (log x)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = [r["build"]["chunks"] for r in rows]
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    ax = axes[0][0]
    ax.plot(x, [r["build"]["build_s"] for r in rows], "o-", label="build, total")
    ax.plot(
        x,
        [r["build"]["build_s"] - r["build"]["embed_s"] for r in rows],
        "o-",
        label="build without the model (use)",
    )
    ax.set(title="Build (s)", ylabel="s")
    ax = axes[0][1]
    if all("query" in r for r in rows):
        for mode, color in (("hybrid", "C0"), ("dense", "C1"), ("bm25", "C2")):
            for stat, style in (("p50_ms", "o-"), ("p95_ms", "x--")):
                ax.plot(
                    x,
                    [r["query"]["latency"][mode][stat] for r in rows],
                    style,
                    color=color,
                    label=f"{mode} {stat[:3]}",
                )
        ax.axhline(50, color="grey", lw=0.8)
        ax.axhline(100, color="grey", lw=0.8, ls=":")
    ax.set(title="Retrieval latency (ms; targets 50 / 100 at 100k)", ylabel="ms")
    ax = axes[1][0]
    if all("query" in r for r in rows):
        for key, label in (
            ("embedder", "embedder"),
            ("chroma", "+ Chroma"),
            ("bm25", "+ BM25"),
            ("after_queries", "after the questions"),
        ):
            ax.plot(x, [r["query"]["memory_mb"][key] for r in rows], "o-", label=label)
    ax.plot(x, [r["build"]["disk_mb"]["chroma"] for r in rows], "s:", label="Chroma on disk")
    ax.set(title="Query process RSS and disk (MB)", ylabel="MB")
    ax = axes[1][1]
    if all("updates" in r for r in rows):
        ax.plot(x, [r["updates"]["add_s"] for r in rows], "o-", label="add a 3-chunk file")
        ax.plot(x, [r["updates"]["delete_s"] for r in rows], "o-", label="delete it")
        ax.plot(
            x,
            [r["updates"]["full_bm25_rebuild_s"] for r in rows],
            "s--",
            label="full BM25 rebuild (baseline)",
        )
    ax.set(title="Updates (s, embedding excluded)", ylabel="s")
    for ax in (a for row in axes for a in row):
        ax.set_xscale("log")
        ax.set_xlabel("chunks in the collection")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
