"""What a benchmark reports: a measured value beside its limit, and whether the target is met."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Figure:
    figure: str
    unit: str
    value: float
    limit: float
    ratio: float
    target: str
    met: bool
    scale: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def median_seconds(action: Callable[[], object], *, repeats: int, inner: int = 1) -> float:
    """Median wall time of `inner` calls of `action`, over `repeats` rounds, per call."""
    rounds = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            action()
        rounds.append((time.perf_counter() - start) / inner)
    return statistics.median(rounds)


def alternating_median_seconds(
    actions: dict[str, Callable[[], object]], *, rounds: int
) -> dict[str, float]:
    """Median wall time of each action over `rounds`, the actions taken in turn within each
    round, so that the machine's moods fall on all of them alike."""
    seconds: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(rounds):
        for name, action in actions.items():
            start = time.perf_counter()
            action()
            seconds[name].append(time.perf_counter() - start)
    return {name: statistics.median(spent) for name, spent in seconds.items()}
