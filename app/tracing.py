"""Traces of answers with OpenTelemetry, exported over OTLP/HTTP when
`OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) is set, and nothing at all when
not: without it no OpenTelemetry module is imported and every span is a shared no-op.

Two ways in. `span(name, **attributes)` times a block as it runs (the retriever's dense,
BM25, fusion and entity-channel steps, with their chunk ids and scores). `answer(...)`
opens the root span of one answer; its `record(result)` adds the chain's steps
(condense, gate, prompt, generate, verify, decide) after the fact from the result's
timings, tokens and abstention, so the chain itself needs no tracing code. Attributes are
named `zhiku.<name>`; the answer's text and the question are not recorded, only ids,
scores, counts and times (a trace store is often less guarded than the documents).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
_tracer: Any = None
_lock = threading.Lock()


def enabled() -> bool:
    """Whether spans are exported: an OTLP endpoint is configured and the SDK not disabled."""
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    return any(os.environ.get(name) for name in ENDPOINT_VARIABLES)


def _get_tracer() -> Any:
    """The OTLP-exporting tracer, made on first use (imports the SDK only then)."""
    global _tracer
    with _lock:
        if _tracer is None:
            from opentelemetry import trace
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor

            name = os.environ.get("OTEL_SERVICE_NAME", "zhiku")
            resource = Resource.create({"service.name": name})
            provider = TracerProvider(resource=resource)  # flushed at exit by the SDK
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
            trace.set_tracer_provider(provider)
            _tracer = provider.get_tracer("zhiku")
        return _tracer


def attributes(values: Mapping[str, object]) -> dict[str, Any]:
    """`zhiku.`-prefixed OpenTelemetry attributes: primitives and lists of them kept,
    None dropped, anything else as JSON."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            value = [v if isinstance(v, str | int | float | bool) else str(v) for v in value]
        elif not isinstance(value, str | int | float | bool):
            value = json.dumps(value, ensure_ascii=False, default=str)
        out[f"zhiku.{key}"] = value
    return out


class Span:
    """A span that may be a no-op; `recording` says whether attributes are worth computing."""

    def __init__(self, span: Any = None) -> None:
        self.span = span
        self.recording = span is not None

    def set(self, **values: object) -> None:
        if self.span is not None:
            self.span.set_attributes(attributes(values))


NOOP = Span()


@contextmanager
def span(name: str, **values: object) -> Iterator[Span]:
    """Time the block as a child of the current span (a no-op without an endpoint)."""
    if not enabled():
        yield NOOP
        return
    with _get_tracer().start_as_current_span(name, attributes=attributes(values)) as current:
        yield Span(current)


class Answer(Span):
    """The root span of one answer; `record` derives the chain's steps from its result."""

    def __init__(self, span: Any = None, started_ns: int = 0) -> None:
        super().__init__(span)
        self.started_ns = started_ns

    def record(self, result: Mapping[str, Any]) -> None:
        if self.span is None:
            return
        from opentelemetry import trace

        parent = trace.set_span_in_context(self.span)
        tracer, now = _get_tracer(), time.time_ns()
        for name, start, end, values in steps(result, self.started_ns, now):
            child = tracer.start_span(name, context=parent, start_time=start,
                                      attributes=attributes(values))  # fmt: skip
            child.end(end_time=end)
        self.set(strategy=result.get("strategy"), backend=result.get("backend"),
                 abstained=result.get("abstention", {}).get("abstained"))  # fmt: skip


@contextmanager
def answer(surface: str, **values: object) -> Iterator[Answer]:
    """The root span `answer` of one answer given through `surface` (cli, api, mcp…)."""
    if not enabled():
        yield Answer()
        return
    started = time.time_ns()
    with _get_tracer().start_as_current_span(
        "answer", start_time=started, attributes=attributes({"surface": surface, **values})
    ) as current:
        yield Answer(current, started)


def steps(result: Mapping[str, Any], started_ns: int, ended_ns: int) -> list[tuple]:
    """(name, start ns, end ns, attributes) of the chain's steps, from the result alone:
    the chain's clock starts with the root span, `total_s` ends at the last token, and
    what follows (verifying the draft, deciding) runs until the result was recorded."""
    t = result.get("timings") or {}
    tokens = result.get("tokens") or {}
    decision = result.get("abstention") or {}

    def at(seconds: float) -> int:
        return min(started_ns + round(seconds * 1e9), ended_ns)

    condensed = at(t.get("condense_s", 0.0))
    retrieved = at(t.get("condense_s", 0.0) + t.get("retrieval_s", 0.0))
    finished = max(at(t.get("total_s", 0.0)), retrieved)
    first = at(t.get("first_token_s", 0.0))
    output = int(tokens.get("output_tokens", 0) or 0)
    decode_s = max((finished - first) / 1e9, 1e-9)
    contexts = result.get("contexts") or []
    gated = decision.get("signal") == "evidence"
    return [
        ("condense", started_ns, condensed,
         {"rewritten": result.get("standalone_question") != result.get("question")}),
        ("gate", retrieved, retrieved,
         {"withheld": gated, "evidence": (decision.get("scores") or {}).get("evidence")}),
        ("prompt", retrieved, retrieved,
         {"tokens": tokens.get("input_tokens"), "chunk_ids": [c.get("chunk_id") for c in contexts],
          "scores": [c.get("score") or 0.0 for c in contexts]}),
        ("generate", retrieved, finished,
         {"first_token_s": t.get("first_token_s"), "output_tokens": output,
          "tokens_per_s": round(output / decode_s, 2) if output and not gated else None,
          "approximate": tokens.get("approximate")}),
        ("verify", finished, ended_ns,
         {"support": (decision.get("scores") or {}).get("support"),
          "citations": [c.get("chunk_id") for c in result.get("citations") or []]}),
        ("decide", ended_ns, ended_ns,
         {"abstained": decision.get("abstained"), "signal": decision.get("signal")}),
    ]  # fmt: skip
