"""The chain behaves as a LangChain Runnable should (issue 27, item 7): `batch` and `abatch`
answer each input in order and report each as a run to the config's callbacks (LangSmith,
tracers), and so does `stream`, once per answer; `astream` yields the same events as
`stream` while the event loop stays free.

Real parts: the shared knowledge base, the fast 0.5B model (tests/conftest.py). Each batch
holds one question the model answers and one nothing in the knowledge base is about
(withheld), and the generation is short (max_tokens = 96), to keep model runs few.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler

from app.answering.chain import build_rag_chain
from app.settings import Settings

ANSWERED = "GPT-1有多少层？"
WITHHELD = "火星上的第一家咖啡馆叫什么名字？"


class Runs(BaseCallbackHandler):
    """The chain's top-level runs, as a tracer sees them."""

    def __init__(self) -> None:
        self.started: dict[UUID, Any] = {}
        self.ended: dict[UUID, Any] = {}

    def on_chain_start(
        self, serialized: Any, inputs: Any, *, run_id: UUID, parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:  # fmt: skip
        if parent_run_id is None and kwargs.get("name") == "RagChain":
            self.started[run_id] = inputs

    def on_chain_end(
        self, outputs: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        if run_id in self.started:
            self.ended[run_id] = outputs


def _check(results: list[dict], runs: Runs) -> None:
    assert [r["question"] for r in results] == [ANSWERED, WITHHELD]
    assert results[0]["answer"] and not results[0]["refused"]
    assert results[1]["refused"]
    assert sorted(runs.started.values()) == sorted([ANSWERED, WITHHELD])
    assert sorted(o["question"] for o in runs.ended.values()) == sorted([ANSWERED, WITHHELD])


def test_batch_answers_each_input_and_reports_each_run(kb_settings: Settings) -> None:
    chain = build_rag_chain(kb_settings, strategy="zero-shot")
    runs = Runs()
    results = chain.batch([ANSWERED, WITHHELD], config={"callbacks": [runs]})
    _check(results, runs)


def test_abatch_answers_each_input_and_reports_each_run(kb_settings: Settings) -> None:
    chain = build_rag_chain(kb_settings, strategy="zero-shot")
    runs = Runs()
    results = asyncio.run(chain.abatch([ANSWERED, WITHHELD], config={"callbacks": [runs]}))
    _check(results, runs)


def test_astream_yields_the_events_of_stream_and_leaves_the_loop_free(
    kb_settings: Settings,
) -> None:
    chain = build_rag_chain(kb_settings, strategy="zero-shot")

    async def stream_and_tick() -> tuple[list[dict], int]:
        ticks = 0
        done = asyncio.Event()

        async def tick() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0.01)

        ticker = asyncio.create_task(tick())
        events = [event async for event in chain.astream({"question": ANSWERED, "history": []})]
        done.set()
        await ticker
        return events, ticks

    events, ticks = asyncio.run(stream_and_tick())
    assert events[0]["event"] == "contexts"
    tokens = [e for e in events if e["event"] == "token"]
    assert len(tokens) >= 2, "the answer arrives token by token"
    assert events[-1]["event"] == "result" and events[-1]["question"] == ANSWERED
    assert "".join(t["text"] for t in tokens).strip()
    assert ticks > 10, "the event loop was blocked while the model wrote"


def test_stream_reports_one_run_with_its_result(kb_settings: Settings) -> None:
    chain = build_rag_chain(kb_settings, strategy="zero-shot")
    runs = Runs()
    events = list(chain.stream({"question": WITHHELD, "history": []}, {"callbacks": [runs]}))
    assert events[-1]["event"] == "result"
    assert list(runs.started.values()) == [{"question": WITHHELD, "history": []}]
    assert [o["question"] for o in runs.ended.values()] == [WITHHELD]
