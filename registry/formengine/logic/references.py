"""Which fields an expression reads: for the order of calculations and unknown-field checks."""

from __future__ import annotations

from .nodes import Binary, Call, FieldRef, Logical, Node, Unary

__all__ = ["field_references"]


def field_references(node: Node, *, include_qualified: bool = True) -> frozenset[str]:
    """The field names ``node`` reads, without checkbox codes, events or instances.

    ``[cb(2)]`` counts as ``cb``. With ``include_qualified=False``, references to another event
    or instance (``[visit_2][weight]``, ``[weight][previous-instance]``) are left out: they do
    not make a calculation depend on a field of the same row, so a running total such as
    ``[total][previous-instance] + [dose]`` is not a cycle.
    """
    names: set[str] = set()
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, FieldRef):
            if include_qualified or not current.qualified:
                names.add(current.field)
        elif isinstance(current, Unary):
            stack.append(current.operand)
        elif isinstance(current, Binary):
            stack.append(current.left)
            stack.append(current.right)
        elif isinstance(current, Logical):
            stack.extend(current.operands)
        elif isinstance(current, Call):
            stack.extend(current.args)
    return frozenset(names)
