from registry.formengine.display import display_value
from registry.formengine.schema import load_schema

SCHEMA = load_schema(
    {
        "form": "visit",
        "version": 1,
        "title": "Visit",
        "fields": [
            {
                "name": "grade",
                "type": "radio",
                "label": "Grade",
                "choices": [{"code": "3", "label": "Grade 3"}],
            },
            {
                "name": "regions",
                "type": "checkbox",
                "label": "Regions",
                "choices": [
                    {"code": "distal", "label": "Distal"},
                    {"code": "proximal", "label": "Proximal"},
                ],
            },
            {"name": "present", "type": "yesno", "label": "Present"},
            {"name": "weight", "type": "text", "label": "Weight", "validation": "number"},
            {"name": "phenotype", "type": "text", "label": "Phenotype", "ontology": "HP"},
        ],
    }
)


def test_codes_read_as_their_labels():
    assert display_value(SCHEMA.field("grade"), "3") == "Grade 3"
    assert display_value(SCHEMA.field("present"), "0") == "No"


def test_checkbox_lists_read_as_labels_in_order():
    assert display_value(SCHEMA.field("regions"), ["distal", "proximal"]) == "Distal; Proximal"


def test_numbers_read_without_a_spurious_decimal():
    assert display_value(SCHEMA.field("weight"), 12.0) == "12"
    assert display_value(SCHEMA.field("weight"), 12.5) == "12.5"


def test_blanks_read_as_nothing():
    assert display_value(SCHEMA.field("grade"), None) == ""
    assert display_value(SCHEMA.field("regions"), []) == ""


def test_an_hpo_code_reads_with_its_terms_name():
    assert display_value(SCHEMA.field("phenotype"), "HP:0001250") == "HP:0001250 (Seizure)"
    assert display_value(SCHEMA.field("phenotype"), "HP:9999999") == "HP:9999999"
