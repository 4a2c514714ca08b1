"""The data-entry form of one form version, built from its schema.

The schema is the only description of a form: this module turns it into a Django form class
(for widgets, labels, notes and redisplaying what was typed), a crispy-forms layout (sections,
matrix tables, read-only calculations) and the JSON the browser needs to run branching logic and
calculations live (the same compiled logic trees the server evaluates).

Django's own field validation is never used: what was typed goes to the form engine through
`do_save_submission`, and the engine's messages are attached to the fields they name. One
engine decides what is valid, whichever way the data came in.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Layout, LayoutObject
from django import forms
from django.forms.utils import ErrorDict
from django.http import QueryDict
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from registry.formengine import logic
from registry.formengine.actiontags import ActionTags, Conditional
from registry.formengine.hpo import hpo_release
from registry.formengine.logic.compiler import compile_tree
from registry.formengine.logic.context import Context
from registry.formengine.schema import Field as SchemaField
from registry.formengine.schema import FormSchema, Slider
from registry.formengine.validation import (
    FORM_ERRORS,
    MAX_NOTES_LENGTH,
    MAX_TEXT_LENGTH,
    validate_submission,
)
from registry.formengine.values import format_number

ROW_VERSION = "_row_version"
STATUS = "_status"
CLIENT_UUID = "_client_uuid"
VERSION = "_version"
"""Names of the page's own inputs. Schema field names start with a letter, so these cannot
collide with a field."""

# A matrix of more options than this does not fit a tablet's width; its fields are then shown
# one by one.
MATRIX_MAX_CHOICES = 6
_TAGS = re.compile(r"<[^>]*>")
_INLINE_TYPES = frozenset({"yesno", "truefalse"})


def plain_label(f: SchemaField) -> str:
    """The field's label as text (REDCap labels may carry HTML, which is never rendered)."""
    return " ".join(_TAGS.sub(" ", f.label).split()) or f.name


def _bound_words(bound: object) -> str:
    if isinstance(bound, float):
        return format_number(bound)
    if isinstance(bound, dt.date):
        return bound.isoformat()
    return str(bound)


def validation_hint(f: SchemaField) -> str:
    """What a text box expects, in words, for the hint under it."""
    info = f.validation_info
    if f.type == "slider":
        return ""
    if info is None or info.family == "identifier":
        return ""
    low, high = f.lower, f.upper
    if low is not None and high is not None:
        span = f" from {_bound_words(low)} to {_bound_words(high)}"
    elif low is not None:
        span = f" of at least {_bound_words(low)}"
    elif high is not None:
        span = f" of at most {_bound_words(high)}"
    else:
        span = ""
    return f"{info.description[0].upper()}{info.description[1:]}{span}."


def _help_text(f: SchemaField) -> SafeString:
    hint = validation_hint(f)
    if f.note and hint:
        return format_html('{}<span class="validation-hint d-block">{}</span>', f.note, hint)
    if hint:
        return format_html('<span class="validation-hint">{}</span>', hint)
    return format_html("{}", f.note)


class SliderInput(forms.NumberInput):
    """A range input; web/fields/slider.html draws it with its labels. A blank slider carries no
    name until it is moved, so an untouched slider stays unanswered (see data_entry.js)."""

    input_type = "range"

    def __init__(self, slider: Slider | None, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.slider = slider or Slider()


class LimitedChoices:
    """A choice widget whose @MAXCHOICE-exhausted options are shown disabled (the server
    refuses them anyway: submissions/choice_limits.py)."""

    exhausted: frozenset[str] = frozenset()

    def create_option(
        self,
        name: str,
        value: Any,
        label: Any,
        selected: Any,
        index: int,
        subindex: int | None = None,
        attrs: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        option: dict[str, Any] = super().create_option(  # type: ignore[misc]
            name, value, label, selected, index, subindex, attrs
        )
        if str(value) in self.exhausted and not selected:
            option["attrs"] = {**option["attrs"], "disabled": True, "data-exhausted": "1"}
            option["exhausted"] = True
            option["label"] = f"{label} (no longer available)"
        return option


class LimitedRadioSelect(LimitedChoices, forms.RadioSelect):
    pass


class LimitedCheckboxes(LimitedChoices, forms.CheckboxSelectMultiple):
    pass


class LimitedSelect(LimitedChoices, forms.Select):
    pass


class SubmissionForm(forms.Form):
    """Base of the generated form classes; see `submission_form`."""

    # Required fields are marked, never enforced by the browser: a hidden required field must
    # stay blank, and the engine decides what is missing.
    use_required_attribute = False
    schema: FormSchema

    def attach_errors(self, errors: Mapping[str, list[str]]) -> None:
        """Show the engine's messages next to the fields they name ("__all__": above the form)."""
        self.cleaned_data: dict[str, Any] = {}
        self._errors = ErrorDict(renderer=self.renderer)
        for name, messages in errors.items():
            target = name if name in self.fields and name != FORM_ERRORS else None
            if target is None and name not in (FORM_ERRORS, "instance", "form_version"):
                # A problem with one of the page's own inputs (status, idempotency key):
                # name the input, since there is no field to show it beside.
                messages = [f"{name}: {message}" for message in messages]
            self.add_error(target, list(messages))

    def no_errors(self) -> None:
        self._errors = ErrorDict(renderer=self.renderer)


def page_tags(schema: FormSchema, saved: Mapping[str, Any] | None) -> dict[str, ActionTags]:
    """The action tags of each field as the page opens: an @IF is decided with the answers
    saved so far (a new form: none), as REDCap decides it when a page loads."""
    tags = {f.name: f.tags for f in schema.fields}
    conditional = [f for f in schema.fields if f.tags.conditionals]
    if not conditional:
        return tags
    ctx = Context(saved or {}, None, schema.missing_code_set, None)

    def decide(conditional: Conditional) -> bool:
        try:
            outcome = compile_tree(conditional.logic)(ctx)
        except logic.LogicEvaluationError:
            return False
        if isinstance(outcome, str):
            return outcome.strip().lower() not in {"", "0", "false"}
        return bool(outcome)

    for f in conditional:
        tags[f.name] = f.tags.resolve(decide)
    return tags


def _limited(widget: LimitedChoices, exhausted: frozenset[str]) -> Any:
    widget.exhausted = exhausted
    return widget


def _django_field(
    f: SchemaField, schema: FormSchema, tags: ActionTags, exhausted: frozenset[str] = frozenset()
) -> forms.Field:
    common: dict[str, Any] = {
        "label": plain_label(f),
        "required": f.required,
        "help_text": _help_text(f),
    }
    attrs: dict[str, Any] = {"data-field-type": f.type}
    if f.required:
        attrs["aria-required"] = "true"
    if f.type in ("radio", "yesno", "truefalse"):
        return forms.ChoiceField(
            choices=list(f.all_choices()),
            widget=_limited(LimitedRadioSelect(attrs=attrs), exhausted),
            **common,
        )
    if f.type == "checkbox":
        return forms.MultipleChoiceField(
            choices=list(f.all_choices()),
            widget=_limited(LimitedCheckboxes(attrs=attrs), exhausted),
            **common,
        )
    if f.type == "dropdown":
        choices: list[Any] = [("", "Choose…"), *f.all_choices()]
        if schema.missing_codes:
            choices.append(
                (
                    "Missing data",
                    [(code.code, f"{code.label} ({code.code})") for code in schema.missing_codes],
                )
            )
        return forms.ChoiceField(
            choices=choices, widget=_limited(LimitedSelect(attrs=attrs), exhausted), **common
        )
    if tags.placeholder is not None:
        attrs["placeholder"] = tags.placeholder
    if f.type == "notes":
        # The browser keeps a note within what the form engine accepts (it says so if not).
        if f.tags.conditionals:
            attrs["data-maxlength"] = MAX_NOTES_LENGTH
        return forms.CharField(
            widget=forms.Textarea(
                attrs={**attrs, "rows": 3, "maxlength": tags.charlimit or MAX_NOTES_LENGTH}
            ),
            **common,
        )
    if f.type == "slider":
        attrs.update({"min": f.lower, "max": f.upper, "step": 1})
        return forms.CharField(widget=SliderInput(f.slider, attrs=attrs), **common)
    if f.is_computed:
        common["required"] = False
        return forms.CharField(widget=forms.TextInput(attrs={**attrs, "readonly": True}), **common)
    if tags.readonly:
        # @READONLY: shown, never changed here (posted_data keeps the saved value).
        attrs["readonly"] = True
        common["required"] = False
    if f.type == "file":
        common["help_text"] = "Files cannot be attached through this page yet."
        return forms.CharField(widget=forms.TextInput(attrs={**attrs, "disabled": True}), **common)
    info = f.validation_info
    if info is not None and info.family in ("integer", "number"):
        attrs["inputmode"] = "numeric" if info.family == "integer" else "decimal"
        attrs["data-numeric"] = "1"
        attrs["class"] = "form-control numeric-input"
    elif info is not None and info.family in ("date", "datetime", "time"):
        attrs.setdefault(
            "placeholder",
            {"date": "YYYY-MM-DD", "datetime": "YYYY-MM-DD HH:MM", "time": "HH:MM"}[info.family],
        )
    if f.ontology.upper() == "HP":
        # data_entry.js suggests terms from the registry's own HPO release as one types.
        attrs["data-hpo-lookup"] = reverse("web:hpo_terms")
        attrs.setdefault("placeholder", "HP:0000000 or words of the term")
    # Names, hospital numbers and dates must not be suggested from earlier patients' forms.
    attrs["autocomplete"] = "off"
    attrs["maxlength"] = min(tags.charlimit or MAX_TEXT_LENGTH, MAX_TEXT_LENGTH)
    if f.tags.conditionals:
        attrs["data-maxlength"] = MAX_TEXT_LENGTH
    return forms.CharField(widget=forms.TextInput(attrs=attrs), **common)


def entry_fields(schema: FormSchema) -> list[SchemaField]:
    """The fields a person fills or reads on the page (identifier fields are never asked)."""
    return [f for f in schema.fields if f.stores_data]


def submission_form(
    schema: FormSchema,
    *,
    data: QueryDict | None = None,
    initial: Mapping[str, Any] | None = None,
    read_only: bool = False,
    saved: Mapping[str, Any] | None = None,
    exhausted: Mapping[str, frozenset[str]] | None = None,
) -> SubmissionForm:
    """A form instance for `schema`: bound to `data` (what was posted) or showing `initial`;
    ``saved`` (the stored answers) decides the @IFs, ``exhausted`` lists the choices that
    @MAXCHOICE no longer offers."""
    tags = page_tags(schema, saved)
    exhausted = exhausted or {}
    fields = {
        f.name: _django_field(f, schema, tags[f.name], exhausted.get(f.name, frozenset()))
        for f in entry_fields(schema)
    }
    form_class = type(
        f"{schema.form.title().replace('_', '')}V{schema.version}Form",
        (SubmissionForm,),
        {**fields, "schema": schema},
    )
    form = form_class(
        data=None if data is None else _shortened(data), initial=initial, auto_id="field-%s"
    )
    if read_only:
        for field in form.fields.values():
            field.disabled = True
    for f in entry_fields(schema):
        if tags[f.name].readonly:
            form.fields[f.name].disabled = True
        if f.ontology.upper() == "HP":
            # On the bound field, which the form keeps and the template renders.
            bound = form[f.name]
            bound.help_text = _term_label(f, bound.value(), bound.help_text)
    return form


def _term_label(f: SchemaField, value: Any, help_text: str) -> SafeString:
    """An HPO field's note with the chosen term's name, which data_entry.js keeps current."""
    term = hpo_release().term(value) if isinstance(value, str) and value.strip() else None
    return format_html(
        '{}<span class="hpo-label d-block" data-hpo-label="{}">{}</span>',
        help_text,
        f.name,
        term.name if term is not None else "",
    )


def _shortened(data: QueryDict) -> QueryDict:
    """What was posted, to show again: a value over any limit is cut there (its error says
    how long it was), so that a page never sends back megabytes it was sent."""
    if not any(len(value) > MAX_NOTES_LENGTH for _, values in data.lists() for value in values):
        return data
    shortened = data.copy()
    for key, values in data.lists():
        shortened.setlist(key, [value[:MAX_NOTES_LENGTH] for value in values])
    return shortened


def posted_data(
    schema: FormSchema, post: QueryDict, saved: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The submission as posted: strings, and lists of codes for checkboxes.

    Calculations are left out (the server computes them), and so is anything that is not a
    field of the form (the page's own inputs). A field the page hides or shows read-only
    (@HIDDEN, @READONLY) keeps what was ``saved`` (a new form: its @DEFAULT), whatever arrives.
    """
    data: dict[str, Any] = {}
    tags = page_tags(schema, saved)
    for f in entry_fields(schema):
        if f.is_computed or f.type == "file":
            continue
        if tags[f.name].hidden or tags[f.name].readonly:
            if saved is None:
                default = _default(tags[f.name], f)
                if default is not None:
                    data[f.name] = default
            elif f.name in saved:
                data[f.name] = saved[f.name]
            continue
        if f.type == "checkbox":
            data[f.name] = post.getlist(f.name)
        elif f.name in post:
            data[f.name] = post.get(f.name, "")
    return data


def _as_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return format_number(value)
    return value


def _default(tags: ActionTags, f: SchemaField) -> Any:
    """A field's @DEFAULT as the form holds it; a default piped from elsewhere is not used."""
    default = tags.default
    if default is None or "[" in default:
        return None
    if f.type == "checkbox":
        return [code.strip() for code in default.split(",") if code.strip()]
    return default


def initial_data(
    schema: FormSchema, data: Mapping[str, Any], *, new: bool = False
) -> dict[str, Any]:
    """A stored document as the form shows it (numbers as text, checkbox lists as lists);
    a ``new`` form starts with the fields' @DEFAULT values."""
    initial: dict[str, Any] = {}
    tags = page_tags(schema, None) if new else {}
    for f in entry_fields(schema):
        if f.name not in data:
            default = _default(tags[f.name], f) if new else None
            if default is not None:
                initial[f.name] = default
            continue
        value = data[f.name]
        if f.type == "checkbox":
            initial[f.name] = value if isinstance(value, list) else [value]
        else:
            initial[f.name] = _as_text(value)
    return initial


# --------------------------------------------------------------------------------------------
# Layout


class SectionHeader(LayoutObject):
    def __init__(self, text: str) -> None:
        self.text = text
        self.fields = []

    def render(
        self, form: forms.Form, context: Any, template_pack: str = "bootstrap5", **kwargs: Any
    ) -> SafeString:
        return format_html('<h2 class="h5 form-section-title">{}</h2>', self.text)


class DescriptiveText(LayoutObject):
    def __init__(self, f: SchemaField) -> None:
        self.field = f
        self.fields = []

    def render(
        self, form: forms.Form, context: Any, template_pack: str = "bootstrap5", **kwargs: Any
    ) -> SafeString:
        return format_html(
            '<div class="descriptive-text mb-3" id="row-{}" data-field="{}"><p id="field-{}">'
            "{}</p></div>",
            self.field.name,
            self.field.name,
            self.field.name,
            plain_label(self.field),
        )


class MatrixGroup(LayoutObject):
    """Radio or checkbox fields sharing one set of choices, shown as one compact table."""

    template = "web/fields/matrix.html"

    def __init__(self, name: str, fields: list[SchemaField]) -> None:
        self.name = name
        self.schema_fields = fields
        self.fields = [f.name for f in fields]

    def render(
        self, form: forms.Form, context: Any, template_pack: str = "bootstrap5", **kwargs: Any
    ) -> SafeString:
        head = self.schema_fields[0]
        rows = []
        for f in self.schema_fields:
            bound = form[f.name]
            exhausted = getattr(bound.field.widget, "exhausted", frozenset())
            chosen = bound.value()
            chosen_codes = {
                str(code)
                for code in (chosen if isinstance(chosen, list) else [chosen])
                if code not in (None, "")
            }
            rows.append(
                {
                    "field": f,
                    "bound": bound,
                    "label": plain_label(f),
                    "options": [
                        {
                            "code": code,
                            "label": label,
                            "index": index,
                            "checked": code in chosen_codes,
                            "exhausted": code in exhausted and code not in chosen_codes,
                        }
                        for index, (code, label) in enumerate(f.all_choices())
                    ],
                }
            )
        return render_to_string(
            self.template,
            {
                "name": self.name,
                "rows": rows,
                "choices": head.all_choices(),
                "input_type": "checkbox" if head.type == "checkbox" else "radio",
                "disabled": form.fields[head.name].disabled,
            },
        )


def _field_object(f: SchemaField) -> LayoutObject:
    if f.type == "descriptive":
        return DescriptiveText(f)
    if f.type in ("radio", "yesno", "truefalse", "checkbox"):
        inline = f.type in _INLINE_TYPES or f.alignment in ("LH", "RH")
        item = Field(
            f.name, template="web/fields/choices.html", wrapper_class="inline" if inline else None
        )
        return Div(item, css_id=f"row-{f.name}", css_class="entry-field", data_field=f.name)
    template = (
        "web/fields/calc.html"
        if f.is_computed
        else {"slider": "web/fields/slider.html"}.get(f.type)
    )
    item = Field(f.name, template=template) if template else Field(f.name)
    return Div(item, css_id=f"row-{f.name}", css_class="entry-field", data_field=f.name)


def _blocks(fields: list[SchemaField]) -> Iterator[LayoutObject]:
    """Fields in order, consecutive members of one matrix group gathered into a table."""
    index = 0
    while index < len(fields):
        f = fields[index]
        group = f.matrix_group
        if group and len(f.all_choices()) <= MATRIX_MAX_CHOICES:
            members = [f]
            while (
                index + len(members) < len(fields)
                and fields[index + len(members)].matrix_group == group
            ):
                members.append(fields[index + len(members)])
            yield MatrixGroup(group, members)
            index += len(members)
            continue
        yield _field_object(f)
        index += 1


def hidden_by_logic(
    schema: FormSchema,
    answers: Mapping[str, Any],
    today: dt.date,
    other_forms: Mapping[str, Any] | None = None,
) -> frozenset[str]:
    """The fields whose show_if hides them given the page's answers, as the server decides
    it when saving (the page's script then keeps it current as answers change)."""
    return validate_submission(
        schema, answers, today=today, require_answers=False, other_forms=other_forms
    ).hidden


def entry_helper(
    schema: FormSchema,
    saved: Mapping[str, Any] | None = None,
    hidden: frozenset[str] = frozenset(),
) -> FormHelper:
    """The crispy-forms layout: one block per section, each headed by its title. A section
    whose questions are all ``hidden`` by the logic is hidden with its header, so that a page
    read before its script runs (or without it) shows no empty sections."""
    # @HIDDEN fields are not on the page; their saved values are kept by posted_data.
    tags = page_tags(schema, saved)
    visible = [
        f
        for f in schema.fields
        if (f.stores_data or f.type == "descriptive") and not tags[f.name].hidden
    ]
    sections: list[tuple[str, list[SchemaField]]] = []
    for f in visible:
        if f.section or not sections:
            sections.append((f.section, []))
        sections[-1][1].append(f)
    layout = Layout()
    for title, members in sections:
        parts: list[LayoutObject] = [SectionHeader(title)] if title else []
        parts.extend(_blocks(members))
        shut = {"hidden": True} if all(f.name in hidden for f in members) else {}
        layout.append(Div(*parts, css_class="form-section", **shut))
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    helper.layout = layout
    return helper


# --------------------------------------------------------------------------------------------
# Live logic


def logic_config(
    schema: FormSchema, today: dt.date, other_forms: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """What data_entry.js needs: each field's show_if and calc as JSON logic trees, and the
    order the server evaluates them in, so the page hides, shows and computes as it will.
    ``other_forms`` are the stored values of other forms' fields the logic reads: constants
    on this page, as they are to the server when it saves."""
    fields: dict[str, Any] = {}
    for f in schema.fields:
        if not f.stores_data and f.type != "descriptive":
            continue
        computed = f.calc_logic if f.calc_logic is not None else f.calctext_logic
        fields[f.name] = {
            # A @CALCTEXT field is computed on the page as a calc is, and shown as text.
            "type": "calc" if f.is_computed else f.type,
            "label": plain_label(f),
            "numeric": bool(
                f.validation_info and f.validation_info.family in ("integer", "number")
            ),
            "show_if": logic.to_json(f.show_if_logic) if f.show_if_logic is not None else None,
            "calc": logic.to_json(computed) if computed is not None else None,
            "text": f.calctext_logic is not None,
        }
        if f.tags.conditionals:
            fields[f.name]["tags"] = _tags_json(f.tags)
    return {
        "order": [f.name for f in schema.evaluation_order if f.name in fields],
        "fields": fields,
        "missingCodes": [code.code for code in schema.missing_codes],
        "today": today.isoformat(),
        "otherForms": {
            name: value
            for name, value in (other_forms or {}).items()
            if name in schema.external_fields and value is not None
        },
    }


_LIVE_TAGS = ("charlimit", "wordlimit", "maxchecked")


def _tags_json(tags: ActionTags) -> dict[str, Any]:
    """The limit tags of a field and its @IFs, for RegistryLogic.resolveTags on the page."""
    out: dict[str, Any] = {
        key: getattr(tags, key) for key in _LIVE_TAGS if getattr(tags, key) is not None
    }
    if tags.conditionals:
        out["if"] = [
            {
                "when": logic.to_json(c.logic),
                "then": _tags_json(c.then),
                "else": _tags_json(c.otherwise),
            }
            for c in tags.conditionals
        ]
    return out
