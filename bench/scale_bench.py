"""`python -m bench scale`: big knowledge bases (issue 15), cost curves against size.

    python -m bench scale [--sizes 10000,30000,100000] [--cache DIR] [--questions 120]
                          [--real-vectors 0] [--build-only] [--skip SECTION ...]

Builds each size once into the cache folder (default bench/results/scale/, git-ignored;
bench/scale_build.py), then measures in child processes, so each figure of memory is
one process's own: the query process (bench/scale_query.py), bm25s against rank_bm25
(bench/scale_bm25.py), adding and deleting a small file (bench/scale_updates.py).
Results go to bench/results/scale.json, the chart to docs/benchmarks/scale.png.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

from app.settings import REPO_ROOT
from bench.common import RESULTS, machine
from bench.scale_build import build

CHART = REPO_ROOT / "docs" / "benchmarks" / "scale.png"
SECTIONS = ("query", "bm25", "updates")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench scale")
    parser.add_argument("--sizes", default="10000,30000,100000", help="synthetic passages")
    parser.add_argument("--cache", type=Path, default=RESULTS / "scale")
    parser.add_argument("--questions", type=int, default=120, help="questions timed per size")
    parser.add_argument(
        "--real-vectors", type=int, default=0, help="passages embedded by the model itself"
    )
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--skip", nargs="*", default=[], choices=SECTIONS)
    return parser.parse_args(argv)


def run(argv: list[str]) -> list[str]:
    args = parse(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    root = args.cache.resolve()
    root.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    results = _previous(sizes)
    for size in sizes:
        row = results.setdefault(str(size), {})
        row["build"] = asdict(build(root, size, args.real_vectors))
        print(f"built {size}: {row['build']}", file=sys.stderr, flush=True)
    if not args.build_only:
        for size in sizes:
            row = results[str(size)]
            for section in SECTIONS:
                if section not in args.skip:
                    row[section] = _child(section, root, size, args.questions)
                    print(f"{section} {size}: {row[section]}", file=sys.stderr, flush=True)
    (RESULTS / "scale.json").write_text(json.dumps(results, indent=2))
    if args.build_only:
        return []
    from bench.scale_report import chart, table

    chart([results[str(s)] for s in sizes], CHART)
    command = "python -m bench scale " + " ".join(argv)
    header = f"Run on {machine()}; command `{command.strip()}`."
    return [header, "", *table([results[str(s)] for s in sizes])]


def _previous(sizes: list[int]) -> dict:
    """Earlier figures of the same sizes, kept for sections skipped in this run."""
    path = RESULTS / "scale.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    return {str(s): old.get(str(s), {}) for s in sizes}


def _child(section: str, root: Path, size: int, questions: int) -> dict:
    args = [str(root), str(size)] + ([] if section == "updates" else [str(questions)])
    done = subprocess.run(
        [sys.executable, "-m", f"bench.scale_{section}", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO_ROOT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.scale_{section} {size} failed: {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
