"""Checks across a form's fields: what logic reads, piped limits, matrices, renames, circles.

They run once every field has been read on its own (``fields``), on the fields that could be
built, each with its index in the document for the path of a problem.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

from registry.formengine import logic

from .model import Field, FormSchema, Node, conditionals
from .order import evaluation_order
from .reader import SchemaReader

__all__ = [
    "References",
    "check_dependency_cycles",
    "check_logic_references",
    "check_matrix_groups",
    "check_piped_limits",
    "check_renames",
]


class References:
    """What the logic of one form may read: its own fields and, given ``others`` (the
    registry's other forms), theirs; a ``published`` form's references to other forms were
    checked when it was published and are not checked again."""

    def __init__(
        self, own_form: object, others: Iterable[FormSchema] | None, published: bool
    ) -> None:
        self.published = published
        # field name -> the other forms that have a field so named, with it
        self.elsewhere: dict[str, list[tuple[str, Field]]] | None = None
        if others is not None:
            self.elsewhere = {}
            for schema in others:
                if schema.form == own_form:
                    continue
                for f in schema.fields:
                    self.elsewhere.setdefault(f.name, []).append((schema.form, f))

    def problems(
        self, node: Node, fields: Mapping[str, tuple[int, Field]], owner: str | None
    ) -> list[str]:
        """What is wrong with the references of ``node``, the logic of field ``owner`` (None
        for a check or an @IF), each message once."""
        messages = []
        for ref in logic.reference_nodes(node):
            if isinstance(ref, logic.SmartVariable):
                messages.append(
                    f"[{ref.name}] is a smart variable, which a form's logic cannot "
                    "use: it has no value while the form is being filled in"
                )
                continue
            shown = ref.field if ref.code is None else f"{ref.field}({ref.code})"
            if ref.qualified:
                messages.append(
                    f"[{shown}] is read from another event or instance, which a "
                    "form's logic cannot do; refer to fields of this form only"
                )
                continue
            target = fields.get(ref.field)
            if target is None:
                message = self._elsewhere(ref.field, ref.code, shown, fields)
                if message:
                    messages.append(message)
                continue
            if ref.field == owner:
                messages.append(f"[{shown}] refers to the field itself")
                continue
            message = _reference_kind_problem(target[1], ref.code, shown)
            if message:
                messages.append(message)
        return list(dict.fromkeys(messages))

    def _elsewhere(
        self, name: str, code: str | None, shown: str, fields: Mapping[str, tuple[int, Field]]
    ) -> str:
        """What is wrong with a reference to a field this form does not have, or ''."""
        if self.published:
            return ""
        holders = (self.elsewhere or {}).get(name, [])
        if len(holders) == 1:
            form, f = holders[0]
            problem = _reference_kind_problem(f, code, shown)
            return f"{problem} (a field of form {form})" if problem else ""
        if holders:
            forms = ", ".join(sorted(form for form, _ in holders))
            return (
                f"[{shown}] is a field of several other forms ({forms}), so which one it "
                "reads is unclear; rename the field in all but one of them"
            )
        close = difflib.get_close_matches(name, list(fields), n=1)
        if not close and self.elsewhere:
            close = difflib.get_close_matches(name, list(self.elsewhere), n=1)
        hint = f"; did you mean [{close[0]}]?" if close else ""
        where = "this form" if self.elsewhere is None else "this form or of another form"
        return f"[{shown}] is not a field of {where}{hint}"


def check_logic_references(
    reader: SchemaReader,
    references: References,
    fields: list[tuple[int, Field]],
    by_name: Mapping[str, tuple[int, Field]],
) -> None:
    """Every field that show_if, calc, @CALCTEXT and @IF read exists and can be read so."""
    for index, f in fields:
        for key, node in (
            ("show_if", f.show_if_logic),
            ("calc", f.calc_logic),
            ("annotation", f.calctext_logic),
        ):
            if node is None:
                continue
            for message in references.problems(node, by_name, f.name):
                reader.problem(f"fields[{index}].{key}", message, f.name)
        for conditional in conditionals(f.tags):
            # REDCap's @IF may read smart variables (the user's role, the event) and other
            # events; here they have no value, so such a condition reads them as blank.
            for message in references.problems(conditional.logic, by_name, None):
                if "smart variable" not in message and "another event" not in message:
                    reader.problem(f"fields[{index}].annotation", f"@IF: {message}", f.name)


def check_piped_limits(
    reader: SchemaReader, fields: list[tuple[int, Field]], by_name: Mapping[str, tuple[int, Field]]
) -> None:
    """A limit piped from another field names a field of this form of the same kind."""
    for index, f in fields:
        for key, name in f.piped_bounds:
            path = f"fields[{index}].{key}"
            target = by_name.get(name)
            family = f.validation_info.family if f.validation_info else ""
            other = target[1].validation_info if target else None
            numeric = {"integer", "number"}
            if target is None:
                close = difflib.get_close_matches(name, list(by_name), n=1)
                hint = f"; did you mean [{close[0]}]?" if close else ""
                reader.problem(path, f"[{name}] is not a field of this form{hint}", f.name)
            elif name == f.name:
                reader.problem(path, f"[{name}] is the field itself", f.name)
            elif other is None or not (other.family == family or {other.family, family} <= numeric):
                reader.problem(
                    path,
                    f"[{name}] must be a field with a {family} validation to be {f.name}'s {key}",
                    f.name,
                )


def check_matrix_groups(reader: SchemaReader, fields: list[tuple[int, Field]]) -> None:
    """The fields of a matrix follow one another and share one type and one set of choices."""
    first: dict[str, tuple[int, Field]] = {}
    last_group = ""
    closed: set[str] = set()
    for index, f in fields:
        group = f.matrix_group
        if last_group and group != last_group:
            closed.add(last_group)
        last_group = group
        if not group:
            continue
        if group in closed:
            reader.problem(
                f"fields[{index}].matrix_group",
                f"the fields of matrix group '{group}' must follow one another",
                f.name,
            )
        if group not in first:
            first[group] = (index, f)
            continue
        head = first[group][1]
        if f.type != head.type:
            reader.problem(
                f"fields[{index}].type",
                f"matrix group '{group}' mixes {head.type} "
                f"({head.name}) and {f.type}; a matrix shares one type",
                f.name,
            )
        elif f.all_choices() != head.all_choices():
            reader.problem(
                f"fields[{index}].choices",
                f"matrix group '{group}' needs the same "
                f"choices on every field; they differ from {head.name}'s",
                f.name,
            )


def check_renames(
    reader: SchemaReader, fields: list[tuple[int, Field]], raw_retired: object
) -> None:
    """A field is renamed from a name this version no longer has, once, and is not also retired."""
    names = {f.name for _, f in fields}
    retired = set(raw_retired) if isinstance(raw_retired, list) else set()
    sources: dict[str, str] = {}
    for index, f in fields:
        source = f.renamed_from
        if not source or source == f.name:
            continue
        path = f"fields[{index}].renamed_from"
        if source in names:
            reader.problem(
                path,
                f"'{source}' is still a field of this version; a renamed "
                "field's old name cannot be reused in the same version",
                f.name,
            )
        if source in sources:
            reader.problem(
                path,
                f"'{source}' was already renamed to '{sources[source]}'; "
                "a field can be renamed only once",
                f.name,
            )
        if source in retired:
            reader.problem(
                path,
                f"'{source}' is listed in retired; a field is either renamed or retired",
                f.name,
            )
        sources.setdefault(source, f.name)


def check_dependency_cycles(reader: SchemaReader, fields: list[tuple[int, Field]]) -> None:
    """No circle of fields computed from one another (show_if alone may circle: ``order``)."""
    ordered = tuple(f for _, f in fields)
    _, cycle = evaluation_order(ordered)
    if cycle:
        names = " -> ".join([*cycle, cycle[0]])
        index = next(i for i, f in fields if f.name == cycle[0])
        reader.problem(
            f"fields[{index}]",
            f"show_if and calc depend on each other in a circle ({names}); break the circle",
            cycle[0],
        )


def _reference_kind_problem(f: Field, code: str | None, shown: str) -> str:
    """What is wrong with reading field ``f`` as ``[shown]``, or ''."""
    base = f.name
    if f.type == "descriptive":
        return f"[{shown}] is a descriptive field, which holds no value"
    if code is not None and f.type != "checkbox":
        return f"[{shown}] names an option, but {base} is a {f.type} field; write [{base}]"
    if code is not None and code not in f.choice_codes:
        return (
            f"[{shown}]: '{code}' is not a choice code of {base}; its codes are "
            f"{', '.join(f.choice_codes)}"
        )
    if code is None and f.type == "checkbox":
        first = f.choice_codes[0] if f.choice_codes else "code"
        return f"[{shown}] is a checkbox; name an option, for example [{base}({first})]"
    return ""
