"""A synthetic patient as plain data: what the generator builds, the planted mistakes change
and the writer saves. Nothing here touches the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PlantedError:
    """One deliberate mistake: the rule that must find it, and where it is."""

    rule: str
    form: str
    instance: int
    field: str = ""


@dataclass
class SyntheticSubmission:
    form: str
    version: int
    instance: int
    status: str
    data: dict[str, Any]


@dataclass
class SyntheticPatient:
    local_id: str
    site_code: str
    sex: str
    year_of_birth: int
    age_months: int = 0
    """The patient's age today: no event of the story is later."""
    submissions: list[SyntheticSubmission] = field(default_factory=list)
    planted: list[PlantedError] = field(default_factory=list)


def submissions_of(patient: SyntheticPatient, form: str) -> list[SyntheticSubmission]:
    return [s for s in patient.submissions if s.form == form]
