"""Which fields an expression reads: for the order of calculations and unknown-field checks."""

from __future__ import annotations

from .nodes import Binary, Call, FieldRef, Logical, Node, SmartVariable, Unary

__all__ = ["field_references", "reference_nodes"]


def reference_nodes(node: Node) -> list[FieldRef | SmartVariable]:
    """Every field reference and smart variable in ``node``, in reading order."""
    found: list[FieldRef | SmartVariable] = []
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, FieldRef | SmartVariable):
            found.append(current)
        elif isinstance(current, Unary):
            stack.append(current.operand)
        elif isinstance(current, Binary):
            stack += [current.right, current.left]
        elif isinstance(current, Logical):
            stack += reversed(current.operands)
        elif isinstance(current, Call):
            stack += reversed(current.args)
    return found


def field_references(node: Node, *, include_qualified: bool = True) -> frozenset[str]:
    """The field names ``node`` reads, without checkbox codes, events or instances.

    ``[cb(2)]`` counts as ``cb``. With ``include_qualified=False``, references to another event
    or instance (``[visit_2][weight]``, ``[weight][previous-instance]``) are left out: they do
    not make a calculation depend on a field of the same row, so a running total such as
    ``[total][previous-instance] + [dose]`` is not a cycle.
    """
    return frozenset(
        reference.field
        for reference in reference_nodes(node)
        if isinstance(reference, FieldRef) and (include_qualified or not reference.qualified)
    )
