"""Two synthetic forms where the second's logic reads the first: an intake form (not
repeating) and a repeating visit whose branching and calculation read the intake's answers."""

from __future__ import annotations

from registry.crfs.models import FormVersion
from registry.crfs.selectors import schema_of
from registry.crfs.services import do_publish_form_version
from registry.formengine.schema import load_schema

INTAKE = {
    "form": "intake",
    "version": 1,
    "title": "Intake",
    "fields": [
        {
            "name": "weight_kg",
            "type": "text",
            "label": "Weight (kg)",
            "validation": "integer",
            "min": 1,
            "max": 200,
        },
        {"name": "smoker", "type": "yesno", "label": "Smokes"},
    ],
}
VISIT = {
    "form": "visit",
    "version": 1,
    "title": "Visit",
    "repeatable": True,
    "fields": [
        {
            "name": "visit_age_months",
            "type": "text",
            "label": "Age at visit (months)",
            "validation": "integer",
            "min": 0,
            "max": 1200,
        },
        {
            "name": "cigs_day",
            "type": "text",
            "label": "Cigarettes a day",
            "validation": "integer",
            "min": 0,
            "max": 100,
            "show_if": "[smoker] = '1'",
        },
        {"name": "dose_mg", "type": "calc", "label": "Dose (mg)", "calc": "[weight_kg] * 2"},
    ],
}


def publish_intake_and_visit() -> tuple[FormVersion, FormVersion]:
    intake = do_publish_form_version(None, load_schema(INTAKE))
    visit = do_publish_form_version(None, load_schema(VISIT, others=[schema_of(intake)]))
    return intake, visit
