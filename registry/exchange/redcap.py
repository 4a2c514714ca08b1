"""The REDCap-compatible API at /redcap/api/, so that PyCap and REDCapR work unchanged.

REDCap's protocol: one URL, POST, form-encoded (`token`, `content`, `format`, ...), arrays as
`fields[0]=a&fields[1]=b` or `fields=a,b`, errors as HTTP 400/403 with `{"error": "..."}` (or
a body starting `error:` when CSV was asked for). The registry behaves as a classic project
(no events) with repeating instruments, one data access group per site, and the pseudonym as
record ID. Each content answers the actions `CONTENTS` lists; every other call, above all a
write the registry does not do, is refused in REDCap's error shape, so that no client takes an
export for a write that happened. docs/api.md lists what is supported and where the registry
differs from REDCap.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final, cast
from urllib.parse import unquote
from xml.etree import ElementTree

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.request import RawPostDataException
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters

from registry.csvsafe import SafeWriter
from registry.formengine.dictionary import COLUMNS, METADATA_KEYS
from registry.people.access import sites_in_scope
from registry.people.authentication import user_for_token
from registry.people.models import User
from registry.people.tokens import hash_token, looks_like_token
from registry.rest.parsers import JsonRefused, load_json, shown
from registry.rest.throttling import TokenRateThrottle, key_for_token, too_many_requests_message

from .export_spec import ExportError, ExportSpec
from .imports import ImportOptions, ImportRejected, do_import_records
from .layout import RECORD_FIELDS, RECORD_ID, REPEAT_INSTANCE, REPEAT_INSTRUMENT, current_layout
from .metadata_import import MetadataRejected, do_import_metadata
from .release import token_release_id
from .services import do_start_export, set_release_headers
from .writers import xml_chunks, xml_text

REDCAP_VERSION: Final = "15.0.0"
"""The REDCap version whose API this endpoint follows (PyCap reads it as a semantic version)."""

MAX_BODY_BYTES: Final = 256 * 1024 * 1024
"""Largest request accepted: room for an import of a few hundred thousand rows."""

_ARRAY_KEY = re.compile(r"^(?P<name>[A-Za-z_]+)\[(?P<index>\d*)\]$")
_DELIMITERS: Final = {",": ",", "tab": "\t", ";": ";", "|": "|", "^": "^"}
_TRUE: Final = frozenset({"1", "true", "yes", "y", "on"})
_MAX_FIELDS: Final = 1_000_000


class RedcapError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        self.message = message
        self.status = status
        super().__init__(message)


class Params:
    """The form fields of a request, with REDCap's conventions for arrays and booleans."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self.values: dict[str, str] = {}
        self.arrays: dict[str, list[tuple[int, str]]] = {}
        for key, value in pairs:
            if "\x00" in key or "\x00" in value:
                raise RedcapError(
                    f"The parameter {key[:40]!r} contains a NUL character, which "
                    "no REDCap value holds; remove it."
                )
            match = _ARRAY_KEY.match(key)
            if match:
                items = self.arrays.setdefault(match["name"], [])
                index = int(match["index"]) if match["index"] else len(items)
                items.append((index, value))
            else:
                self.values[key] = value

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default).strip()

    def flag(self, name: str) -> bool:
        return self.get(name).lower() in _TRUE

    def array(self, name: str) -> tuple[str, ...]:
        if name in self.arrays:
            items = [value for _, value in sorted(self.arrays[name], key=lambda item: item[0])]
        else:
            items = self.get(name).split(",")
        return tuple(dict.fromkeys(item.strip() for item in items if item.strip()))

    def choice(self, name: str, allowed: Sequence[str], default: str) -> str:
        value = self.get(name) or default
        if value not in allowed:
            raise RedcapError(
                f'The value of the parameter "{name}" is not valid: choose one of '
                f"{', '.join(allowed)}."
            )
        return value


def _read_params(request: HttpRequest) -> Params:
    content_type = request.content_type or ""
    if content_type == "application/x-www-form-urlencoded":
        # Read here rather than through request.POST: Django's 2.5 MB cap on form bodies would
        # refuse ordinary imports of a few thousand records.
        try:
            body = request.read(MAX_BODY_BYTES + 1)
        except RawPostDataException:
            return Params(request.POST.items())
        if len(body) > MAX_BODY_BYTES:
            raise RedcapError(
                f"The request is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB; "
                "import in batches.",
                413,
            )
        encoding = request.encoding or settings.DEFAULT_CHARSET
        try:
            text = body.decode(encoding)
        except UnicodeDecodeError:
            raise RedcapError("The request is not valid UTF-8 text.") from None
        return Params(_parse_form(text))
    return Params(request.POST.items())


def _parse_form(text: str) -> list[tuple[str, str]]:
    """`parse_qsl(text, keep_blank_values=True, max_num_fields=...)`, quicker on large values.

    An import's `data` holds hundreds of thousands of percent escapes, which `unquote` decodes
    one at a time in Python; see `_unquote`.
    """
    if text and text.count("&") + 1 > _MAX_FIELDS:
        raise ValueError("Max number of fields exceeded")
    pairs = []
    for pair in text.split("&") if text else ():
        if pair:
            name, _, value = pair.partition("=")
            pairs.append((_unquote(name), _unquote(value)))
    return pairs


def _unquote(text: str) -> str:
    """Decode a form value as parse_qsl does: `+` is a space, `%XX` a byte of UTF-8."""
    text = text.replace("+", " ")
    if "%" not in text:
        return text
    if text.isascii():
        # The escapes as Python's \xXX, decoded in C by the codec of bytes literals (after
        # doubling the backslashes that are there); a `%` not followed by two hex digits makes
        # it refuse, and unquote takes over.
        escaped = text.replace("\\", "\\\\").replace("%", "\\x").encode("ascii")
        try:
            # Bytes, though typeshed says str.
            decoded = cast(bytes, codecs.escape_decode(escaped)[0])
        except ValueError:
            pass
        else:
            return decoded.decode("utf-8", "replace")
    return unquote(text, errors="replace")


# --------------------------------------------------------------------------------------------
# Responses


def _error_format(params: Params | None) -> str:
    if params is None:
        return "json"
    value = (params.get("returnFormat") or params.get("format") or "json").lower()
    return value if value in ("json", "csv", "xml") else "json"


def error_response(
    message: str, status: int, fmt: str = "json", headers: Mapping[str, str] | None = None
) -> HttpResponse:
    if fmt == "csv":
        response = HttpResponse(
            f"error: {message}", status=status, content_type="text/csv; charset=utf-8"
        )
    elif fmt == "xml":
        escaped = message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        response = HttpResponse(
            f'<?xml version="1.0" encoding="UTF-8" ?>\n<hash>\n  <error>{escaped}</error>\n'
            "</hash>\n",
            status=status,
            content_type="text/xml; charset=utf-8",
        )
    else:
        response = HttpResponse(
            json.dumps({"error": message}), status=status, content_type="application/json"
        )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _output_format(params: Params) -> str:
    fmt = (params.get("format") or "json").lower()
    if fmt not in ("json", "csv", "xml"):
        raise RedcapError(
            f'The value of the parameter "format" is not valid: {fmt[:20]!r}; use json, csv or xml.'
        )
    return fmt


def _delimiter(params: Params) -> str:
    name = params.get("csvDelimiter") or ","
    if name not in _DELIMITERS:
        raise RedcapError(
            f'The value of the parameter "csvDelimiter" is not valid; use one of '
            f"{', '.join(_DELIMITERS)}."
        )
    return _DELIMITERS[name]


def _table(
    params: Params,
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    *,
    formulas_safe: bool = True,
) -> HttpResponse:
    """Rows as JSON or CSV. CSV cells pass the formula rule (registry/csvsafe.py), except in
    the data dictionary (`formulas_safe=False`), which is read back by imports and whose
    cells the registry itself wrote from validated schemas."""
    fmt = _output_format(params)
    if fmt == "json":
        return HttpResponse(json.dumps(list(rows)), content_type="application/json")
    if fmt == "xml":
        return HttpResponse(
            "".join(xml_chunks({key: row.get(key, "") for key in keys} for row in rows)),
            content_type="text/xml; charset=utf-8",
        )
    buffer = io.StringIO()
    writer: Any = csv.writer(buffer, delimiter=_delimiter(params), lineterminator="\n")
    if formulas_safe:
        writer = SafeWriter(writer)
    writer.writerow(keys)
    writer.writerows([row.get(key, "") for key in keys] for row in rows)
    return HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")


# --------------------------------------------------------------------------------------------
# Contents


def _version(user: User, params: Params) -> HttpResponse:
    return HttpResponse(REDCAP_VERSION, content_type="text/plain; charset=utf-8")


def _project(user: User, params: Params) -> HttpResponse:
    layout = current_layout()
    codes = {code: label for form in layout.forms for code, label in form.missing_codes.items()}
    info = {
        "project_id": 1,
        "project_title": settings.SPECTACULAR_SETTINGS.get("TITLE", "Registry"),
        "creation_time": "",
        "production_time": "",
        "in_production": 1,
        "project_language": "English",
        "purpose": 2,
        "purpose_other": "",
        "project_notes": "",
        "custom_record_label": "",
        "secondary_unique_field": "",
        "is_longitudinal": 0,
        "has_repeating_instruments_or_events": int(layout.any_repeating),
        "surveys_enabled": 0,
        "scheduling_enabled": 0,
        "record_autonumbering_enabled": 1,
        "randomization_enabled": 0,
        "ddp_enabled": 0,
        "project_irb_number": "",
        "project_grant_number": "",
        "project_pi_firstname": "",
        "project_pi_lastname": "",
        "display_today_now_button": 1,
        "missing_data_codes": " | ".join(f"{code}, {label}" for code, label in codes.items()),
        "external_modules": "",
        "bypass_branching_erase_field_prompt": 0,
    }
    fmt = _output_format(params)
    if fmt == "json":
        return HttpResponse(json.dumps(info), content_type="application/json")
    if fmt == "xml":
        # One project, so REDCap writes its fields straight under <project>, not in items.
        body = "".join(f"<{key}>{xml_text(value)}</{key}>" for key, value in info.items())
        return HttpResponse(
            f'<?xml version="1.0" encoding="UTF-8" ?>\n<project>{body}</project>\n',
            content_type="text/xml; charset=utf-8",
        )
    return _table(params, [info], list(info))


def _metadata(user: User, params: Params) -> HttpResponse:
    rows = current_layout().metadata()
    fields, forms = params.array("fields"), params.array("forms")
    known_fields = {row["field_name"] for row in rows}
    known_forms = {row["form_name"] for row in rows}
    _refuse_unknown("fields", fields, known_fields)
    _refuse_unknown("forms", forms, known_forms)
    if fields or forms:
        rows = [row for row in rows if row["field_name"] in fields or row["form_name"] in forms]
    return _table(params, rows, METADATA_KEYS, formulas_safe=False)


def _import_metadata(user: User, params: Params) -> HttpResponse:
    """A curator's dictionary, published as new form versions; answers the number of fields."""
    fmt = (params.get("format") or "json").lower()
    if fmt not in ("json", "csv", "xml"):
        raise RedcapError(
            'The value of the parameter "format" is not valid; import the data '
            "dictionary as json, csv or xml."
        )
    text = _data(params)
    if fmt == "json":
        rows, where = _metadata_json(text), _item_where
    elif fmt == "xml":
        rows = [
            _metadata_row(item, f"Field {number}")
            for number, item in enumerate(_xml_rows(text), start=1)
        ]
        where = _item_where
    else:
        rows, where = _metadata_csv(text, _delimiter(params)), _line_where
    try:
        result = do_import_metadata(user, rows, where=lambda index: where(index, rows))
    except MetadataRejected as rejected:
        raise RedcapError(rejected.text()) from None
    # REDCap answers a dictionary import with the bare number of fields whatever the
    # returnFormat (API/metadata/import.php); only the content type follows it here, and a
    # refusal takes returnFormat's error shape (error_response).
    return_format = (params.get("returnFormat") or "json").lower()
    content_type = {"csv": "text/csv; charset=utf-8", "xml": "text/xml; charset=utf-8"}.get(
        return_format, "application/json"
    )
    return HttpResponse(str(result.fields), content_type=content_type)


def _data(params: Params) -> str:
    if "data" not in params.values:
        raise RedcapError('An import needs the parameter "data": the rows to import.')
    return params.values["data"]


def _item_where(index: int, rows: Sequence[Mapping[str, str]]) -> str:
    name = rows[index].get("field_name", "") if index < len(rows) else ""
    return f"Field {index + 1}" + (f" ({name[:100]})" if name else "")


def _line_where(index: int, rows: Sequence[Mapping[str, str]]) -> str:
    name = rows[index].get("field_name", "") if index < len(rows) else ""
    return f"Row {index + 2}" + (f" ({name[:100]})" if name else "")


_METADATA_KEY_OF: Final = {
    **{key: key for key in METADATA_KEYS},
    **dict(zip(COLUMNS, METADATA_KEYS, strict=True)),
}


def _metadata_row(given: Mapping[Any, Any], where: str) -> dict[str, str]:
    row = dict.fromkeys(METADATA_KEYS, "")
    for key, value in given.items():
        name = _METADATA_KEY_OF.get(str(key).strip().lstrip("\ufeff"))
        if name is None:
            raise RedcapError(
                f"{where}: {shown(str(key))} is not a column of a data "
                f"dictionary; the columns are {', '.join(METADATA_KEYS)}."
            )
        if isinstance(value, dict | list | bool):
            raise RedcapError(
                f"{where}, column {name}: a value is text, never a list or an object."
            )
        row[name] = "" if value is None else str(value)
    return row


def _metadata_json(text: str) -> list[dict[str, str]]:
    try:
        items = load_json(text)
    except JsonRefused as refused:
        place = (
            f"Field {refused.path[0] + 1}: "
            if refused.path and isinstance(refused.path[0], int)
            else ""
        )
        raise RedcapError(place + refused.message) from None
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise RedcapError(
            "The data must be a JSON list of fields, each with the metadata's "
            "columns (field_name, form_name, field_type, ...)."
        )
    return [_metadata_row(item, f"Field {number}") for number, item in enumerate(items, 1)]


def _metadata_csv(text: str, delimiter: str) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter)
    try:
        lines = list(reader)
    except csv.Error as error:
        raise RedcapError(f"CSV line {reader.line_num + 1} cannot be read ({error}).") from None
    lines = [line for line in lines if any(cell.strip() for cell in line)]
    if not lines:
        return []
    header = lines[0]
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if len(line) > len(header) and any(cell.strip() for cell in line[len(header) :]):
            raise RedcapError(f"Row {number} has more values than the header has columns.")
        rows.append(_metadata_row(dict(zip(header, line, strict=False)), f"Row {number}"))
    return rows


def _refuse_unknown(name: str, given: Iterable[str], known: Iterable[str]) -> None:
    known = set(known)
    unknown = [value for value in given if value not in known]
    if unknown:
        raise RedcapError(
            f'The following values in the parameter "{name}" are not valid: {", ".join(unknown)}'
        )


def _instruments(user: User, params: Params) -> HttpResponse:
    rows = [
        {"instrument_name": form.name, "instrument_label": form.title}
        for form in current_layout().forms
    ]
    return _table(params, rows, ["instrument_name", "instrument_label"])


def _export_field_names(user: User, params: Params) -> HttpResponse:
    layout = current_layout()
    rows = [_field_name_row(name, "", name) for name in (RECORD_ID, *RECORD_FIELDS)]
    for form in layout.forms:
        for layout_field in form.fields:
            if layout_field.retired or not layout_field.field.stores_data:
                continue
            if layout_field.is_checkbox:
                rows += [
                    _field_name_row(layout_field.name, code, column)
                    for code, column in zip(layout_field.codes, layout_field.columns, strict=True)
                ]
            else:
                rows.append(_field_name_row(layout_field.name, "", layout_field.name))
        rows.append(_field_name_row(form.complete_column, "", form.complete_column))
    wanted = params.get("field")
    if wanted:
        _refuse_unknown("field", [wanted], {row["original_field_name"] for row in rows})
        rows = [row for row in rows if row["original_field_name"] == wanted]
    return _table(params, rows, ["original_field_name", "choice_value", "export_field_name"])


def _field_name_row(original: str, code: str, export: str) -> dict[str, str]:
    return {"original_field_name": original, "choice_value": code, "export_field_name": export}


def _repeating(user: User, params: Params) -> HttpResponse:
    rows = [
        {"form_name": form.name, "custom_form_label": ""}
        for form in current_layout().forms
        if form.repeatable
    ]
    return _table(params, rows, ["form_name", "custom_form_label"])


def _dags(user: User, params: Params) -> HttpResponse:
    rows = [
        {
            "data_access_group_name": site.name,
            "unique_group_name": site.code.lower(),
            "data_access_group_id": site.pk,
        }
        for site in sites_in_scope(user)
    ]
    return _table(
        params, rows, ["data_access_group_name", "unique_group_name", "data_access_group_id"]
    )


def _classic(what: str) -> Callable[[User, Params], HttpResponse]:
    def refuse(user: User, params: Params) -> HttpResponse:
        raise RedcapError(f"You cannot export {what} for classic projects")

    return refuse


def _export(user: User, params: Params) -> HttpResponse:
    fmt = _output_format(params)
    layout = params.choice("type", ("flat", "eav"), "flat")
    delimiter = _delimiter(params)
    if params.array("events"):
        raise RedcapError("The registry is a classic project without events; leave events out.")
    labels = params.choice("rawOrLabel", ("raw", "label"), "raw") == "label"
    begin, end = _date(params, "dateRangeBegin"), _date(params, "dateRangeEnd")
    decimal = params.get("decimalCharacter")
    if decimal not in ("", "."):
        raise RedcapError(
            "decimalCharacter: the registry writes numbers with a point; leave "
            "decimalCharacter out or set it to '.'."
        )
    spec = ExportSpec(
        forms=params.array("forms"),
        fields=params.array("fields"),
        records=params.array("records"),
        labels=labels,
        label_headers=params.choice("rawOrLabelHeaders", ("raw", "label"), "raw") == "label",
        checkbox_labels=params.flag("exportCheckboxLabel"),
        data_access_groups=params.flag("exportDataAccessGroups"),
        blank_for_gray=params.flag("exportBlankForGrayFormStatus"),
        filter_logic=params.get("filterLogic"),
        changed_since=begin,
        changed_until=end,
        csv_delimiter=delimiter,
    )
    # A token is one release: a script's pages and repeated calls share its pseudonyms.
    started = do_start_export(
        user,
        f"{layout}-{fmt}",
        spec,
        via="redcap",
        release_id=token_release_id(hash_token(params.get("token"))),
    )
    response = StreamingHttpResponse(
        started.chunks, content_type=f"{started.media_type}; charset=utf-8"
    )
    set_release_headers(response, started.manifest)
    return response


def _date(params: Params, name: str) -> Any:
    value = params.get(name)
    if not value:
        return None
    parsed = parse_datetime(value) or parse_datetime(f"{value} 00:00:00")
    if parsed is None:
        raise RedcapError(f"{name} must be a date and time such as 2024-03-01 00:00:00.")
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def _import(user: User, params: Params) -> HttpResponse:
    fmt = (params.get("format") or "json").lower()
    if fmt not in ("json", "csv", "xml"):
        raise RedcapError(
            'The value of the parameter "format" is not valid; import data as json, csv or xml.'
        )
    layout = params.choice("type", ("flat", "eav"), "flat")
    if (params.get("dateFormat") or "YMD").upper() != "YMD":
        raise RedcapError(
            "dateFormat: send dates as YYYY-MM-DD (dateFormat=YMD); the registry "
            "does not reorder day and month."
        )
    overwrite = params.choice("overwriteBehavior", ("normal", "overwrite"), "normal")
    auto = params.flag("forceAutoNumber")
    returned = params.choice("returnContent", ("count", "ids", "auto_ids", "nothing"), "count")
    if returned == "auto_ids" and not auto:
        raise RedcapError("returnContent=auto_ids needs forceAutoNumber=true.")
    rows = _parse_rows(_data(params), fmt, _delimiter(params))
    if layout == "eav":
        rows = _flat_rows(rows)
    try:
        result = do_import_records(
            user, rows, ImportOptions(overwrite=overwrite == "overwrite", force_auto_number=auto)
        )
    except ImportRejected as rejected:
        raise RedcapError(rejected.text()) from None
    return_format = (params.get("returnFormat") or "json").lower()
    if returned == "nothing":
        return HttpResponse("", content_type="text/plain")
    if returned == "count":
        count = len(result.records)
        if return_format == "csv":
            return HttpResponse(f"count\n{count}\n", content_type="text/csv; charset=utf-8")
        if return_format == "xml":
            return _xml_answer(f"<count>{count}</count>")
        return HttpResponse(json.dumps({"count": count}), content_type="application/json")
    if returned == "ids":
        ids = list(result.records)
        csv_rows = [["id"], *[[pseudonym] for pseudonym in ids]]
    else:
        # The second value of each pair is the record's place in the batch, never the local
        # hospital ID that was sent as record ID.
        ids = [
            f"{pseudonym},{position}"
            for pseudonym, position in zip(result.records, result.positions, strict=True)
        ]
        csv_rows = [
            ["id", "position"],
            *[[p, str(n)] for p, n in zip(result.records, result.positions, strict=True)],
        ]
    if return_format == "csv":
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(csv_rows)
        return HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    if return_format == "xml":
        return _xml_answer("<ids>" + "".join(f"<id>{xml_text(i)}</id>" for i in ids) + "</ids>")
    return HttpResponse(json.dumps(ids), content_type="application/json")


def _xml_answer(body: str) -> HttpResponse:
    return HttpResponse(
        f'<?xml version="1.0" encoding="UTF-8" ?>\n{body}\n', content_type="text/xml; charset=utf-8"
    )


def _flat_rows(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """type=eav rows (`record`, `field_name`, `value`, the repeat columns) as flat rows: one
    per record and instance, a checkbox's value naming the option it ticks."""
    layout = current_layout()
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for number, item in enumerate(items, start=1):
        record = str(item.get("record", "")).strip()
        name = str(item.get("field_name", "")).strip()
        if not record or not name:
            raise RedcapError(
                f"Record {number}: an eav row names its record and field_name (and its value)."
            )
        extra = set(item) - {
            "record",
            "field_name",
            "value",
            REPEAT_INSTRUMENT,
            REPEAT_INSTANCE,
            "redcap_event_name",
        }
        if extra:
            raise RedcapError(
                f"Record {number}: {', '.join(sorted(map(shown, extra)))} is not "
                "a column of an eav import; send record, field_name, value and "
                "the repeat columns."
            )
        instrument = str(item.get(REPEAT_INSTRUMENT) or "").strip()
        instance = str(item.get(REPEAT_INSTANCE) or "").strip()
        row = rows.setdefault(
            (record, instrument, instance),
            {
                RECORD_ID: record,
                **(
                    {REPEAT_INSTRUMENT: instrument, REPEAT_INSTANCE: instance}
                    if instrument or instance
                    else {}
                ),
            },
        )
        value = item.get("value", "")
        layout_field = layout.fields.get(name)
        if layout_field is not None and layout_field.is_checkbox:
            code = str(value).strip()
            column = dict(zip(layout_field.codes, layout_field.columns, strict=True)).get(code)
            if column is None:
                raise RedcapError(
                    f"Record {number}, field {name}: {shown(code)} is not one of "
                    f"its options ({', '.join(layout_field.codes)})."
                )
            row[column] = "1"
        elif name != RECORD_ID:
            row[name] = value
    return list(rows.values())


def _where(refused: JsonRefused) -> str:
    """`Record 3, column neuro_other_findings: ` for a place in a list of records."""
    path = refused.path
    if not path or not isinstance(path[0], int):
        return ""
    where = f"Record {path[0] + 1}"
    return where + (f", column {path[1]}: " if len(path) > 1 else ": ")


def _xml_rows(text: str) -> list[dict[str, str]]:
    """REDCap's XML, `<records><item><name>value</name>...</item>...</records>`, as rows.

    A document type (and with it every entity) is refused before parsing: REDCap's XML has
    none, and entities are how XML bombs and reads of local files arrive.
    """
    if re.search(r"<!\s*(DOCTYPE|ENTITY)", text, re.IGNORECASE):
        raise RedcapError(
            "The XML declares a document type or entities, which REDCap's XML "
            "never does; send <records><item>...</item></records>."
        )
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as error:
        raise RedcapError(f"The XML cannot be read ({error}).") from None
    if root.tag != "records":
        raise RedcapError(
            f"The XML must be <records> holding <item> elements; it is <{root.tag[:40]}>."
        )
    rows = []
    for number, item in enumerate(root, start=1):
        if item.tag != "item":
            raise RedcapError(f"Record {number}: <{item.tag[:40]}> is not an <item>.")
        row: dict[str, str] = {}
        for cell in item:
            if len(cell):
                raise RedcapError(
                    f"Record {number}, column {shown(cell.tag)}: a value is "
                    "text, never more elements."
                )
            row[cell.tag] = cell.text or ""
        rows.append(row)
    return rows


def _parse_rows(text: str, fmt: str, delimiter: str) -> list[dict[str, Any]]:
    if fmt == "xml":
        return cast(list[dict[str, Any]], _xml_rows(text))
    if fmt == "json":
        try:
            rows = load_json(text)
        except JsonRefused as refused:
            raise RedcapError(
                _where(refused)
                + refused.message
                + (
                    ""
                    if refused.path
                    else " Send a list of records, for example "
                    '[{"record_id": "...", "mm_age_months": "36"}].'
                )
            ) from None
        if isinstance(rows, dict):
            rows = [rows]
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise RedcapError(
                "The data must be a JSON list of records, each a set of column names and values."
            )
        for number, row in enumerate(rows, start=1):
            for column, value in row.items():
                if isinstance(value, dict | list):
                    raise RedcapError(
                        f"Record {number}, column {shown(column)}: a value is "
                        "text or a number, never a list or an object."
                    )
        return rows
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter)
    rows = []
    try:
        for row in reader:
            if None in row:
                raise RedcapError(
                    f"CSV line {reader.line_num} has more values than the header has columns."
                )
            rows.append(row)
    except csv.Error as error:
        # The csv module's own limit on one value (131,072 characters), or a broken line.
        if "field limit" in str(error):
            raise RedcapError(
                f"CSV line {reader.line_num + 1} has a value of more than "
                f"{csv.field_size_limit():,} characters; no value of the "
                "registry is that long."
            ) from None
        raise RedcapError(f"CSV line {reader.line_num + 1} cannot be read ({error}).") from None
    return rows


Handler = Callable[[User, Params], HttpResponse]


def _refuse(message: str, status: int = 400) -> Handler:
    """A write the registry does not do: refused in REDCap's error shape, nothing changed."""

    def refuse(user: User, params: Params) -> HttpResponse:
        raise RedcapError(f"{message} Nothing was changed.", status)

    return refuse


_CLASSIC_WRITE: Final = (
    "The registry is a classic project without events or arms, and the API does not add them."
)
_DAG_WRITE: Final = (
    "Data access groups are the registry's sites, which administrators manage "
    "in the admin; the API does not create, delete or rename them."
)
_NO_DELETE: Final = "The registry never deletes, renames or moves records through the API."

CONTENTS: Final[Mapping[str, Mapping[str, Handler]]] = {
    "version": {"export": _version},
    "project": {
        "export": _project,
        "import": _refuse("The registry is one project: the API does not create projects."),
    },
    "project_settings": {
        "import": _refuse(
            "Project settings are the registry's configuration; the API does not change them."
        )
    },
    "metadata": {"export": _metadata, "import": _import_metadata},
    "instrument": {"export": _instruments},
    "exportFieldNames": {"export": _export_field_names},
    "repeatingFormsEvents": {
        "export": _repeating,
        "import": _refuse(
            "Whether a form repeats is part of its published versions; the API does not change "
            "it (a metadata import keeps each form's repeatability)."
        ),
    },
    "dag": {
        "export": _dags,
        "import": _refuse(_DAG_WRITE),
        "delete": _refuse(_DAG_WRITE),
        "switch": _refuse(
            "A token reads every site its person belongs to, so there is "
            "no data access group to switch to."
        ),
    },
    "userDagMapping": {
        "import": _refuse(
            "Who belongs to which site is managed by administrators in the admin, not through "
            "the API."
        )
    },
    "formEventMapping": {
        "export": _classic("form/event mappings"),
        "import": _refuse(_CLASSIC_WRITE),
    },
    "event": {
        "export": _classic("events"),
        "import": _refuse(_CLASSIC_WRITE),
        "delete": _refuse(_CLASSIC_WRITE),
    },
    "arm": {
        "export": _classic("arms"),
        "import": _refuse(_CLASSIC_WRITE),
        "delete": _refuse(_CLASSIC_WRITE),
    },
    "record": {
        "export": _export,
        "import": _import,
        "delete": _refuse(_NO_DELETE),
        "rename": _refuse(_NO_DELETE),
        "randomize": _refuse("The registry does not randomise records."),
    },
}
"""content -> action -> handler. A content or action missing here is refused."""

_WRITES: Final = frozenset({"import", "delete", "switch", "rename", "randomize", "createFolder"})


def _handler(params: Params) -> Handler:
    """The handler of the request's content and action, or a RedcapError refusing it.

    REDCap reads a request that sends `data` without an `action` as an import, so the
    registry does too: an import must never be answered with an export.
    """
    content = params.get("content")
    action = params.get("action") or ("import" if "data" in params.values else "export")
    actions = CONTENTS.get(content)
    if actions is None:
        readable = ", ".join(name for name, handlers in CONTENTS.items() if "export" in handlers)
        written = "record, metadata"
        nothing = " Nothing was changed." if action in _WRITES else ""
        raise RedcapError(
            f'The value of the parameter "content" is not valid: {content[:40]!r}. The '
            f"registry exports {readable} and imports {written}.{nothing}"
        )
    handler = actions.get(action)
    if handler is None:
        if action == "export":
            raise RedcapError(
                f"The registry does not export content={content}; it only refuses its writes."
            )
        if action in _WRITES:
            raise RedcapError(
                f"content={content} does not take action={action}: the registry "
                "does not do this write. Nothing was changed."
            )
        raise RedcapError(
            f'The value of the parameter "action" is not valid for '
            f"content={content}: {action[:20]!r}; use "
            f"{' or '.join(actions)}."
        )
    return handler


@csrf_exempt
@sensitive_post_parameters("token", "data")
def redcap_api(request: HttpRequest) -> HttpResponse:
    """The REDCap API: authenticate by `token`, throttle, and answer `content`."""
    if request.method != "POST":
        return error_response(
            "The API takes POST requests (form-encoded: token, content, format, ...).",
            405,
            headers={"Allow": "POST"},
        )
    params: Params | None = None
    try:
        params = _read_params(request)
        fmt = _error_format(params)
        token = params.get("token")
        user = user_for_token(token) if looks_like_token(token) else None
        if user is None:
            return error_response(
                "You do not have permissions to use the API: the token is "
                "missing, unknown, expired or revoked.",
                403,
                fmt,
            )
        # As the REST API does: the request's queries run in the scope of the token's person.
        request.user = user
        throttle = TokenRateThrottle()
        if not throttle.allow_key(key_for_token(token)):
            wait = throttle.wait()
            return error_response(
                too_many_requests_message(throttle, wait),
                429,
                fmt,
                {"Retry-After": str(max(1, round(wait or 1)))},
            )
        return _handler(params)(user, params)
    except RedcapError as error:
        return error_response(error.message, error.status, _error_format(params))
    except ExportError as error:
        return error_response(f"{error.parameter}: {error.message}", 400, _error_format(params))
    except PermissionDenied as error:
        return error_response(str(error) or "You may not do this.", 403, _error_format(params))
