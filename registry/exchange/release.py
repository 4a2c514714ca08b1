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
"""

from __future__ import annotations

from collections.abc import Iterable

from registry.formengine.schema import Field
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
