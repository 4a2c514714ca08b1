"""Screening of free text for likely direct identifiers.

The registry must never hold names, hospital numbers, contact details or calendar dates. Coded
fields cannot carry them, but free text (notes, unvalidated text) can, so every free-text value
is screened on the way in and a hit blocks the save with a message that says what to remove.

The screen is deliberately a set of plain regular expressions: it is fast, predictable and
explainable to the person who typed the text. It leans towards false alarms on things that look
like identifiers (a six-digit count, a month and a year) because the cure is cheap (rephrase) and
the harm of a leak is not. Clinical shorthand (spinal levels such as C1-C2, ontology codes such as
HP:0001335, HGVS variants, ages, grades, scores) is recognised and left alone.

Messages never repeat the matched text: error messages end up in logs and screenshots.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

__all__ = ["PHI_CATEGORIES", "screen_free_text"]

_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DAY = r"(?:[012]?\d|3[01])(?:st|nd|rd|th)?"

# Order matters: a span matched by an earlier rule is blanked out before the later rules run,
# so "john@x.org" is reported once as an e-mail address and not again as a web address, and
# "2019-03-12" once as a date and not as a phone number.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_URL = re.compile(
    r"(?:\b(?:https?|ftp)://|\bwww\.)\S+"
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|edu|gov|info|io|biz|ir|uk|de|fr|it|es|nl"
    r"|ca|au|in|ch|se|be|at|tr|ru|cn|jp|br)\b(?:/\S*)?",
    re.IGNORECASE,
)
_NUMERIC_DATE = re.compile(
    # Day-month-year or month-day-year with a four-digit year, any separator.
    r"\b(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4})\b"
    # Two-digit years only with / or . (with - they read as ranges: 10-12-14 months).
    r"|\b(?P<a2>\d{1,2})(?P<sep2>[/.])(?P<b2>\d{1,2})(?P=sep2)(?P<y2>\d{2})\b(?![/.]\d)"
    # Year first (ISO and its relatives).
    r"|\b(?P<y3>(?:19|20)\d{2})(?P<sep3>[/.-])(?P<a3>\d{1,2})(?P=sep3)(?P<b3>\d{1,2})\b"
)
_TEXT_DATE = re.compile(
    rf"\b{_DAY}\s+(?:of\s+)?{_MONTHS}\.?,?\s+(?:19|20)?\d{{2}}\b"
    rf"|\b{_MONTHS}\.?\s+{_DAY},?\s+(?:19|20)\d{{2}}\b"
    rf"|\b{_MONTHS}\.?,?\s+(?:19|20)\d{{2}}\b",
    re.IGNORECASE,
)
# A day and a month without a year: only with the month capitalised, so that "at 3 may be"
# and "2 mar" in shorthand do not trip it.
_DAY_MONTH = re.compile(
    rf"\b{_DAY}\s+(?:of\s+)?(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?"
    r"|July?|Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\b(?!\s*\d)"
)
_TITLE_NAME = re.compile(
    # Case-sensitive on purpose: "MS lesions" and "dr" in shorthand are not titles.
    r"\b(?:Dr|Mr|Mrs|Ms|Mx|Miss|Prof|Sir|Dame|Doctor|Professor|Mister|Madam)\.?\s+"
    r"[A-Z][a-zA-Z'\u2019-]+"
)
_NAME_LABEL = re.compile(r"\b(?:name|surname|first name|last name)\s*[:=]\s*\S", re.IGNORECASE)
_POSTAL = re.compile(
    # UK postcodes, Canadian postal codes, US ZIP+4: shapes that clinical text does not take.
    r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[ABD-HJLNP-UW-Z]{2}\b"
    r"|\b[A-Z]\d[A-Z]\s?\d[A-Z]\d\b"
    r"|\b\d{5}-\d{4}\b"
    r"|\b(?:zip|post(?:al)?)\s*(?:code)?\s*(?:no\.?|number)?\s*[:#]?\s*[A-Z0-9][A-Z0-9 -]{2,9}\d",
    re.IGNORECASE,
)
_POSTAL_STRICT = re.compile(
    r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[ABD-HJLNP-UW-Z]{2}\b|\b[A-Z]\d[A-Z]\s?\d[A-Z]\d\b"
)
_SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")
# Digit groups joined by single spaces, hyphens or parentheses, with an optional leading +.
_PHONE = re.compile(
    r"(?<![\w.,])\+?\(?\d+\)?(?:[ -]\(?\d+\)?)+(?![\w]|[.,]\d)|\b\d{3}\.\d{3}\.\d{4}\b"
)
_DIGIT_RUN = re.compile(r"\d{6,}")
# Codes that legitimately carry long digit runs: CURIEs (HP:0001335, ORPHA:238722,
# OMIM:157600), reference sequences (NM_005215.4), dbSNP ids, HGVS positions (c.1234567G>A),
# and decimals.
_CODE_CONTEXT = re.compile(
    r"\b[A-Za-z][A-Za-z0-9_.]*:\s?\d+"
    r"|\b(?:N[CGMRPTW]|X[MRP]|ENS[A-Z]*|LRG|rs)_?\d+(?:\.\d+)?"
    r"|\b[cgmnopr]\.[-*]?\d+"
    r"|\d\.\d+"
)


def _scoped(pattern: re.Pattern[str]) -> str:
    return f"(?i:{pattern.pattern})" if pattern.flags & re.IGNORECASE else f"(?:{pattern.pattern})"


# One pass that every identifier shape matches: most clinical text matches none of them, and
# is cleared by this single scan instead of a dozen.
_ANY_SHAPE = re.compile(
    "|".join(
        _scoped(pattern)
        for pattern in (
            _EMAIL,
            _URL,
            _NUMERIC_DATE,
            _TEXT_DATE,
            _DAY_MONTH,
            _TITLE_NAME,
            _NAME_LABEL,
            _POSTAL,
            _SSN,
            _PHONE,
            _DIGIT_RUN,
        )
    )
)


class _Rule(NamedTuple):
    category: str
    message: str
    finder: Callable[[str], list[tuple[int, int]]]


def _spans(pattern: re.Pattern[str]) -> Callable[[str], list[tuple[int, int]]]:
    def find(text: str) -> list[tuple[int, int]]:
        return [match.span() for match in pattern.finditer(text)]

    return find


def _numeric_dates(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in _NUMERIC_DATE.finditer(text):
        groups = match.groupdict()
        first = groups["a"] or groups["a2"] or groups["a3"]
        second = groups["b"] or groups["b2"] or groups["b3"]
        a, b = int(first), int(second)
        if groups["y3"]:
            plausible = 1 <= a <= 12 and 1 <= b <= 31
        else:
            plausible = 1 <= a <= 31 and 1 <= b <= 31 and min(a, b) <= 12
        if plausible:
            spans.append(match.span())
    return spans


def _postal_codes(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in _POSTAL.finditer(text):
        found = match.group(0)
        # The UK and Canadian shapes must be written in capitals to count: "c5 6th" is not one.
        shaped = found[:1].isalpha() and found[:3].lower() not in {"zip", "pos"}
        if shaped and not _POSTAL_STRICT.fullmatch(found):
            continue
        spans.append(match.span())
    return spans


def _phones(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in _PHONE.finditer(text):
        groups = re.findall(r"\d+", match.group(0))
        digits = sum(len(group) for group in groups)
        if digits < 7 or max(len(group) for group in groups) < 3:
            # Lists of small numbers ("grades 1 2 3 4 2 1 0") are not phone numbers.
            continue
        if len(groups) > 1 and _looks_like_thousands(groups):
            continue
        spans.append(match.span())
    return spans


def _looks_like_thousands(groups: list[str]) -> bool:
    return 1 <= len(groups[0]) <= 3 and all(len(group) == 3 for group in groups[1:])


def _digit_runs(text: str) -> list[tuple[int, int]]:
    protected = [match.span() for match in _CODE_CONTEXT.finditer(text)]
    spans = []
    for match in _DIGIT_RUN.finditer(text):
        start, end = match.span()
        if any(p_start <= start and end <= p_end for p_start, p_end in protected):
            continue
        spans.append((start, end))
    return spans


_RULES: tuple[_Rule, ...] = (
    _Rule("email", "an e-mail address", _spans(_EMAIL)),
    _Rule("url", "a web address", _spans(_URL)),
    _Rule("date", "a calendar date (record the patient's age instead)", _numeric_dates),
    _Rule("date", "a calendar date (record the patient's age instead)", _spans(_TEXT_DATE)),
    _Rule("date", "a calendar date (record the patient's age instead)", _spans(_DAY_MONTH)),
    _Rule("name", "a title followed by a name", _spans(_TITLE_NAME)),
    _Rule("name", "a name", _spans(_NAME_LABEL)),
    _Rule("id_number", "an identification number", _spans(_SSN)),
    _Rule("postal_code", "a postal code", _postal_codes),
    _Rule("phone", "a phone number", _phones),
    _Rule("id_number", "a long number such as a hospital or record number", _digit_runs),
)

PHI_CATEGORIES: tuple[str, ...] = tuple(dict.fromkeys(rule.category for rule in _RULES))
"""The kinds of identifier the screen looks for, in the order messages are given."""


def screen_free_text(text: str) -> list[str]:
    """Return one message per kind of likely direct identifier found in ``text``.

    An empty list means the text may be stored. Each message is a phrase to follow
    "contains what looks like" and names the kind of identifier, never the text itself.
    """
    if not text:
        return []
    short = len(text) <= _REMEMBERED_LENGTH
    if short and text in _clean_texts:
        return []
    found = _screen(text)
    if short and not found:
        if len(_clean_texts) >= _REMEMBERED_TEXTS:
            _clean_texts.clear()
        _clean_texts.add(text)
    return found


# Short notes ("normal", "not done", a stock phrase of a report) recur across thousands of
# submissions, and the scan costs tens of microseconds whatever the answer, so short texts
# found clean are remembered (a bounded set, emptied when full). Texts with a hit are not kept:
# the process should not hold on to what looked like an identifier.
_REMEMBERED_LENGTH = 200
_REMEMBERED_TEXTS = 4096
_clean_texts: set[str] = set()


def _screen(text: str) -> list[str]:
    if _ANY_SHAPE.search(text) is None:
        return []
    found: dict[str, str] = {}
    remaining = text
    for rule in _RULES:
        spans = rule.finder(remaining)
        if not spans:
            continue
        found.setdefault(rule.category, rule.message)
        remaining = _blank_out(remaining, spans)
    return [found[category] for category in PHI_CATEGORIES if category in found]


def _blank_out(text: str, spans: list[tuple[int, int]]) -> str:
    pieces = []
    position = 0
    for start, end in spans:
        pieces.append(text[position:start])
        pieces.append(" " * (end - start))
        position = end
    pieces.append(text[position:])
    return "".join(pieces)
