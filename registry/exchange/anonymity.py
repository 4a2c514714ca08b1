"""k-anonymity of a researcher's release on its quasi-identifiers.

The quasi-identifiers are the patient's sex, year of birth and site, and the type and level
of each dysraphic lesion (forms/dysraphic_lesion: all of a patient's lesions, as a set, so a
patient with a rare second lesion counts as rare). Patients whose combination is shared by
fewer than k others (k = STATS_SUPPRESSION_THRESHOLD) are generalised one step at a time,
only as far as they need:

1. the year of birth becomes its 5-year band ("2015-2019");
2. the site becomes "other" (sites have no region to fall back on);
3. the patient is left out of the release.

Each step moves whole classes (every patient of a class below k), so a class that had k never
loses members. The release's manifest says how many patients each step touched; it travels
with the release (docs/exports.md says where).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from django.conf import settings
from django.db.models.fields.json import KT

from registry.people.models import User
from registry.submissions.selectors import visible_submissions

from .layout import RegistryLayout
from .release import Release

LESION_FORM: Final = "dysraphic_lesion"
LESION_FIELDS: Final = ("lesion_type", "lesion_level")
QUASI_IDENTIFIERS: Final = ("sex", "year_of_birth", "site", "lesion_type", "lesion_level")
OTHER_SITE: Final = "OTHER"
OTHER_SITE_NAME: Final = "Other"
BAND_YEARS: Final = 5
# Rows fetched per round trip when reading every patient of a release.
FETCH_CHUNK: Final = 20_000


def threshold() -> int:
    return max(1, int(settings.STATS_SUPPRESSION_THRESHOLD))


def year_band(year: int) -> str:
    start = year - year % BAND_YEARS
    return f"{start}-{start + BAND_YEARS - 1}"


class Released(NamedTuple):
    """What a release says of one patient's record fields (a tuple: one is made per patient
    of every release, and a tuple is made several times faster than a dataclass)."""

    pseudonym: str
    site_code: str
    site_name: str
    sex: str
    year_of_birth: int | str


@dataclass
class Manifest:
    release: str
    k: int
    patients: int = 0
    year_of_birth_banded: int = 0
    site_generalised: int = 0
    suppressed: int = 0
    quasi_identifiers: tuple[str, ...] = QUASI_IDENTIFIERS

    def as_json(self) -> dict[str, Any]:
        return {
            "release": self.release,
            "k": self.k,
            "quasi_identifiers": list(self.quasi_identifiers),
            "patients_considered": self.patients,
            "patients_released": self.patients - self.suppressed,
            "year_of_birth_banded": self.year_of_birth_banded,
            "site_generalised": self.site_generalised,
            "suppressed": self.suppressed,
        }


def lesions_by_patient(
    user: User, layout: RegistryLayout
) -> dict[int, tuple[tuple[str, str], ...]]:
    """Patient pk -> its lesions' (type, level), sorted, under the harmonised names."""
    form = layout.by_name.get(LESION_FORM)
    if form is None:
        return {}
    names: dict[int, tuple[str | None, ...]] = {}
    for pk, version in form.versions.items():
        names[pk] = tuple(
            layout.fields[name].names.get(version.number) if name in layout.fields else None
            for name in LESION_FIELDS
        )
    found = _LesionSets()
    submissions = (
        visible_submissions(user).filter(form_version_id__in=list(form.versions)).order_by()
    )
    distinct = set(names.values())
    if len(distinct) == 1 and None not in next(iter(distinct)):
        # The usual case, one name per field: the database reads the two answers, so that
        # no document is decoded here.
        kind_name, level_name = next(iter(distinct))
        pairs = submissions.values_list(
            "patient_id", KT(f"data__{kind_name}"), KT(f"data__{level_name}")
        )
        # In large chunks: few round trips, and never every lesion row in memory at once.
        for patient_id, kind, level in pairs.iterator(chunk_size=FETCH_CHUNK):
            found.add(patient_id, kind or "", level or "")
    else:
        rows = submissions.values_list("patient_id", "form_version_id", "data")
        for patient_id, version_id, data in rows.iterator(chunk_size=2000):
            kind, level = (str(data.get(name, "")) if name else "" for name in names[version_id])
            found.add(patient_id, kind, level)
    return found.by_patient()


class _LesionSets:
    """Each patient's set of (type, level) pairs, gathered row by row.

    A release plans over every patient of the registry at once, so what is kept per patient
    is kept small: most patients have one lesion, held as one pair; only a patient with two
    different ones gets a set. Equal pairs and equal sets are one shared object (a registry
    has a few dozen kinds of lesion, and hundreds of thousands of patients)."""

    def __init__(self) -> None:
        self._first: dict[int, tuple[str, str]] = {}
        self._more: dict[int, set[tuple[str, str]]] = {}
        self._shared: dict[Any, Any] = {}

    def add(self, patient: int, kind: str, level: str) -> None:
        pair = self._shared.setdefault((kind, level), (kind, level))
        first = self._first.setdefault(patient, pair)
        if first is not pair:
            self._more.setdefault(patient, {first}).add(pair)

    def by_patient(self) -> dict[int, tuple[tuple[str, str], ...]]:
        shared = self._shared
        lesions = {pk: shared.setdefault((pair,), (pair,)) for pk, pair in self._first.items()}
        for pk, pairs in self._more.items():
            ordered = tuple(sorted(pairs))
            lesions[pk] = shared.setdefault(ordered, ordered)
        return lesions


def plan_release(
    release: Release,
    patients: Iterable[tuple[Any, ...]],
    lesions: Mapping[int, tuple[tuple[str, str], ...]],
    k: int | None = None,
) -> tuple[dict[int, Released], Manifest]:
    """Patient pk -> what the release says of it (suppressed patients are absent), and the
    manifest. `patients` are tuples of the export selectors' PATIENT_COLUMNS."""
    k = threshold() if k is None else k
    manifest = Manifest(release=release.release_id, k=k)
    # Every patient of the selection is held until the plan is made, as (pseudonym, site code,
    # site name, sex, year of birth): the values many patients share are kept once, not once
    # per patient as the database sends them.
    shared: dict[Any, Any] = {}
    same = shared.setdefault
    people = {
        row[0]: (row[1], same(row[2], row[2]), same(row[3], row[3]), same(row[4], row[4]), row[5])
        for row in patients
    }
    manifest.patients = len(people)
    no_lesion: tuple[tuple[str, str], ...] = ()
    keys = {pk: (row[3], row[4], row[1], lesions.get(pk, no_lesion)) for pk, row in people.items()}
    step: dict[int, int] = {}
    # Only the patients of classes below k are looked at again, one step further each time:
    # every member of such a class moves, and a band never equals an exact year (nor "other"
    # a site), so the classes of k or more that stay behind keep all their members. When no
    # class is below k, no patient is looked at twice.
    classes = Counter(keys.values())
    pending = (
        [pk for pk, key in keys.items() if classes[key] < k]
        if min(classes.values(), default=k) < k
        else []
    )
    bands: dict[int, str] = {}
    for level in (1, 2, 3):
        if not pending:
            break
        for pk in pending:
            step[pk] = level
            sex, _, site, lesion = keys[pk]
            year = people[pk][4]
            band = bands.get(year) or bands.setdefault(year, year_band(year))
            keys[pk] = (sex, band, site if level < 2 else OTHER_SITE, lesion)
        if level == 3:
            break
        classes = Counter(keys[pk] for pk in pending)
        pending = [pk for pk in pending if classes[keys[pk]] < k]
    del keys, classes, pending
    kept = [pk for pk in people if step.get(pk, 0) < 3]
    manifest.suppressed = manifest.patients - len(kept)
    pseudonyms = release.pseudonyms([people[pk][0] for pk in kept])
    released = {}
    for pk, pseudonym in zip(kept, pseudonyms, strict=True):
        _, site_code, site_name, sex, year = people.pop(pk)
        level = step.get(pk, 0)
        if level == 0:
            released[pk] = Released(pseudonym, site_code, site_name, sex, year)
            continue
        manifest.year_of_birth_banded += 1
        manifest.site_generalised += int(level >= 2)
        released[pk] = Released(
            pseudonym,
            site_code if level < 2 else OTHER_SITE,
            site_name if level < 2 else OTHER_SITE_NAME,
            sex,
            bands[year],
        )
    return released, manifest
