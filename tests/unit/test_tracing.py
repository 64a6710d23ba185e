"""app.tracing without a collector: no endpoint means no OpenTelemetry import and no-op
spans; the chain's steps are derived from a result's timings in order."""

from __future__ import annotations

import os
import subprocess
import sys

from app import tracing
from app.settings import REPO_ROOT

RESULT = {
    "question": "GPT-1有多少层？",
    "standalone_question": "GPT-1有多少层？",
    "strategy": "zero-shot",
    "timings": {"condense_s": 0.0, "retrieval_s": 0.05, "first_token_s": 1.05, "total_s": 2.05},
    "tokens": {"input_tokens": 500, "output_tokens": 20},
    "contexts": [{"chunk_id": "a", "score": 1.0}, {"chunk_id": "b", "score": 0.5}],
    "citations": [{"chunk_id": "a"}],
    "abstention": {"abstained": False, "signal": None, "scores": {"support": {"ratio": 1.0}}},
}


def test_without_an_endpoint_nothing_is_imported_or_recorded() -> None:
    code = (
        "import sys; from app import tracing\n"
        "with tracing.span('x', a=1) as s, tracing.answer('cli') as a:\n"
        "    s.set(b=2); a.record({})\n"
        "    assert not s.recording and not a.recording\n"
        "print(any(m.startswith('opentelemetry') for m in sys.modules))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO_ROOT,
                         capture_output=True, text=True, check=True)  # fmt: skip
    assert out.stdout.strip() == "False", out.stderr


def test_enabled_by_either_endpoint_variable(monkeypatch) -> None:
    for name in tracing.ENDPOINT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert not tracing.enabled()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    assert tracing.enabled()
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert not tracing.enabled()


def test_steps_follow_the_timings() -> None:
    start = 1_000_000_000
    steps = tracing.steps(RESULT, start, start + 3_000_000_000)
    names = [s[0] for s in steps]
    assert names == ["condense", "gate", "prompt", "generate", "verify", "decide"]
    spans = {name: (begin, end, values) for name, begin, end, values in steps}
    assert spans["generate"][:2] == (start + 50_000_000, start + 2_050_000_000)
    assert spans["generate"][2]["tokens_per_s"] == 20.0  # 20 tokens in the 1 s after the first
    assert spans["prompt"][2]["tokens"] == 500 and spans["prompt"][2]["chunk_ids"] == ["a", "b"]
    assert spans["verify"][1] == start + 3_000_000_000
    assert all(begin <= end for begin, end, _ in spans.values())


def test_attributes_are_prefixed_and_otel_typed() -> None:
    values = tracing.attributes({"ids": ("a", 1), "none": None, "nested": {"x": 1}})
    assert values == {"zhiku.ids": ["a", 1], "zhiku.nested": '{"x": 1}'}
