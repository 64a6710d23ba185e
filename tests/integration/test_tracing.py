"""One real `zhiku ask` exports its trace over OTLP/HTTP to a receiver this test runs on
127.0.0.1 (decoded with opentelemetry-proto, as a collector would): the span tree of the
answer, with the retrieved chunk ids on the retrieval spans. Uses the fast 0.5B model."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.helpers import settings_env
from tests.helpers import zhiku as run_zhiku

CHAIN_STEPS = {"condense", "gate", "prompt", "generate", "verify", "decide"}
RETRIEVAL = {"retrieve.dense", "retrieve.bm25", "retrieve.fusion", "retrieve.entity"}


class Receiver(ThreadingHTTPServer):
    spans: list


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # http.server's name for it
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                self.server.spans.extend(scope_spans.spans)
        reply = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(("127.0.0.1", 0), Handler)
    server.spans = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def value(attribute) -> object:
    any_value = attribute.value
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return [value(type("A", (), {"value": v})) for v in any_value.array_value.values]
    return getattr(any_value, kind)


def attributes(span) -> dict:
    return {a.key: value(a) for a in span.attributes}


@pytest.mark.slow
def test_zhiku_ask_exports_the_span_tree(kb_settings, receiver: Receiver, monkeypatch) -> None:
    endpoint = f"http://127.0.0.1:{receiver.server_address[1]}"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
    assert settings_env(kb_settings)["OTEL_EXPORTER_OTLP_ENDPOINT"] == endpoint
    done = run_zhiku(kb_settings, "ask", "GPT-1有多少层？", "--json", "--collection", "chain")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)

    spans = {s.name: s for s in receiver.spans}  # exported at exit, before the process ends
    assert {"answer", "retrieve"} | RETRIEVAL | CHAIN_STEPS <= set(spans), sorted(spans)
    assert len({s.trace_id for s in receiver.spans}) == 1  # one answer, one trace
    root = spans["answer"]
    assert attributes(root)["zhiku.surface"] == "cli"
    for name in CHAIN_STEPS | {"retrieve"}:
        assert spans[name].parent_span_id == root.span_id, name
    for name in RETRIEVAL:
        assert spans[name].parent_span_id == spans["retrieve"].span_id, name
    # the retrieved chunks, with their scores, are the ones the answer was given
    retrieved = attributes(spans["retrieve"])
    assert retrieved["zhiku.chunk_ids"] == [c["chunk_id"] for c in result["contexts"]]
    dense = attributes(spans["retrieve.dense"])
    assert set(retrieved["zhiku.chunk_ids"]) & set(dense["zhiku.chunk_ids"])
    assert len(dense["zhiku.scores"]) == len(dense["zhiku.chunk_ids"])
    generate = attributes(spans["generate"])
    assert generate["zhiku.output_tokens"] == result["tokens"]["output_tokens"]
    assert attributes(spans["prompt"])["zhiku.tokens"] == result["tokens"]["input_tokens"]
    assert attributes(spans["decide"])["zhiku.abstained"] == result["abstention"]["abstained"]
    assert spans["generate"].end_time_unix_nano <= spans["verify"].end_time_unix_nano


@pytest.mark.slow
def test_an_api_answer_is_traced_too(kb_settings, receiver: Receiver) -> None:
    """The same span tree for an answer through `zhiku serve` (surface `api`), asked with
    the openai SDK; spans leave the server on its schedule or at shutdown."""
    from openai import OpenAI

    from tests.helpers import serving

    endpoint = f"http://127.0.0.1:{receiver.server_address[1]}"
    with serving(kb_settings, OTEL_EXPORTER_OTLP_ENDPOINT=endpoint) as served:
        client = OpenAI(base_url=f"{served.url}/v1", api_key="unused", max_retries=0)
        reply = client.chat.completions.create(
            model="zhiku/chain", messages=[{"role": "user", "content": "GPT-1有多少层？"}]
        )
        assert reply.choices[0].message.content
        for _ in range(60):  # the batch exporter sends within a few seconds
            if any(s.name == "answer" for s in receiver.spans):
                break
            threading.Event().wait(0.5)
    spans = {s.name: s for s in receiver.spans}
    assert {"answer", "retrieve"} | CHAIN_STEPS <= set(spans), sorted(spans)
    assert attributes(spans["answer"])["zhiku.surface"] == "api"
    for name in CHAIN_STEPS:
        assert spans[name].parent_span_id == spans["answer"].span_id, name
