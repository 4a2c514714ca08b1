"""A data dictionary pushed through the REDCap API (`content=metadata`, `action=import`).

REDCap replaces a project's dictionary with the one sent. The registry publishes it instead:
each instrument whose content changed becomes the next version of its form, through the same
rules as `sync_forms` (`registry/crfs/dictionaries.py`), and unchanged instruments are left
alone. What the registry cannot do is refused before anything changes: leaving out a
published form (forms are never deleted), renaming the record ID, redefining the record's own
fields (sex and year of birth live on the patient record), or a dictionary whose columns would
clash with another form's once lined up for exchange.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from registry.audit.services import record_event
from registry.crfs.dictionaries import plan_dictionary_import
from registry.crfs.models import FormDefinition
from registry.crfs.services import FormSyncError, do_sync_forms
from registry.formengine.dictionary import COLUMNS, METADATA_KEYS, DictionaryError
from registry.formengine.harmonise import HarmonisationError
from registry.people.access import can_curate
from registry.people.models import User

from .layout import RECORD_FIELDS, RECORD_ID, LayoutError, record_field_rows, registry_layout

SOURCE_ROOT: Final = Path("redcap-api")
"""Where versions published this way say they came from (`FormVersion.source`)."""

_SOURCE_PATH = re.compile(rf"^{re.escape(str(SOURCE_ROOT))}/(?P<form>[^/]+)/v(?P<n>\d+)\.yaml: ")
# What the record's own fields must keep, for their rows to be taken as the registry's own.
_RECORD_FIELD_KEYS: Final = (
    "field_type",
    "select_choices_or_calculations",
    "text_validation_type_or_show_slider_number",
)


class MetadataRejected(Exception):
    """The dictionary was refused and nothing changed; `problems` says where and why."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(self.text())

    def text(self) -> str:
        count = len(self.problems)
        shown = self.problems[:50]
        more = [f"... and {count - len(shown)} more"] if count > len(shown) else []
        return (
            f"The data dictionary was refused and nothing was published: {count} "
            f"problem{'s' if count != 1 else ''}.\n" + "\n".join([*shown, *more])
        )


@dataclass
class MetadataImport:
    fields: int
    """Rows of the dictionary sent (REDCap's answer to a metadata import)."""
    published: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def do_import_metadata(
    actor: User, rows: Sequence[Mapping[str, str]], *, where: Callable[[int], str]
) -> MetadataImport:
    """Publish the instruments of `rows` (metadata rows keyed by the API's column names).

    `where(i)` names the i-th row (from 0) as the caller sent it, for problems. Raises
    PermissionDenied for anyone but curators and administrators, MetadataRejected otherwise.
    """
    if not can_curate(actor):
        raise PermissionDenied(
            "Only curators and administrators publish form versions; your "
            "role may not import a data dictionary."
        )
    if not rows:
        raise MetadataRejected(
            ["The data dictionary is empty: send the rows of every field, record_id first."]
        )
    problems: list[str] = []
    first = rows[0].get("field_name", "").strip()
    if first != RECORD_ID:
        problems.append(
            f"{where(0)}: the first field is the record ID, which the registry "
            f"names {RECORD_ID} (its values are pseudonyms); you sent "
            f"{first[:100]!r}."
        )
    kept: list[int] = []
    for index, row in enumerate(rows):
        name = row.get("field_name", "").strip()
        if name in RECORD_FIELDS:
            problems.extend(_record_field_problems(row, where(index)))
        else:
            kept.append(index)
    dictionary_forms = {rows[index].get("form_name", "").strip() for index in kept}
    left_out = [
        name
        for name in FormDefinition.objects.order_by("name").values_list("name", flat=True)
        if name not in dictionary_forms
    ]
    if left_out:
        problems.append(
            f"The dictionary leaves out the published form(s) {', '.join(left_out)}. "
            "The registry never deletes a form: send every instrument, unchanged "
            "ones too (export the metadata, edit it, import it)."
        )
    if problems:
        raise MetadataRejected(problems)

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows([rows[index].get(key, "") for key in METADATA_KEYS] for index in kept)
    try:
        with transaction.atomic():
            files = plan_dictionary_import(buffer.getvalue(), forms_root=SOURCE_ROOT)
            report = do_sync_forms(actor, files)
            try:
                registry_layout()
            except (LayoutError, HarmonisationError) as error:
                # Undo the publication: the exports could not line the forms up.
                raise MetadataRejected([str(error)]) from None
            result = MetadataImport(len(rows), report.published, report.unchanged)
            record_event(
                actor,
                "redcap.metadata_import",
                None,
                context={
                    "fields": result.fields,
                    "published": result.published,
                    "unchanged": result.unchanged,
                },
            )
    except DictionaryError as error:
        raise MetadataRejected(
            [
                # Rows of the CSV handed on: a header, then the rows kept, in order.
                (
                    where(kept[problem.row - 2])
                    if 2 <= problem.row < len(kept) + 2
                    else f"row {problem.row}"
                )
                + (f", column {problem.column!r}" if problem.column else "")
                + f": {problem.message}"
                for problem in error.problems
            ]
        ) from None
    except FormSyncError as error:
        raise MetadataRejected(
            [_SOURCE_PATH.sub(r"instrument \g<form> (version \g<n>): ", p) for p in error.problems]
        ) from None
    except IntegrityError:
        # Two publications at once: the unique version number let one of them through.
        raise MetadataRejected(
            [
                "Another publication of these forms happened at the same "
                "time; export the metadata again, check it and send it "
                "again."
            ]
        ) from None
    return result


def _record_field_problems(row: Mapping[str, str], where: str) -> list[str]:
    """A row for `sex` or `year_of_birth` must be the registry's own (as the metadata exports
    it): they are kept on the patient record, not in a form."""
    name = row.get("field_name", "").strip()
    expected = next(r for r in record_field_rows("") if r["field_name"] == name)
    changed = [key for key in _RECORD_FIELD_KEYS if row.get(key, "").strip() != expected[key]]
    if not changed:
        return []
    return [
        f"{where}: {name} is kept on the patient record, not in a form; its definition "
        f"cannot change ({', '.join(changed)} differ from the exported metadata). Send it "
        "as exported, or leave the row out."
    ]
