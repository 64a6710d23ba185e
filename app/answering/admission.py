"""Who may generate now: one slot for the local model, several for a hosted server.

The local llama.cpp model holds one context, so its requests take turns in a bounded
first-in-first-out queue (`ZHIKU_MAX_QUEUE` waiting at most); a hosted server answers
in parallel, up to `ZHIKU_HOSTED_CONCURRENCY` requests at once. The HTTP API and the
Streamlit chat use the same rules through one `Admission` per backend and process, so a
user waiting for the local model can be told their place, and a full queue is refused at
once (HTTP 429) instead of piling up. A waiter that gives up (a disconnected client)
leaves the queue, and a finished or cancelled request frees its slot for the next at once.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from app.errors import UserError
from app.models.chat import chat_backend
from app.settings import Settings


class QueueFull(UserError):
    """Too many requests are already waiting; try again shortly."""

    def __init__(self, waiting: int, retry_after: int) -> None:
        super().__init__(f"{waiting} requests are waiting for the model; retry in {retry_after} s")
        self.retry_after = retry_after


class Cancelled(Exception):
    """The caller stopped waiting (its client went away)."""


class Admission:
    """`slots` requests run at once; up to `max_waiting` more wait, first come first served."""

    def __init__(self, slots: int, max_waiting: int, retry_after: int = 10) -> None:
        self.slots = slots
        self.max_waiting = max_waiting
        self.retry_after = retry_after
        self.running = 0
        self._waiting: deque[int] = deque()
        self._numbers = itertools.count()
        self._changed = threading.Condition()

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def enter(self) -> Ticket:
        """A place in the queue, or QueueFull at once when too many are waiting."""
        with self._changed:
            if self.running >= self.slots and len(self._waiting) >= self.max_waiting:
                raise QueueFull(len(self._waiting), self.retry_after)
            number = next(self._numbers)
            self._waiting.append(number)
            return Ticket(self, number)

    @contextmanager
    def slot(
        self,
        on_wait: Callable[[int], None] | None = None,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> Iterator[None]:
        """Enter, wait for the turn, hold the slot for the block, free it."""
        ticket = self.enter()
        try:
            ticket.wait(on_wait, cancelled)
            yield
        finally:
            ticket.release()


class Ticket:
    """One request's place: waiting (position ≥ 1), running (0), or released."""

    def __init__(self, admission: Admission, number: int) -> None:
        self._admission = admission
        self._number = number
        self._state = "waiting"

    @property
    def position(self) -> int:
        """How many requests run or wait ahead of this one plus one; 0 once it runs."""
        queue = self._admission._waiting
        with self._admission._changed:
            return queue.index(self._number) + 1 if self._number in queue else 0

    def wait(
        self,
        on_wait: Callable[[int], None] | None = None,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> None:
        """Block until this request may run. `on_wait(position)` hears every change of
        position; `cancelled()` is polled and a True leaves the queue (Cancelled)."""
        admission, told = self._admission, None
        with admission._changed:
            queue = admission._waiting
            while not (queue[0] == self._number and admission.running < admission.slots):
                position = queue.index(self._number) + 1
                if on_wait and position != told:
                    told = position
                    on_wait(position)
                if cancelled():
                    queue.remove(self._number)
                    self._state = "released"
                    admission._changed.notify_all()
                    raise Cancelled
                admission._changed.wait(timeout=0.2)
            queue.popleft()
            admission.running += 1
            self._state = "running"
            admission._changed.notify_all()

    def release(self) -> None:
        """Leave the queue, or free the slot; the next request starts at once. Idempotent."""
        admission = self._admission
        with admission._changed:
            if self._state == "waiting" and self._number in admission._waiting:
                admission._waiting.remove(self._number)
            elif self._state == "running":
                admission.running -= 1
            self._state = "released"
            admission._changed.notify_all()


_admissions: dict[tuple, Admission] = {}
_lock = threading.Lock()


def admission_for(settings: Settings, backend: str) -> Admission:
    """The process-wide admission of a backend: its slots, shared by every request with the
    same admission key (one for the local model, one per hosted server)."""
    chat = chat_backend(settings, backend)
    key = (*chat.admission_key, settings.serving.max_queue)
    with _lock:
        if key not in _admissions:
            _admissions[key] = Admission(chat.slots, settings.serving.max_queue)
        return _admissions[key]
