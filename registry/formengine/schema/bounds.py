"""A field's bounds: the min and max a value must keep to, and the plausible limits that
data-quality checks flag values outside of (never refused)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from registry.formengine.values import Validation, parse_date, parse_datetime, parse_time

from .model import Bound, Limits, parse_bound
from .reader import SchemaReader
from .vocabulary import PIPED_BOUND

__all__ = ["read_bounds", "read_limits"]


def read_bounds(
    reader: SchemaReader,
    raw: Mapping[str, Any],
    path: str,
    kind: str,
    info: Validation | None,
    field: str | None,
) -> tuple[Bound | None, Bound | None]:
    given = {key: raw.get(key) for key in ("min", "max") if raw.get(key) is not None}
    if not given:
        return None, None
    result: dict[str, Bound | None] = {"min": None, "max": None}
    if kind == "slider":
        for key, value in given.items():
            if isinstance(value, bool) or not isinstance(value, int):
                reader.problem(
                    f"{path}.{key}",
                    f"a slider's {key} must be a whole number; found {value!r}",
                    field,
                )
            else:
                result[key] = value
        low = result["min"] if result["min"] is not None else 0
        high = result["max"] if result["max"] is not None else 100
        if isinstance(low, int) and isinstance(high, int) and low >= high:
            reader.problem(
                f"{path}.max",
                f"a slider's range must run upwards; {low} to {high} does not",
                field,
            )
        return result["min"], result["max"]
    if kind != "text" or info is None or not info.has_bounds:
        for key in given:
            reader.problem(
                f"{path}.{key}",
                f"{key} needs a text field with an integer, "
                "number, date, datetime or time validation",
                field,
            )
        return None, None
    parsed: dict[str, object] = {}
    for key, value in given.items():
        if isinstance(value, str) and PIPED_BOUND.fullmatch(value.strip()):
            result[key] = value.strip()  # checked against its field in piped_limits
            continue
        bound, shown = _bound(value, info)
        if bound is None:
            reader.problem(
                f"{path}.{key}",
                f"{key} {value!r} does not suit validation '{info.name}'; write {shown}",
                field,
            )
            continue
        result[key] = bound
        parsed[key] = parse_bound(info, bound)
    if _out_of_order(parsed.get("min"), parsed.get("max")):
        reader.problem(
            f"{path}.max", f"max {result['max']!r} is below min {result['min']!r}", field
        )
    return result["min"], result["max"]


def _bound(value: object, info: Validation) -> tuple[Bound | None, str]:
    if info.family == "integer":
        whole = isinstance(value, int | float) and not isinstance(value, bool)
        if whole and float(value).is_integer():  # type: ignore[arg-type]
            return int(value), "a whole number"  # type: ignore[call-overload]
        return None, "a whole number"
    if info.family == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None, "a number"
        return (int(value) if float(value).is_integer() else value), "a number"
    if isinstance(value, str) and value.strip().lower() in {"today", "now"}:
        return value.strip().lower(), ""
    if info.family == "date":
        day = parse_date(value)
        return (day.isoformat() if day else None), "a date as YYYY-MM-DD, or today"
    if info.family == "datetime":
        moment = parse_datetime(value, seconds=info.seconds)
        fmt = "%Y-%m-%d %H:%M:%S" if info.seconds else "%Y-%m-%d %H:%M"
        shown = "YYYY-MM-DD HH:MM" + (":SS" if info.seconds else "") + ", or now"
        return (moment.strftime(fmt) if moment else None), shown
    time = parse_time(value, info.time_format)
    return time, f"a time as {info.time_format.upper()}"


def read_limits(
    reader: SchemaReader,
    raw: object,
    path: str,
    kind: str,
    info: Validation | None,
    field: str | None,
) -> Limits | None:
    if raw is None:
        return None
    numeric = kind in {"calc", "slider"} or (
        info is not None and info.family in {"integer", "number"}
    )
    if not numeric:
        reader.problem(
            path, "limits apply to numeric fields only (integer, number, calc, slider)", field
        )
        return None
    if not isinstance(raw, Mapping):
        reader.problem(path, "must be a mapping with min and/or max", field)
        return None
    reader.unknown_keys(raw, ("min", "max"), path, "limits", field)
    values: dict[str, int | float | None] = {}
    for key in ("min", "max"):
        value = raw.get(key)
        if value is None:
            values[key] = None
        elif isinstance(value, bool) or not isinstance(value, int | float):
            reader.problem(f"{path}.{key}", f"must be a number; found {value!r}", field)
            values[key] = None
        else:
            values[key] = int(value) if float(value).is_integer() else value
    low, high = values["min"], values["max"]
    if low is None and high is None:
        reader.problem(path, "give min, max or both", field)
        return None
    if low is not None and high is not None and low > high:
        reader.problem(f"{path}.max", f"max {high} is below min {low}", field)
    return Limits(low, high)


def _out_of_order(low: object, high: object) -> bool:
    symbolic = {"today", "now"}
    if low is None or high is None or low in symbolic or high in symbolic:
        return False
    try:
        return bool(low > high)  # type: ignore[operator]
    except TypeError:
        return False
