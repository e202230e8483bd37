"""Token budget state: windows, reservations, and the in-process store (one process's memory).

A store keeps, per client key and window, the tokens ``used`` (settled) and the live reservations. Its
``reserve`` checks and writes every window in one step, so concurrent calls can never overshoot. Times are
wall-clock seconds handed in by the caller (``TokenBudget``'s clock), never read here.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

MINUTE_S: Final = 60
DAY_S: Final = 86_400
# Old windows are swept from memory at most this often.
_SWEEP_EVERY_S: Final = 60.0


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowLimit:
    """One budget window of a client key: ``limit`` tokens per ``length_s`` (UTC-aligned)."""

    name: str
    length_s: int
    limit: int

    def start(self, now: float) -> int:
        return int(now // self.length_s) * self.length_s


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowSlot:
    """A window at one moment: which key and period a reservation went to."""

    window: WindowLimit
    start: int

    @property
    def end(self) -> int:
        return self.start + self.window.length_s


@dataclass(frozen=True, slots=True, kw_only=True)
class Tally:
    """What a window holds: settled tokens and live reservations."""

    used: int
    reserved: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Reservation:
    """Tokens held for one call in each of its windows until it settles (or ``expires_at``)."""

    id: str
    client_key: str
    amount: int
    slots: tuple[WindowSlot, ...]
    expires_at: float


class BudgetStore(Protocol):
    """Where budgets are kept. Blocking calls: a store that is not ``inline`` runs in a worker thread."""

    inline: bool

    def reserve(self, reservation: Reservation, *, now: float) -> tuple[bool, tuple[Tally, ...]]:
        """Hold ``reservation.amount`` in every slot if it fits all of them, else in none. Return whether it
        did, and each slot's tally before this reservation."""
        ...

    def settle(self, reservation: Reservation, *, cost: int, now: float) -> None:
        """Drop the reservation and add ``cost`` to ``used`` in each of its slots (``now``: for expiry)."""
        ...

    def tallies(self, *, client_key: str, slots: Sequence[WindowSlot], now: float) -> tuple[Tally, ...]:
        """Each slot's tally (live reservations only)."""
        ...


@dataclass(slots=True)
class _Window:
    end: float
    used: int = 0
    reservations: dict[str, tuple[int, float]] = field(default_factory=dict)  # id → (amount, expires_at)

    def reserved(self, now: float) -> int:
        expired = [rid for rid, (_, expires_at) in self.reservations.items() if expires_at <= now]
        for rid in expired:
            del self.reservations[rid]
        return sum(amount for amount, _ in self.reservations.values())


class LocalBudgetStore:
    """Budgets in this process's memory: every check-and-write runs under one lock, with no await in it.

    With several processes each has its own budget (use Redis to share one).
    """

    inline = True

    def __init__(self) -> None:
        self._windows: dict[tuple[str, str, int], _Window] = {}
        self._lock = threading.Lock()
        self._next_sweep = 0.0

    def reserve(self, reservation: Reservation, *, now: float) -> tuple[bool, tuple[Tally, ...]]:
        with self._lock:
            self._sweep(now)
            windows = [self._window(reservation.client_key, slot) for slot in reservation.slots]
            tallies = tuple(Tally(used=w.used, reserved=w.reserved(now)) for w in windows)
            fits = all(t.used + t.reserved + reservation.amount <= slot.window.limit
                       for t, slot in zip(tallies, reservation.slots, strict=True))
            if fits:
                for window in windows:
                    window.reservations[reservation.id] = (reservation.amount, reservation.expires_at)
            return fits, tallies

    def settle(self, reservation: Reservation, *, cost: int, now: float) -> None:
        with self._lock:
            for slot in reservation.slots:
                window = self._windows.get((reservation.client_key, slot.window.name, slot.start))
                if window is None:
                    continue  # the window is over and swept: nothing left to count in it
                window.reservations.pop(reservation.id, None)
                window.used += cost

    def tallies(self, *, client_key: str, slots: Sequence[WindowSlot], now: float) -> tuple[Tally, ...]:
        with self._lock:
            found = [self._windows.get((client_key, slot.window.name, slot.start)) for slot in slots]
            return tuple(Tally(used=w.used, reserved=w.reserved(now)) if w else Tally(used=0, reserved=0)
                         for w in found)

    def _window(self, client_key: str, slot: WindowSlot) -> _Window:
        key = (client_key, slot.window.name, slot.start)
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = _Window(end=slot.end)
        return window

    def _sweep(self, now: float) -> None:
        if now < self._next_sweep:
            return
        self._next_sweep = now + _SWEEP_EVERY_S
        for key in [key for key, window in self._windows.items() if window.end <= now]:
            del self._windows[key]
