"""Form schemas: the checked, immutable in-memory form of a CRF version.

A schema file (``forms/<form>/v<N>.yaml``, see docs/form-schema.md) is plain data. ``load_schema``
checks all of it at once and either returns a ``FormSchema`` or raises ``SchemaError`` listing
every problem, each with a path (``fields[3].choices[1].code``) and a sentence saying what is
wrong and what would be right. A ``FormSchema`` holds everything validation needs already
compiled (logic, patterns, bounds, evaluation order), so validating a submission never parses.

The package's modules, each one part of the work:

- ``vocabulary``: what a document may say (field types, keys, ontologies, names and codes);
- ``model``: ``FormSchema``, ``Field`` and the smaller nouns, compiled when built;
- ``order``: the order fields are computed in (each after what its logic reads);
- ``loader``: ``load_schema`` and ``load_schemas``, and the form-level keys;
- ``reader``: the reading of plain values, collecting problems by YAML path;
- ``fields``: one field, concern by concern; ``bounds``, ``choices`` and ``tags`` (action
  tags in the annotation) are the larger concerns of a field;
- ``crossfield``: what spans fields (logic references, piped limits, matrices, renames,
  circles of dependencies);
- ``canonical``: ``schema_to_dict`` and ``content_hash``.
"""

from __future__ import annotations

from .canonical import content_hash, schema_to_dict
from .loader import load_schema, load_schemas
from .model import (
    Annotation,
    Check,
    Choice,
    Field,
    FormSchema,
    Limits,
    MissingCode,
    Problem,
    RecordId,
    SchemaError,
    Slider,
)
from .vocabulary import (
    ANNOTATION_SYSTEMS,
    CHOICE_TYPES,
    FIELD_TYPES,
    IMPLICIT_CHOICES,
    LEGACY_TYPE_ALIASES,
    ONTOLOGY_TERM,
    PIPED_BOUND,
    checkbox_column,
    name_problem,
    split_reference,
)

__all__ = [
    "ANNOTATION_SYSTEMS",
    "CHOICE_TYPES",
    "FIELD_TYPES",
    "IMPLICIT_CHOICES",
    "LEGACY_TYPE_ALIASES",
    "ONTOLOGY_TERM",
    "PIPED_BOUND",
    "Annotation",
    "Check",
    "Choice",
    "Field",
    "FormSchema",
    "Limits",
    "MissingCode",
    "Problem",
    "RecordId",
    "SchemaError",
    "Slider",
    "checkbox_column",
    "content_hash",
    "load_schema",
    "load_schemas",
    "name_problem",
    "schema_to_dict",
    "split_reference",
]
