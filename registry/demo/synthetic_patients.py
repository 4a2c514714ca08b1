"""Synthetic patients in plain Python: deterministic for a seed, no database.

Each patient's forms are filled by `clinical_values.py`; a known share of patients
(`error_share`) carries exactly one deliberate mistake of `planted_mistakes.py`.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

from django.utils import timezone

from .clinical_values import new_patient
from .planted_mistakes import PLANTED_RULES, near_duplicate, plant
from .synthetic_records import SyntheticPatient

DEFAULT_ERROR_SHARE = 0.1


def iter_patients(
    count: int,
    site_codes: Sequence[str],
    *,
    seed: int = 0,
    error_share: float = DEFAULT_ERROR_SHARE,
    reference_year: int | None = None,
    first_index: int = 0,
) -> Iterator[SyntheticPatient]:
    """`count` synthetic patients spread over `site_codes`; the same seed gives the same data.

    Patient `i` has the local ID `SYN-<seed>-<i>`, so a larger run with the same seed starts
    with the same patients as a smaller one. About `error_share` of the patients carry one
    deliberate mistake each (see `PlantedError`).
    """
    if not site_codes:
        raise ValueError("Synthetic patients need at least one site.")
    rng = random.Random(seed)
    year = reference_year or timezone.now().year
    previous: SyntheticPatient | None = None
    for index in range(first_index, first_index + count):
        local_id = f"SYN-{seed}-{index:07d}"
        site_code = site_codes[rng.randrange(len(site_codes))]
        kinds: list[str] = []
        if rng.random() < error_share:
            kinds = list(PLANTED_RULES)
            rng.shuffle(kinds)
        patient = None
        # The first kind of mistake this patient's story allows is the one planted.
        for kind in kinds:
            if kind == "near_duplicate_patient":
                if patient is None:
                    patient = near_duplicate(rng, previous, local_id, site_codes)
                    if patient is not None:
                        break
                continue
            if patient is None:
                patient = new_patient(rng, local_id, site_code, year)
            if plant(rng, patient, kind):
                break
        if patient is None:
            patient = new_patient(rng, local_id, site_code, year)
        previous = patient if not patient.planted else None
        yield patient
