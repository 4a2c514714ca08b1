"""Independent parts of one piece of work done side by side in forked processes.

A full data-quality run is Python work on every document, and one process keeps one core busy
while the machine has more. A forked child starts with everything the parent had built (the
compiled forms, the checker) and opens a database connection of its own; its result comes
back pickled through a pipe.

Forking is only possible where a child sees the same data as its parent: on PostgreSQL (the
embedded SQLite database of the tests lives in one process's memory) and outside a
transaction (a new connection cannot see rows the parent has not committed).
"""

from __future__ import annotations

import os
import pickle
import signal
import traceback
from collections.abc import Callable, Sequence
from typing import TypeVar, cast

from django.db import connection, connections

Part = TypeVar("Part")
Result = TypeVar("Result")


class ForkedWorkFailed(RuntimeError):
    """A child process failed or died; its traceback is the message."""


def can_fork() -> bool:
    return (
        hasattr(os, "fork") and connection.vendor == "postgresql" and not connection.in_atomic_block
    )


def map_forked(work: Callable[[Part], Result], parts: Sequence[Part]) -> list[Result]:
    """`work(part)` for every part, in order: the first part in this process, each of the
    others in a forked child. A failure anywhere is raised here once every child has ended."""
    if len(parts) <= 1:
        return [work(part) for part in parts]
    # Closed before forking so that no child inherits (and later shuts) the parent's sockets.
    connections.close_all()
    children: list[tuple[int, int]] = []
    try:
        for part in parts[1:]:
            children.append(_start_child(work, part))
        first = work(parts[0])
    except BaseException:
        for pid, _ in children:
            os.kill(pid, signal.SIGTERM)
        raise
    finally:
        outcomes = [_collect(pid, pipe) for pid, pipe in children]
    failures = [outcome for ok, outcome in outcomes if not ok]
    if failures:
        raise ForkedWorkFailed("\n".join(str(failure) for failure in failures))
    return [first, *(cast(Result, outcome) for _, outcome in outcomes)]


def _start_child(work: Callable[[Part], Result], part: Part) -> tuple[int, int]:
    read, write = os.pipe()
    pid = os.fork()
    if pid:
        os.close(write)
        return pid, read
    os.close(read)
    status = 0
    try:
        try:
            outcome: tuple[bool, object] = (True, work(part))
        except BaseException:
            outcome = (False, traceback.format_exc())
        with os.fdopen(write, "wb") as out:
            pickle.dump(outcome, out, protocol=pickle.HIGHEST_PROTOCOL)
        connections.close_all()
    except BaseException:
        status = 1
    finally:
        # No exit handlers or cleanup of the parent's (test runner's, worker's) in the child.
        os._exit(status)


def _collect(pid: int, pipe: int) -> tuple[bool, object]:
    with os.fdopen(pipe, "rb") as source:
        data = source.read()
    _, status = os.waitpid(pid, 0)
    if not data:
        return False, f"A worker process ended without a result (wait status {status})."
    try:
        ok, outcome = pickle.loads(data)
    except Exception as error:
        return False, f"A worker process's result could not be read: {error}"
    return ok, outcome
