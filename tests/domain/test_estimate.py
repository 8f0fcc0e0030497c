"""The queue's wait estimate, against a simulated desk and against a moving average of waits."""

from __future__ import annotations

import heapq
import itertools
import random
from collections import deque
from dataclasses import dataclass, field

import pytest

from madoguchi.domain.estimate import (
    DEFAULT_HANDLE_SECONDS,
    Staffing,
    estimate_wait,
    median,
    robust_mean,
    typical_reply,
)


def test_no_wait_while_operators_have_room() -> None:
    assert estimate_wait(1, Staffing(serving_slots=3, free_slots=1), [300.0]) == 0.0
    assert estimate_wait(2, Staffing(serving_slots=3, free_slots=2), [300.0]) == 0.0


def test_each_place_beyond_the_free_slots_waits_for_one_slot_to_free() -> None:
    # Three busy slots, chats take 300 s: one slot frees every 100 s on average.
    busy = Staffing(serving_slots=3, free_slots=0)
    assert estimate_wait(1, busy, [300.0] * 10) == 100.0
    assert estimate_wait(4, busy, [300.0] * 10) == 400.0
    # More operators, shorter waits.
    assert estimate_wait(4, Staffing(serving_slots=6, free_slots=0), [300.0] * 10) == 200.0


def test_nobody_online_gives_no_number_and_no_history_a_default() -> None:
    assert estimate_wait(1, Staffing(serving_slots=0, free_slots=0), [300.0]) is None
    assert estimate_wait(1, Staffing(serving_slots=1, free_slots=0), []) == DEFAULT_HANDLE_SECONDS
    with pytest.raises(ValueError, match="position"):
        estimate_wait(0, Staffing(1, 0), [])


def test_one_stuck_chat_does_not_move_the_handle_time() -> None:
    handles = [300.0] * 9 + [30_000.0]  # someone forgot to end a chat
    assert robust_mean(handles) == (9 * 300.0 + 1500.0) / 10
    assert robust_mean([200.0, 400.0]) == 300.0
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([1.0, 2.0, 3.0, 4.0]) == 2.5
    assert robust_mean([]) is None


def test_typical_reply_needs_a_few_chats_before_it_says_anything() -> None:
    assert typical_reply([60.0, 80.0]) is None
    assert typical_reply([60.0, 80.0, 600.0]) == 80.0


# -- a simulated desk -------------------------------------------------------------------------


@dataclass
class Desk:
    """A FIFO queue served by a number of slots that changes over the day."""

    rng: random.Random
    handle_mean: float
    lognormal: bool
    slots: int = 0
    busy: int = 0
    queue: deque[tuple[float, int]] = field(default_factory=deque)
    active: set[int] = field(default_factory=set)
    leaving: set[int] = field(default_factory=set)  # chats of operators who went away
    handles: deque[float] = field(default_factory=lambda: deque(maxlen=50))
    waits: deque[float] = field(default_factory=lambda: deque(maxlen=20))
    predictions: dict[int, tuple[float | None, float | None]] = field(default_factory=dict)
    errors: list[tuple[float, float]] = field(default_factory=list)

    def handle_time(self) -> float:
        if self.lognormal:  # long-tailed, as real chats are; same mean
            sigma = 0.8
            return (
                self.rng.lognormvariate(0, sigma)
                * self.handle_mean
                / (2.718281828 ** (sigma**2 / 2))
            )
        return self.rng.expovariate(1 / self.handle_mean)


def simulate(seed: int, *, lognormal: bool) -> tuple[float, float]:
    """Mean absolute error of our estimate and of a moving average of the last 20 waits.

    An eight-hour day, a chat every ~130 s, chats take 10 minutes on average: six operators
    for two hours (77 % busy), three over lunch (the queue grows), then six again (it drains).
    """
    rng = random.Random(seed)
    desk = Desk(rng, handle_mean=600.0, lognormal=lognormal)
    staffing = [(0.0, 6), (7200.0, 3), (14_400.0, 6)]
    horizon = 28_800.0
    counter = itertools.count()
    heap: list[tuple[float, int, str, float]] = []
    for at, slots in staffing:
        heapq.heappush(heap, (at, next(counter), "staff", float(slots)))
    t = rng.expovariate(1 / 130)
    while t < horizon:
        heapq.heappush(heap, (t, next(counter), "arrive", 0.0))
        t += rng.expovariate(1 / 130)

    def start_next(now: float) -> None:
        while desk.queue and desk.busy < desk.slots:
            arrived, chat = desk.queue.popleft()
            begin(now, chat, now - arrived)

    def begin(now: float, chat: int, waited: float) -> None:
        desk.busy += 1
        desk.waits.append(waited)
        ours, average = desk.predictions.pop(chat)
        if ours is not None and average is not None:
            desk.errors.append((abs(ours - waited), abs(average - waited)))
        handle = desk.handle_time()
        desk.active.add(chat)
        heapq.heappush(heap, (now + handle, chat, "done", handle))

    while heap:
        now, chat, kind, value = heapq.heappop(heap)
        if kind == "staff":
            desk.slots = int(value)
            # Operators who go away finish their chats but take no new ones: their chats
            # no longer hold (or free) a slot of those who stay.
            over = desk.busy - desk.slots
            if over > 0:
                going = rng.sample(sorted(desk.active - desk.leaving), over)
                desk.leaving.update(going)
                desk.busy -= over
            start_next(now)
        elif kind == "done":
            desk.active.discard(chat)
            desk.handles.append(value)
            if chat in desk.leaving:
                desk.leaving.discard(chat)
            else:
                desk.busy -= 1
                start_next(now)
        else:
            free = max(desk.slots - desk.busy, 0) if not desk.queue else 0
            ours = estimate_wait(
                len(desk.queue) + 1, Staffing(desk.slots, free), list(desk.handles)
            )
            average = sum(desk.waits) / len(desk.waits) if len(desk.waits) >= 5 else None
            desk.predictions[chat] = (ours, average)
            desk.queue.append((now, chat))
            start_next(now)
    assert len(desk.errors) > 150
    ours_error = sum(e[0] for e in desk.errors) / len(desk.errors)
    average_error = sum(e[1] for e in desk.errors) / len(desk.errors)
    return ours_error, average_error


@pytest.mark.parametrize("lognormal", [False, True], ids=["exponential", "long-tailed"])
def test_the_estimate_beats_a_moving_average_of_recent_waits(lognormal: bool) -> None:
    results = [simulate(seed, lognormal=lognormal) for seed in range(8)]
    ours = sum(r[0] for r in results) / len(results)
    average = sum(r[1] for r in results) / len(results)
    # Salesforce's estimate lags when staffing changes; ours reacts at once.
    assert ours < 0.8 * average, (ours, average)
