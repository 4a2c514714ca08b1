"""What a run of each kind does, registered by the app that owns the work.

Statistics, quality and exchange build on jobs (they record runs and report progress), so jobs
imports none of them: each registers its work here from its AppConfig.ready, and the task that
runs a recorded run looks the work up by the run's kind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .models import JobRun

Work = Callable[[JobRun], Mapping[str, Any]]

_WORK: dict[str, Work] = {}


def register_work(kind: str, work: Work) -> None:
    """Make `work` what a run of `kind` does; it returns the run's counts."""
    if _WORK.get(kind, work) is not work:
        raise ValueError(f"the work of {kind} runs is registered twice")
    _WORK[kind] = work


def work_for(kind: str) -> Work:
    try:
        return _WORK[kind]
    except KeyError:
        raise LookupError(
            f"no work is registered for {kind} runs: is the app that owns it installed?"
        ) from None
