"""REDCap's logic language (branching logic, calculations, data-quality rules).

``compile_logic(source)`` parses once and remembers; ``evaluate(node, record)`` walks the tree.
``to_json`` gives the tree the browser evaluator (``registry/formengine/js/logic.js``) runs with
the same semantics. Never ``eval``.
"""

from .coercion import truthy
from .errors import LogicEvaluationError, LogicSyntaxError
from .evaluator import evaluate
from .functions import FUNCTIONS
from .nodes import (
    Binary,
    Boolean,
    Call,
    FieldRef,
    Logical,
    Node,
    Number,
    SmartVariable,
    String,
    Unary,
)
from .parser import compile_logic, parse
from .printer import to_source
from .references import field_references, reference_nodes
from .serialization import from_json, to_json
from .smart_variables import SMART_VARIABLES

__all__ = [
    "FUNCTIONS",
    "SMART_VARIABLES",
    "Binary",
    "Boolean",
    "Call",
    "FieldRef",
    "LogicEvaluationError",
    "LogicSyntaxError",
    "Logical",
    "Node",
    "Number",
    "SmartVariable",
    "String",
    "Unary",
    "compile_logic",
    "evaluate",
    "field_references",
    "from_json",
    "parse",
    "reference_nodes",
    "to_json",
    "to_source",
    "truthy",
]
