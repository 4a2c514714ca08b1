"""Loading a schema document: ``load_schema`` checks all of it and builds the ``FormSchema``.

The form-level keys are read here (name, version, title, missing codes, retired fields, checks,
record ID); each field is read by ``fields``, and what spans fields is checked by
``crossfield``, in that order, so that the problems of a document always come in one order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from registry.formengine import logic

from .crossfield import (
    References,
    check_dependency_cycles,
    check_logic_references,
    check_matrix_groups,
    check_piped_limits,
    check_renames,
)
from .fields import read_fields
from .model import Check, Field, FormSchema, MissingCode, Problem, RecordId, SchemaError, base_names
from .reader import SchemaReader
from .vocabulary import FORM_KEYS

__all__ = ["load_schema", "load_schemas"]


def load_schema(
    data: Mapping[str, Any], *, others: Iterable[FormSchema] | None = None, published: bool = False
) -> FormSchema:
    """Check a schema document and build the ``FormSchema``; ``SchemaError`` lists all problems.

    Logic reads the form's own fields and, given ``others`` (the registry's other forms: those
    published with it and the latest versions of the rest), theirs too; a reference to a field
    of none of them is a problem. ``published`` loads a stored version, whose references to
    other forms were checked when it was published, without checking them again.
    """
    return _Loader(data, others, published).load()


def load_schemas(
    documents: Sequence[Mapping[str, Any]], *, published: Iterable[FormSchema] = ()
) -> list[FormSchema | SchemaError]:
    """Forms published together, each checked against the others and ``published`` (the latest
    versions of the registry's forms that are not among them): a schema or the problems, per
    document, in order."""
    first: list[FormSchema | SchemaError] = []
    for data in documents:
        try:
            first.append(load_schema(data, published=True))
        except SchemaError as error:
            first.append(error)
    # One version per form, the newest, when files hold several versions of one form.
    newest: dict[str, FormSchema] = {}
    for schema in first:
        if isinstance(schema, FormSchema) and (
            schema.form not in newest or schema.version > newest[schema.form].version
        ):
            newest[schema.form] = schema
    others = [*newest.values(), *(schema for schema in published if schema.form not in newest)]
    results: list[FormSchema | SchemaError] = []
    for data, outcome in zip(documents, first, strict=True):
        if isinstance(outcome, FormSchema) and not outcome.external_fields:
            results.append(outcome)  # it reads no other form: checked in full already
            continue
        try:
            results.append(load_schema(data, others=others))
        except SchemaError as error:
            results.append(error)
    return results


class _Loader:
    """One document being loaded: its problems so far, and what its logic may read."""

    def __init__(
        self,
        data: Mapping[str, Any],
        others: Iterable[FormSchema] | None = None,
        published: bool = False,
    ) -> None:
        self.data = data
        self.reader = SchemaReader()
        own = data.get("form") if isinstance(data, Mapping) else None
        self.references = References(own, others, published)

    def load(self) -> FormSchema:
        data = self.data
        if not isinstance(data, Mapping):
            raise SchemaError([Problem("", "a schema must be a mapping of keys to values")])
        self.reader.unknown_keys(data, FORM_KEYS, "", "the form")
        form = self.reader.name(data.get("form"), "form", "the form name")
        version = data.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            self.reader.problem(
                "version", f"must be a whole number of 1 or more; found {version!r}"
            )
            version = 1
        title = self.reader.text(data.get("title"), "title", required=True)
        repeatable = self.reader.flag(data.get("repeatable", False), "repeatable")
        description = self.reader.text(data.get("description"), "description")
        missing_codes = self.missing_codes(data.get("missing_codes"))
        raw_fields = data.get("fields")
        if not isinstance(raw_fields, list) or not raw_fields:
            self.reader.problem("fields", "must be a list with at least one field")
            raw_fields = []
        fields = read_fields(self.reader, raw_fields, form, missing_codes)
        by_name: dict[str, tuple[int, Field]] = {}
        for index, f in fields:
            by_name.setdefault(f.name, (index, f))
        check_logic_references(self.reader, self.references, fields, by_name)
        check_matrix_groups(self.reader, fields)
        check_renames(self.reader, fields, data.get("retired"))
        retired = self.retired(data.get("retired"), by_name)
        checks = self.checks(data.get("checks"), by_name)
        check_piped_limits(self.reader, fields, by_name)
        record_id = self.record_id(data.get("record_id"), by_name)
        check_dependency_cycles(self.reader, fields)
        if self.reader.problems:
            raise SchemaError(self.reader.problems)
        return FormSchema(
            form=form,
            version=version,
            title=title,
            fields=tuple(f for _, f in fields),
            repeatable=repeatable,
            description=description,
            retired=retired,
            missing_codes=missing_codes,
            checks=checks,
            record_id=record_id,
        )

    def record_id(self, raw: object, by_name: Mapping[str, tuple[int, Field]]) -> RecordId | None:
        if raw is None:
            return None
        if not isinstance(raw, Mapping):
            self.reader.problem(
                "record_id", "must be a mapping with name, label and optionally form"
            )
            return None
        self.reader.unknown_keys(raw, ("name", "label", "form"), "record_id", "record_id")
        name = self.reader.name(raw.get("name"), "record_id.name", "the record ID field's name")
        if name in by_name:
            self.reader.problem("record_id.name", f"'{name}' is also a field of this form")
        label = self.reader.text(raw.get("label"), "record_id.label", required=True)
        form = ""
        if raw.get("form") is not None:
            form = self.reader.name(raw.get("form"), "record_id.form", "the record ID's form")
        return RecordId(name, label, form)

    def missing_codes(self, raw: object) -> tuple[MissingCode, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self.reader.problem("missing_codes", "must be a list of {code, label} entries")
            return ()
        codes: list[MissingCode] = []
        seen: set[str] = set()
        for index, item in enumerate(raw):
            path = f"missing_codes[{index}]"
            if not isinstance(item, Mapping):
                self.reader.problem(path, "must be a mapping with code and label")
                continue
            self.reader.unknown_keys(item, ("code", "label"), path, "a missing code")
            code = self.reader.code(item.get("code"), f"{path}.code")
            label = self.reader.text(item.get("label"), f"{path}.label", required=True)
            if code in seen:
                self.reader.problem(f"{path}.code", f"missing code '{code}' is declared twice")
            seen.add(code)
            codes.append(MissingCode(code, label))
        return tuple(codes)

    def retired(self, raw: object, by_name: Mapping[str, tuple[int, Field]]) -> tuple[str, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self.reader.problem("retired", "must be a list of field names of the previous version")
            return ()
        result: list[str] = []
        for index, value in enumerate(raw):
            name = self.reader.name(value, f"retired[{index}]", "retired field name")
            if name in by_name:
                self.reader.problem(
                    f"retired[{index}]",
                    f"'{name}' is still a field of this version; "
                    "remove it from the fields or from retired",
                )
            elif name in result:
                self.reader.problem(f"retired[{index}]", f"'{name}' is listed twice")
            elif name:
                result.append(name)
        return tuple(result)

    def checks(self, raw: object, by_name: Mapping[str, tuple[int, Field]]) -> tuple[Check, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self.reader.problem("checks", "must be a list of {field, rule, message} entries")
            return ()
        result: list[tuple[int, int, Check]] = []
        for index, item in enumerate(raw):
            path = f"checks[{index}]"
            if not isinstance(item, Mapping):
                self.reader.problem(path, "must be a mapping with field, rule and message")
                continue
            self.reader.unknown_keys(item, ("field", "rule", "message"), path, "a check")
            name = item.get("field")
            target = by_name.get(name) if isinstance(name, str) else None
            if target is None:
                self.reader.problem(
                    f"{path}.field",
                    f"{name!r} is not a field of this form; a check's "
                    "message is shown on one of the form's fields",
                )
            elif not target[1].stores_data:
                self.reader.problem(
                    f"{path}.field",
                    f"'{name}' holds no data (descriptive or "
                    "identifier); attach the check to a field that does",
                )
            message = self.reader.text(item.get("message"), f"{path}.message", required=True)
            rule = self.reader.logic_source(item.get("rule"), f"{path}.rule", None)
            if not rule:
                if item.get("rule") in (None, ""):
                    self.reader.problem(f"{path}.rule", "is required: the logic that must be true")
                continue
            node = logic.compile_logic(rule)
            references = logic.field_references(node)
            for problem in self.references.problems(node, by_name, None):
                self.reader.problem(f"{path}.rule", problem)
            if target is not None:
                check = Check(target[1].name, rule, message, node, base_names(references))
                result.append((target[0], index, check))
        # Checks are kept in the order of the fields they belong to, so that a form's checks
        # read like its fields and survive a trip through a REDCap dictionary (where each
        # check travels on its field's row) unchanged.
        result.sort(key=lambda item: (item[0], item[1]))
        return tuple(check for _, _, check in result)
