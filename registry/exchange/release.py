"""What each role may receive of submitted data: the de-identification rule of every export.

Researchers get de-identified data only. A field is withheld from them when, in any version of
its form, it was

- free text that the identifier screen did not check: `notes`, or `text` without a validation,
  whose schema says `phi_screen: false` (a pattern does not count: the registry cannot vouch
  that a pattern keeps names and numbers out);
- a `file` (a scan or photograph may show a face or a name);
- an identifier field (never stored anyway) or descriptive text (holds no data).

"Any version" matters: a field screened from version 2 on still holds unscreened text from
version 1. Coordinators, curators and administrators receive every field that holds data.
docs/api.md states this rule for script writers.

Researchers never see the registry's pseudonyms either. Each release to a researcher has its
own pseudonyms: an HMAC of the registry pseudonym under a key derived from
REGISTRY_PSEUDONYM_KEY, the researcher and the release's id (never stored), so two releases
cannot be linked without the registry's key. What a release is: one streamed export, one
export job, or one API token for the REDCap API (so that a script's pages line up). The audit
event of each export records the release id, from which the registry, and only it, maps the
release's pseudonyms back (`registry_pseudonyms`). docs/exports.md describes it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.conf import settings

from registry.formengine.schema import Field
from registry.patients.models import Patient
from registry.people.models import Role, User


def is_deidentified_reader(user: User) -> bool:
    """Whether `user` receives de-identified data only."""
    return user.role == Role.RESEARCHER


def holds_data(definitions: Iterable[Field]) -> bool:
    return all(field.stores_data for field in definitions)


def releasable_to_researchers(definitions: Iterable[Field]) -> bool:
    """Whether a field (given by its definitions in every version) may reach a researcher."""
    for field in definitions:
        if not field.stores_data or field.type == "file":
            return False
        if field.is_free_text and not field.phi_screen:
            return False
    return True


def may_receive(user: User, definitions: Iterable[Field]) -> bool:
    """Whether `user` may receive the values of the field defined by `definitions`."""
    definitions = tuple(definitions)
    if is_deidentified_reader(user):
        return releasable_to_researchers(definitions)
    return holds_data(definitions)


# --------------------------------------------------------------------------------------------
# Pseudonyms of a release


# Crockford's base 32, as the registry's own pseudonyms (patients/pseudonym.py), two
# characters (10 bits) at a time.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PAIRS = tuple(first + second for first in _ALPHABET for second in _ALPHABET)
_BLOCK = 64  # SHA-256's block size, for HMAC's pads


@dataclass(frozen=True)
class Release:
    """One release of records to one researcher, with pseudonyms of its own."""

    user_id: int
    release_id: str

    @cached_property
    def _key(self) -> bytes:
        return hmac.new(
            settings.REGISTRY_PSEUDONYM_KEY.encode(),
            f"research-release\x00{self.user_id}\x00{self.release_id}".encode(),
            hashlib.sha256,
        ).digest()

    @cached_property
    def _pads(self) -> tuple[Any, Any]:
        # HMAC as RFC 2104 writes it, with the hashes of the two padded keys computed once:
        # every pseudonym then costs two short hashes instead of OpenSSL's whole HMAC set-up,
        # a third of the time (the test suite checks the result against hmac.digest).
        key = self._key.ljust(_BLOCK, b"\x00")
        return (
            hashlib.sha256(bytes(byte ^ 0x36 for byte in key)),
            hashlib.sha256(bytes(byte ^ 0x5C for byte in key)),
        )

    def pseudonym(self, registry_pseudonym: str) -> str:
        """The release's pseudonym of a patient: `R-` and 12 characters (60 bits)."""
        return self.pseudonyms([registry_pseudonym])[0]

    def pseudonyms(self, registry_pseudonyms: Iterable[str]) -> list[str]:
        """The release's pseudonyms of many patients, in their order."""
        inner_pad, outer_pad = self._pads
        inner_copy, outer_copy = inner_pad.copy, outer_pad.copy
        pairs = _PAIRS
        found = []
        for pseudonym in registry_pseudonyms:
            inner = inner_copy()
            inner.update(pseudonym.encode())
            outer = outer_copy()
            outer.update(inner.digest())
            number = int.from_bytes(outer.digest()[:8], "big") >> 4
            found.append(
                f"R-{pairs[number >> 50]}{pairs[(number >> 40) & 1023]}-"
                f"{pairs[(number >> 30) & 1023]}{pairs[(number >> 20) & 1023]}-"
                f"{pairs[(number >> 10) & 1023]}{pairs[number & 1023]}"
            )
        return found


def new_release_id() -> str:
    return f"r-{secrets.token_hex(8)}"


def job_release_id(run_pk: int) -> str:
    return f"job-{run_pk}"


def token_release_id(token_hash: str) -> str:
    """The release of the REDCap API calls made with one token (by the token's stored hash)."""
    return f"token-{token_hash[:16]}"


def release_for(user: User, release_id: str | None = None) -> Release | None:
    """The release an export to `user` belongs to (a new one unless given); None for people
    who receive the registry's pseudonyms."""
    if not is_deidentified_reader(user):
        return None
    return Release(user.pk, release_id or new_release_id())


def registry_pseudonyms(
    release: Release,
    research_pseudonyms: Collection[str] | None = None,
    patients: Iterable[str] | None = None,
) -> dict[str, str]:
    """Release pseudonym -> registry pseudonym, for the given release pseudonyms (all when
    None). Only the registry can compute this: it holds the key."""
    if patients is None:
        patients = Patient.objects.values_list("pseudonym", flat=True).iterator()
    wanted = set(research_pseudonyms) if research_pseudonyms is not None else None
    theirs = list(patients)
    found = {}
    for ours, pseudonym in zip(release.pseudonyms(theirs), theirs, strict=True):
        if wanted is None or ours in wanted:
            found[ours] = pseudonym
    return found
