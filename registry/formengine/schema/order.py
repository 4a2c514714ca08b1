"""The order in which a form's fields are computed: each after the fields its logic reads.

``FormSchema.evaluation_order`` is built from it, and the loader reports the circle it finds.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Field

__all__ = ["evaluation_order"]


def evaluation_order(fields: Sequence[Field]) -> tuple[list[int], list[str]]:
    """Indexes of ``fields`` with dependencies first (stable), and a cycle if there is one.

    Fields whose show_if read one another (a value and its "don't know" box that hide each
    other) are not a cycle: each is decided on the answers as given, the first in form order
    first, as REDCap does. A circle through a calculation is, since it cannot be computed.
    """
    position = {f.name: index for index, f in enumerate(fields)}
    depends: list[set[int]] = []
    calc_depends: list[set[int]] = []
    for f in fields:
        own = position[f.name]
        calc = {position[name] for name in f.calc_fields if name in position} - {own}
        show = {position[name] for name in f.show_if_fields if name in position} - {own}
        depends.append(show | calc)
        calc_depends.append(calc)
    order, waiting = _topological(depends)
    stuck = {index for index, count in enumerate(waiting) if count > 0}
    if stuck:
        for group in _components(depends, stuck):
            if len(group) > 1 and not any(calc_depends[index] & group for index in group):
                for index in group:
                    depends[index] = depends[index] - group
        order, waiting = _topological(depends)
        stuck = {index for index, count in enumerate(waiting) if count > 0}
    if not stuck:
        return order, []
    # Walk the unresolved dependencies from one stuck field until a name repeats.
    start = min(stuck)
    path = [start]
    while True:
        following = min(need for need in depends[path[-1]] if need in stuck)
        if following in path:
            loop = path[path.index(following) :]
            return order + sorted(stuck), [fields[index].name for index in loop]
        path.append(following)


def _topological(depends: Sequence[set[int]]) -> tuple[list[int], list[int]]:
    """Kahn's order (smallest index first among the ready) and what each field still waits on."""
    dependants: list[list[int]] = [[] for _ in depends]
    waiting = [len(needs) for needs in depends]
    for index, needs in enumerate(depends):
        for need in needs:
            dependants[need].append(index)
    ready = [index for index, count in enumerate(waiting) if count == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        index = heapq.heappop(ready)
        order.append(index)
        for dependant in dependants[index]:
            waiting[dependant] -= 1
            if waiting[dependant] == 0:
                heapq.heappush(ready, dependant)
    return order, waiting


def _components(depends: Sequence[set[int]], nodes: set[int]) -> list[set[int]]:
    """Strongly connected components among ``nodes`` (Tarjan's algorithm, without recursion)."""
    index_of: dict[int, int] = {}
    low: dict[int, int] = {}
    stack: list[int] = []
    on_stack: set[int] = set()
    groups: list[set[int]] = []
    counter = 0
    for root in sorted(nodes):
        if root in index_of:
            continue
        work = [(root, iter(sorted(depends[root] & nodes)))]
        index_of[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index_of:
                    index_of[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(depends[child] & nodes))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index_of[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index_of[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                groups.append(group)
    return groups
