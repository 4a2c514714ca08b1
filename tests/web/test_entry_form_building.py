"""The schema -> page translation: what is posted reaches the engine in its own shapes."""

import datetime
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from django.http import QueryDict

from registry.formengine.logic.compiler import compile_tree
from registry.formengine.logic.context import Context
from registry.formengine.schema import load_schema
from registry.web import data_entry
from tests.factories import assessment_schema


@pytest.fixture
def schema():
    raw = assessment_schema()
    raw["fields"] += [
        {
            "name": "regions",
            "type": "checkbox",
            "label": "Regions",
            "choices": [
                {"code": "distal", "label": "Distal"},
                {"code": "proximal", "label": "Proximal"},
            ],
        },
        {"name": "total", "type": "calc", "label": "Total", "calc": "[age_months] * 2"},
        {"name": "heading", "type": "descriptive", "label": "<i>Read this</i>"},
    ]
    return load_schema(raw)


def test_posted_data_keeps_checkbox_lists_and_leaves_out_calculations(schema):
    post = QueryDict(mutable=True)
    post.update(
        {
            "age_months": "12",
            "mm_present": "1",
            "total": "999",
            "_status": "complete",
            "_row_version": "3",
        }
    )
    post.setlist("regions", ["distal", "proximal"])
    assert data_entry.posted_data(schema, post) == {
        "age_months": "12",
        "mm_present": "1",
        "regions": ["distal", "proximal"],
    }


def test_an_unticked_checkbox_list_is_posted_as_empty(schema):
    assert data_entry.posted_data(schema, QueryDict("age_months=4"))["regions"] == []


def test_stored_data_is_shown_as_text(schema):
    initial = data_entry.initial_data(
        schema, {"age_months": 12, "total": 24.0, "regions": ["distal"]}
    )
    assert initial == {"age_months": "12", "total": "24", "regions": ["distal"]}


def test_form_wide_errors_are_shown_above_the_form(schema):
    form = data_entry.submission_form(schema, data=QueryDict("age_months=x"))
    form.attach_errors(
        {
            "age_months": ["Age must be a whole number."],
            "__all__": ["A submission must be a set of field names and values."],
        }
    )
    assert form.errors["age_months"] == ["Age must be a whole number."]
    assert form.non_field_errors() == ["A submission must be a set of field names and values."]


def test_read_only_forms_disable_every_input(schema):
    form = data_entry.submission_form(schema, read_only=True)
    assert all(field.disabled for field in form.fields.values())


def test_the_label_never_carries_html(schema):
    assert data_entry.plain_label(schema.field("heading")) == "Read this"


def test_the_live_logic_lists_fields_in_the_servers_order(schema):
    config = data_entry.logic_config(schema, datetime.date(2025, 1, 2))
    assert config["order"] == [f.name for f in schema.evaluation_order]
    assert config["fields"]["wt_grade"]["show_if"]["type"] == "binary"
    assert config["fields"]["total"]["calc"]["op"] == "*"
    assert config["today"] == "2025-01-02"


@pytest.fixture
def tagged():
    raw = assessment_schema()
    raw["fields"] += [
        {
            "name": "internal",
            "type": "text",
            "label": "Internal",
            "required": True,
            "annotation": "@HIDDEN @DEFAULT='n/a'",
        },
        {"name": "fixed", "type": "text", "label": "Fixed", "annotation": "@READONLY"},
        {
            "name": "short",
            "type": "notes",
            "label": "Short",
            "annotation": '@CHARLIMIT=40 @PLACEHOLDER="One line"',
        },
        {
            "name": "level",
            "type": "text",
            "label": "Level",
            "annotation": "@CALCTEXT(if([age_months] > 12, 'older', 'younger'))",
        },
    ]
    return load_schema(raw)


def test_action_tags_shape_the_page(tagged):
    form = data_entry.submission_form(tagged)
    short = form.fields["short"].widget.attrs
    assert short["maxlength"] == 40 and short["placeholder"] == "One line"
    assert form.fields["fixed"].widget.attrs["readonly"] is True
    assert form.fields["fixed"].disabled
    assert form.fields["level"].widget.attrs["readonly"] is True
    helper = data_entry.entry_helper(tagged)
    on_page = [pointer.name for pointer in helper.layout.get_field_names()]
    assert "internal" not in on_page and "fixed" in on_page
    config = data_entry.logic_config(tagged, datetime.date(2026, 1, 1))
    assert config["fields"]["level"]["type"] == "calc" and config["fields"]["level"]["text"]
    assert config["fields"]["level"]["calc"] is not None


def test_hidden_and_read_only_fields_keep_their_saved_values_whatever_is_posted(tagged):
    post = QueryDict("age_months=12&internal=typed&fixed=typed&level=typed")
    assert data_entry.posted_data(tagged, post, {"internal": "kept", "fixed": "kept"}) == {
        "age_months": "12",
        "internal": "kept",
        "fixed": "kept",
    }
    # A new form starts with the default; nothing typed reaches a hidden field.
    assert data_entry.posted_data(tagged, post, None)["internal"] == "n/a"
    assert data_entry.initial_data(tagged, {}, new=True) == {"internal": "n/a"}
    assert data_entry.initial_data(tagged, {}) == {}


@pytest.fixture
def conditional():
    raw = assessment_schema()
    raw["fields"] += [
        {
            "name": "kept",
            "type": "text",
            "label": "Kept",
            "annotation": "@IF([mm_present] = '1', @HIDDEN, @PLACEHOLDER='Say more')",
        },
        {
            "name": "locked",
            "type": "text",
            "label": "Locked",
            "annotation": "@IF([age_months] > 12, @READONLY, @DEFAULT='none')",
        },
        {
            "name": "brief",
            "type": "notes",
            "label": "Brief",
            "annotation": "@IF([mm_present] = '1', @CHARLIMIT=5, '')",
        },
    ]
    return load_schema(raw)


def test_if_is_decided_with_the_saved_answers_when_the_page_opens(conditional):
    saved = {"mm_present": "1", "age_months": 24}
    form = data_entry.submission_form(conditional, saved=saved)
    assert form.fields["locked"].disabled and form.fields["brief"].widget.attrs["maxlength"] == 5
    on_page = [p.name for p in data_entry.entry_helper(conditional, saved).layout.get_field_names()]
    assert "kept" not in on_page
    fresh = data_entry.submission_form(conditional)
    assert not fresh.fields["locked"].disabled
    assert fresh.fields["kept"].widget.attrs["placeholder"] == "Say more"
    assert fresh.fields["brief"].widget.attrs["maxlength"] == data_entry.MAX_NOTES_LENGTH
    on_page = [p.name for p in data_entry.entry_helper(conditional).layout.get_field_names()]
    assert "kept" in on_page
    assert data_entry.initial_data(conditional, {}, new=True) == {"locked": "none"}


def test_a_field_hidden_by_if_keeps_its_saved_value_whatever_is_posted(conditional):
    post = QueryDict("mm_present=1&kept=typed&locked=typed")
    saved = {"mm_present": "1", "age_months": 24, "kept": "old", "locked": "old"}
    posted = data_entry.posted_data(conditional, post, saved)
    assert posted["kept"] == "old" and posted["locked"] == "old"
    assert data_entry.posted_data(conditional, post, {})["kept"] == "typed"


def test_the_page_carries_if_limits_for_the_browser(conditional):
    config = data_entry.logic_config(conditional, datetime.date(2026, 1, 1))
    tags = config["fields"]["brief"]["tags"]
    assert tags["if"][0]["then"] == {"charlimit": 5} and tags["if"][0]["else"] == {}
    assert tags["if"][0]["when"]["type"] == "binary"
    assert "tags" not in config["fields"]["findings"]


NODE = shutil.which("node")
LOGIC_JS = Path(data_entry.__file__).resolve().parents[1] / "formengine" / "js" / "logic.js"


@pytest.mark.skipif(NODE is None, reason="node is not on PATH")
def test_the_browser_resolves_if_as_the_server_does():
    raw = assessment_schema()
    raw["fields"].append(
        {
            "name": "brief",
            "type": "notes",
            "label": "Brief",
            "annotation": "@CHARLIMIT=90 @IF([mm_present] = '1', @IF([age_months] > 12, "
            "@CHARLIMIT=5, @WORDLIMIT=2), @CHARLIMIT=40) @IF([age_months] = 7, "
            "@WORDLIMIT=9, '')",
        }
    )
    schema = load_schema(raw)
    f = schema.field("brief")
    records = [
        {},
        {"mm_present": "1"},
        {"mm_present": "1", "age_months": 24},
        {"mm_present": "0", "age_months": 7},
        {"mm_present": "1", "age_months": 7},
    ]
    tags = data_entry.logic_config(schema, datetime.date(2026, 1, 1))["fields"]["brief"]["tags"]
    script = (
        f"const L = require({json.dumps(str(LOGIC_JS))});"
        f"const tags = {json.dumps(tags)};"
        f"console.log(JSON.stringify({json.dumps(records)}.map("
        "r => L.resolveTags(tags, r, {today: '2026-01-01'}))));"
    )
    browser = json.loads(
        subprocess.run([NODE, "-e", script], capture_output=True, text=True, check=True).stdout
    )
    for record, seen in zip(records, browser, strict=True):
        context = Context(record, datetime.date(2026, 1, 1), (), None)
        server = f.tags.resolve(lambda c, ctx=context: bool(compile_tree(c.logic)(ctx)))
        assert seen == {
            key: getattr(server, key)
            for key in ("charlimit", "wordlimit", "maxchecked")
            if getattr(server, key) is not None
        }, record
    assert browser[2] == {"charlimit": 5} and browser[4]["wordlimit"] == 9
