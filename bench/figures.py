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
