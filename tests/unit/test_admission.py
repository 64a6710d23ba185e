"""The admission queue: one slot, FIFO order, a bounded queue, cancellation, release."""

from __future__ import annotations

import threading
import time

import pytest

from app.answering.admission import Admission, Cancelled, QueueFull


def test_requests_run_one_at_a_time_in_arrival_order() -> None:
    admission = Admission(slots=1, max_waiting=10)
    order: list[int] = []
    first = admission.enter()
    first.wait()
    tickets = [admission.enter() for _ in range(3)]
    assert [t.position for t in tickets] == [1, 2, 3]

    def run(n: int) -> None:
        tickets[n].wait()
        order.append(n)
        time.sleep(0.02)
        tickets[n].release()

    threads = [threading.Thread(target=run, args=(n,)) for n in (2, 0, 1)]  # started shuffled
    for thread in threads:
        thread.start()
    time.sleep(0.1)
    assert order == [] and admission.running == 1  # all wait for the first
    first.release()
    for thread in threads:
        thread.join(timeout=5)
    assert order == [0, 1, 2] and admission.running == 0 and admission.waiting == 0


def test_a_full_queue_is_refused_at_once() -> None:
    admission = Admission(slots=1, max_waiting=1, retry_after=7)
    running = admission.enter()
    running.wait()
    admission.enter()  # waits
    with pytest.raises(QueueFull) as refused:
        admission.enter()
    assert refused.value.retry_after == 7


def test_a_cancelled_waiter_leaves_and_a_released_slot_frees_the_next() -> None:
    admission = Admission(slots=1, max_waiting=5)
    running = admission.enter()
    running.wait()
    gone, stays = admission.enter(), admission.enter()
    with pytest.raises(Cancelled):
        gone.wait(cancelled=lambda: True)
    assert stays.position == 1  # the one that left no longer counts
    heard: list[int] = []
    waiter = threading.Thread(target=stays.wait, kwargs={"on_wait": heard.append})
    waiter.start()
    time.sleep(0.1)
    running.release()
    waiter.join(timeout=5)
    assert heard == [1] and admission.running == 1
    stays.release()
    stays.release()  # idempotent
    assert admission.running == 0


def test_hosted_slots_run_in_parallel() -> None:
    admission = Admission(slots=3, max_waiting=0)
    tickets = [admission.enter() for _ in range(3)]
    for ticket in tickets:
        ticket.wait()
    assert admission.running == 3
    with pytest.raises(QueueFull):
        admission.enter()


def test_a_slot_is_freed_when_its_block_fails() -> None:
    admission = Admission(slots=1, max_waiting=1)
    with pytest.raises(RuntimeError), admission.slot():
        assert admission.running == 1
        raise RuntimeError("the answer failed")
    assert admission.running == 0 and admission.waiting == 0
