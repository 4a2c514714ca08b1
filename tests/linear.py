"""A check that work grows linearly with its input, without a clock's absolute limit.

A test that says "this takes under a second" fails on a busy machine and passes a quadratic
pass on a fast one. Comparing the same work on an input and on one twice its size does
neither: a linear pass takes about twice as long, a backtracking pattern or a quadratic loop
four times or far worse, whatever the machine's speed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

# Twice the input may take at most this many times as long (2 for linear work, with room for
# a busy machine), plus SLACK seconds for work too short to time reliably.
GROWTH = 3.0
SLACK = 0.02


def best_seconds(work: Callable[[], object], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def assert_linear(work: Callable[[int], object], size: int, *, rounds: int = 5) -> None:
    """`work(n)` does its work on an input of size n: it must grow linearly from `size` to
    twice `size`. The best of `rounds` each, so that a busy moment decides nothing."""
    work(size)  # warm: the first call pays for imports and caches
    small = best_seconds(lambda: work(size), rounds)
    large = best_seconds(lambda: work(2 * size), rounds)
    assert large < GROWTH * small + SLACK, (
        f"twice the input took {large / max(small, 1e-9):.1f} times as long "
        f"({small:.4f} s -> {large:.4f} s)"
    )
