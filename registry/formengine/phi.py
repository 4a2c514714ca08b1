# ruff: noqa: RUF001, RUF003
"""Screening of free text for likely direct identifiers.

The registry must never hold names, hospital numbers, contact details or calendar dates. Coded
fields cannot carry them, but free text (notes, unvalidated text) can, so every free-text value
is screened on the way in and a hit blocks the save with a message that says what to remove.

The screen is a set of regular expressions and a names list (phi_names.py): fast, predictable
and explainable to the person who typed the text. Persian and Arabic-Indic digits are read as
digits. Clinical shorthand (spinal levels such as C1-C2, ontology codes such as HP:0001335,
HGVS variants, genomic coordinates, ages, grades, scores, measurements) is recognised and left
alone. docs/privacy.md says what was measured and why a names list rather than a model.

Every pattern runs in linear time: each repetition is bounded, and patterns that could start
anywhere in a long run (e-mail addresses, web addresses, digit groups) may only start where
such a run starts, so a start position costs a bounded amount of work.

Speed (2 ms for 2,000 characters, 20 ms for 20,000): Python's `re` skips quickly over
positions where a pattern cannot start only when the pattern begins with a literal or a
character class, so patterns start with one (a lookbehind such as `(?<!\\d)` is written after
the first character instead of before it). A pattern made of alternatives runs only the
alternatives whose gate holds: a gate is a cheap test (a substring of the lower-cased text, or
a short pattern that starts with a literal) that every match of its alternative passes, so
leaving the others out changes no result, and most notes wake few of them. Where alternatives
start on different characters they are searched one by one, each from its rarest character
(clinical codes from their colon or full stop, case-insensitive keywords on the lower-cased
text), and merged as one pass over them would (`_Merged`). The matches are those of the
patterns as written: the speed-ups change no verdict.

Messages never repeat the matched text: error messages end up in logs and screenshots.
"""

from __future__ import annotations

import heapq
import ipaddress
import re
from collections.abc import Callable
from typing import NamedTuple

from registry.formengine import phi_names

__all__ = ["PHI_CATEGORIES", "screen_free_text"]

# Persian (U+06F0..) and Arabic-Indic (U+0660..) digits read as ASCII digits, Arabic letter
# forms as their Persian ones, dashes as hyphens: one character for one, so spans stay put.
_NORMALISE_FROM = "۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩يكة–—\u2212\u00a0٫٬"
_NORMALISE = str.maketrans(_NORMALISE_FROM, "01234567890123456789یکه--- .,")

_NORMALISED = re.compile(f"[{re.escape(_NORMALISE_FROM)}]")
_NORMALISE_PAIRS = tuple((chr(key), chr(value)) for key, value in _NORMALISE.items())


def _normalise(text: str) -> str:
    # str.translate goes through a dict per character (over a millisecond for 20,000
    # characters); one replace per character actually present is much cheaper.
    if text.isascii() or _NORMALISED.search(text) is None:
        return text
    for source, target in _NORMALISE_PAIRS:
        if source in text:
            text = text.replace(source, target)
    return text


# re.IGNORECASE matches "i" with U+0130 and U+0131 and "s" with U+017F, which str.lower()
# leaves alone (and U+0130 lower-cases to two characters); mapping them first makes the
# lower-cased text hold every keyword a case-insensitive pattern can match, at the same
# positions as the text.
_FOLD = str.maketrans("\u0130\u0131\u017f", "iis")
_FOLDED = re.compile("[\u0130\u0131\u017f]")


def _lower(text: str) -> str:
    if not text.isascii() and _FOLDED.search(text) is not None:
        text = text.translate(_FOLD)
    return text.lower()


class _Near:
    """Found where ``pattern`` is found within ``reach`` characters before ``anchor``: a test
    that starts from a rare anchor (a year) rather than from common letters (a month)."""

    # Built at import, as are the other screens' parts: `make mutation` cannot change what
    # ran before its tests (pyproject.toml, [tool.mutmut]).
    def __init__(self, anchor: str, pattern: str, reach: int) -> None:  # pragma: no mutate block
        self._anchor = re.compile(anchor)
        self._pattern = re.compile(pattern)
        self._reach = reach

    def search(self, text: str) -> bool:
        for anchor in self._anchor.finditer(text):
            if self._pattern.search(text, max(0, anchor.start() - self._reach), anchor.end()):
                return True
        return False


class _Gate(NamedTuple):
    """A test that every match of an alternative passes: one of ``words`` occurs in the text
    (lower-cased when ``lower``), and ``pattern`` (if any) is found in it."""

    words: tuple[str, ...] = ()
    pattern: re.Pattern[str] | _Near | None = None
    lower: bool = True

    def holds(self, text: str, lowered: str) -> bool:
        subject = lowered if self.lower else text
        if self.words and not any(word in subject for word in self.words):
            return False
        return self.pattern is None or bool(self.pattern.search(subject))


class _Alternatives:
    """A pattern ``a|b|...`` that runs only the alternatives whose gate holds on the text.

    An alternative that matches nowhere in the text takes no part in any match, so dropping
    it changes neither the matches nor their order. The patterns for each set of
    alternatives are compiled on first use and kept for the process.
    """

    def __init__(
        self, *alternatives: tuple[str, _Gate | None], flags: int = 0
    ) -> None:  # pragma: no mutate block
        self._alternatives = alternatives
        self._flags = flags
        self._compiled: dict[tuple[int, ...], re.Pattern[str]] = {}
        # The pattern with every alternative, for the linear-time and equivalence checks.
        self.pattern = re.compile("|".join(p for p, _ in alternatives), flags)

    def spans(self, text: str, lowered: str) -> list[tuple[int, int]]:
        key = tuple(
            index
            for index, (_, gate) in enumerate(self._alternatives)
            if gate is None or gate.holds(text, lowered)
        )
        if not key:
            return []
        pattern = self._compiled.get(key)
        if pattern is None:
            pattern = re.compile(
                "|".join(self._alternatives[index][0] for index in key), self._flags
            )
            self._compiled[key] = pattern
        return [match.span() for match in pattern.finditer(text)]


_Search = Callable[[str, str, int], "re.Match[str] | None"]


class _Merged:
    """Alternatives searched one by one and merged as one finditer over ``a|b|...`` would.

    That finditer takes, from where the last match ended, the leftmost position where some
    alternative matches, and there the first alternative in order; so does this, keeping each
    alternative's next match until the text has moved past it. Each alternative can then be
    searched in its own fast way (a pattern that starts with a literal, a search from the
    characters every match holds); those whose gate fails are not searched at all. Matches are
    never empty.
    """

    def __init__(
        self, *alternatives: tuple[_Search, _Gate | None], written: str, flags: int = 0
    ) -> None:  # pragma: no mutate block
        self._alternatives = alternatives
        # The alternatives as one pattern, as they would be written: what the search matches.
        self.pattern = re.compile(written, flags)

    def spans(self, text: str, lowered: str) -> list[tuple[int, int]]:
        searches = [
            search
            for search, gate in self._alternatives
            if gate is None or gate.holds(text, lowered)
        ]
        # Each alternative's next match, by where it starts and then by the alternative's rank.
        upcoming = []
        for index, search in enumerate(searches):
            found = search(text, lowered, 0)
            if found is not None:
                upcoming.append((found.start(), index, found))
        heapq.heapify(upcoming)
        spans = []
        position = 0
        while upcoming:
            start, index, found = upcoming[0]
            if start >= position:
                spans.append(found.span())
                position = found.end()
            # The first match taken, or one the text has moved past: search that alternative on.
            following = searches[index](text, lowered, position)
            if following is None:
                heapq.heappop(upcoming)
            else:
                heapq.heapreplace(upcoming, (following.start(), index, following))
        return spans


def _in_text(pattern: re.Pattern[str]) -> _Search:  # pragma: no mutate block
    return lambda text, lowered, position: pattern.search(text, position)


class _AfterBoundary:
    """Search ``\\b`` + ``pattern`` (which starts with a word character) as ``pattern`` alone,
    checking the boundary on each match: a pattern that starts with \\b is tried at every
    position, one that starts with a literal only where the literal is."""

    def __init__(
        self, pattern: re.Pattern[str], lower: bool = False
    ) -> None:  # pragma: no mutate block
        self._pattern = pattern
        self._lower = lower

    def __call__(self, text: str, lowered: str, position: int) -> re.Match[str] | None:
        subject = lowered if self._lower else text
        found = self._pattern.search(subject, position)
        while found is not None and found.start() and _is_word(subject[found.start() - 1]):
            found = self._pattern.search(subject, found.start() + 1)
        return found


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _gate(pattern: str = "", *words: str, lower: bool = True) -> _Gate:  # pragma: no mutate block
    return _Gate(words, re.compile(pattern) if pattern else None, lower)


_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_MONTHS_CAPITALISED = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
# Jalali months, and the Gregorian months as written in Persian.
_PERSIAN_MONTHS = (
    "(?:فروردین|اردیبهشت|خرداد|تیر|مرداد|شهریور|مهر|آبان|آذر|دی|بهمن|اسفند"
    "|ژانویه|فوریه|مارس|آوریل|ژوئن|ژوئیه|اوت|سپتامبر|اکتبر|نوامبر|دسامبر)"
)
_DAY = r"(?:[012]?\d|3[01])(?:st|nd|rd|th)?"
_WEEKDAYS = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"

_MONTH_WORDS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_PREFIX = "(?:" + "|".join(_MONTH_WORDS) + ")"

# Order matters: a span matched by an earlier rule is blanked out before the later rules run,
# so "john@x.org" is reported once as an e-mail address and not again as a web address, and
# "2019-03-12" once as a date and not as a phone number.
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
_TLDS = (
    "com",
    "org",
    "net",
    "edu",
    "gov",
    "info",
    "io",
    "biz",
    "ir",
    "uk",
    "de",
    "fr",
    "it",
    "es",
    "nl",
    "ca",
    "au",
    "in",
    "ch",
    "se",
    "be",
    "at",
    "tr",
    "ru",
    "cn",
    "jp",
    "br",
)
_URL = _Alternatives(
    (r"(?:\b(?:https?|ftp)://|\bwww\.)\S{1,2000}", _gate("", "://", "www.")),
    (
        r"(?<![\w.-])[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){0,8}\.(?:" + "|".join(_TLDS) + r")\b"
        r"(?:/\S{0,2000})?",
        _gate(r"\.(?:" + "|".join(_TLDS) + ")"),
    ),
    flags=re.IGNORECASE,
)
# (?<![\w.]) after the first digit rather than before it: see the module's docstring.
_IPV4 = re.compile(r"\d(?<![\w.]\d)\d{0,2}(?:\.\d{1,3}){3}(?![\w]|\.\w)")
_IPV4_GATE = re.compile(r"\.\d{1,3}\.\d{1,3}\.\d")
_IPV6 = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")
# Two colons with at most four hexadecimal digits between them: every IPv6 match has them.
_IPV6_GATE = re.compile(r":[0-9a-f]{0,4}:")
_NUMERIC_DATE = re.compile(
    # Day-month-year or month-day-year with a four-digit year, any separator.
    r"\b(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4})\b"
    # Two-digit years: with - only when no unit follows (10-12-14 months is a range).
    r"|\b(?P<a2>\d{1,2})(?P<sep2>[/.-])(?P<b2>\d{1,2})(?P=sep2)(?P<y2>\d{2})\b(?![/.-]\d)"
    r"(?!\s{0,3}(?:months?|mo|m|years?|yrs?|y|weeks?|wk|w|days?|d|h|hours?|mm|cm|%)\b)"
    # Year first (ISO and its relatives), Gregorian or Jalali (۱۴۰۲/۰۵/۱۲).
    r"|\b(?P<y3>(?:19|20|13|14)\d{2})(?P<sep3>[/.-])(?P<a3>\d{1,2})(?P=sep3)(?P<b3>\d{1,2})\b"
)
# A day number, starting with its digit: the same choices in the same order as
# \b(?:[012]?\d|3[01]), the first digit's value read back by lookbehinds.
_DAY_NUMBER = r"\d(?<!\w\d)(?:(?<=[012])\d?|(?<=3)[01]??|(?<![0-3]))"
_TEXT_DATE = _Merged(
    (
        _in_text(
            re.compile(
                rf"{_DAY_NUMBER}(?:st|nd|rd|th)?\s{{1,3}}(?:of\s{{1,3}})?{_MONTHS}\.?,?\s{{1,3}}"
                r"(?:19|20)?\d{2}\b",
                re.IGNORECASE,
            )
        ),
        _gate(rf"\d(?:st|nd|rd|th)?\s{{1,3}}(?:of\s{{1,3}})?{_MONTH_PREFIX}"),
    ),
    # The month-first and weekday alternatives are case-insensitive: they run case-sensitively
    # on the lower-cased text, so that they start with literals, their \b checked on each match.
    (
        _AfterBoundary(
            re.compile(
                rf"{_MONTHS}\.?\s{{1,3}}{_DAY},?\s{{1,3}}(?:19|20)\d{{2}}\b"
                rf"|{_MONTHS}\.?,?\s{{1,3}}(?:19|20)\d{{2}}\b"
            ),
            lower=True,
        ),
        # A year after a space, and a month at most 22 characters before it.
        _Gate(
            pattern=_Near(
                r"(?:19|20)\d\d\b(?<=\s\d{4})",
                rf"{_MONTH_PREFIX}[a-z]{{0,6}}\.?,?\s{{1,3}}"
                r"(?:\d{1,2}(?:st|nd|rd|th)?,?\s{1,3})?(?:19|20)\d\d",
                30,
            )
        ),
    ),
    (
        _AfterBoundary(re.compile(rf"(?:on|last|next|this)\s{{1,3}}{_WEEKDAYS}\b"), lower=True),
        _gate("", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
    ),
    (
        _AfterBoundary(
            re.compile(r"(?:on|since|from|until)\s{1,3}\d{1,2}/\d{1,2}\b(?!/|\.\d)"), lower=True
        ),
        _gate(r"/(?<=\d/)\d"),
    ),
    written=rf"\b{_DAY}\s{{1,3}}(?:of\s{{1,3}})?{_MONTHS}\.?,?\s{{1,3}}(?:19|20)?\d{{2}}\b"
    rf"|\b{_MONTHS}\.?\s{{1,3}}{_DAY},?\s{{1,3}}(?:19|20)\d{{2}}\b"
    rf"|\b{_MONTHS}\.?,?\s{{1,3}}(?:19|20)\d{{2}}\b"
    rf"|\b(?:on|last|next|this)\s{{1,3}}{_WEEKDAYS}\b"
    r"|\b(?:on|since|from|until)\s{1,3}\d{1,2}/\d{1,2}\b(?!/|\.\d)",
    flags=re.IGNORECASE,
)
# A day and a month without a year: only with the month capitalised, so that "at 3 may be"
# and "2 mar" in shorthand do not trip it.
_MONTH_PREFIX_CAPITALISED = "(?:" + "|".join(word.title() for word in _MONTH_WORDS) + ")"
_DAY_MONTH = _Alternatives(
    (
        rf"{_DAY_NUMBER}(?:st|nd|rd|th)?\s{{1,3}}(?:of\s{{1,3}})?{_MONTHS_CAPITALISED}\b(?!\s*\d)",
        _gate(
            rf"\d(?:st|nd|rd|th)?\s{{1,3}}(?:of\s{{1,3}})?{_MONTH_PREFIX_CAPITALISED}", lower=False
        ),
    ),
    (
        rf"\b{_MONTHS_CAPITALISED}\.?\s{{1,3}}(?:[012]?\d|3[01])(?:st|nd|rd|th)?\b(?![.,]?\d)",
        _gate(rf"{_MONTH_PREFIX_CAPITALISED}[a-z]{{0,6}}\.?\s{{1,3}}\d", lower=False),
    ),
)
_PERSIAN_DATE = _Alternatives(
    (
        rf"\d(?<!\d\d)\d?\s{{0,3}}{_PERSIAN_MONTHS}(?![\w\u200c])",
        _gate(rf"\d\s{{0,3}}{_PERSIAN_MONTHS}"),
    ),
    (
        rf"(?<![\w\u200c]){_PERSIAN_MONTHS}\s{{0,3}}(?:ماه\s{{0,3}})?(?:سال\s{{0,3}})?\d{{2,4}}\b",
        _gate(rf"{_PERSIAN_MONTHS}\s{{0,3}}(?:ماه\s{{0,3}})?(?:سال\s{{0,3}})?\d\d"),
    ),
)
_TITLE_NAME = _Alternatives(
    # Capitalised titles: "MS lesions" and "dr" in shorthand are not titles.
    (
        r"\b(?:Dr|Mr|Mrs|Ms|Mx|Miss|Prof|Sir|Dame|Doctor|Professor|Mister|Madam)\.?\s{1,3}"
        r"[A-Z][a-zA-Z'\u2019-]{0,40}",
        _gate(
            r"(?:Dr|Mrs?|Ms|Mx|Miss|Prof|Sir|Dame|Doctor|Professor|Mister|Madam)\.?\s{1,3}[A-Z]",
            lower=False,
        ),
    ),
    # Lower-case titles with a full stop ("dr. karimi"); "ms." is milliseconds too.
    (
        r"\b(?:dr|mr|mrs|prof)\.\s{0,3}[a-zA-Z][a-zA-Z'\u2019-]{1,40}",
        _gate("", "dr.", "mr.", "mrs.", "prof.", lower=False),
    ),
    # Persian titles followed by a word (آقای، خانم، دکتر).
    (
        r"(?<![\w\u200c])(?:آقای|خانم|دکتر|جناب|سرکار)\s{1,3}[\u0600-\u06ff]",
        _gate("", "آقای", "خانم", "دکتر", "جناب", "سرکار"),
    ),
)
_NAME_LABEL = _Alternatives(
    (
        r"\b(?:name|surname|first name|last name|family name)\s{0,3}[:=]\s{0,3}\S",
        _gate(r"name\s{0,3}[:=]"),
    ),
    (
        r"(?<![\w\u200c])(?:نام|نام خانوادگی|نام بیمار|نام پدر|نام مادر)\s{0,3}[:=]\s{0,3}\S",
        _gate("", "نام"),
    ),
    flags=re.IGNORECASE,
)
# UK postcodes, Canadian postal codes, US ZIP+4: shapes that clinical text does not take, and
# which count only written in capitals ("c5 6th" is not one).
_POSTAL_SHAPE = _Alternatives(
    (
        r"[A-Z](?<!\w[A-Z])(?:[A-Z]?\d[A-Z\d]?\s?\d[ABD-HJLNP-UW-Z]{2}\b|\d[A-Z]\s?\d[A-Z]\d\b)",
        _gate(r"[A-Z]\d", lower=False),
    ),
    (r"\b\d{5}-\d{4}\b", _gate(r"-(?<=\d-)\d{4}")),
)
_POSTAL_LABEL = re.compile(
    r"\b(?:zip|post(?:al)?)\s{0,3}(?:code)?\s{0,3}(?:no\.?|number)?\s{0,3}[:#]?\s{0,3}"
    r"[A-Z0-9][A-Z0-9 -]{2,9}\d"
    r"|(?<![\w\u200c])کد\s{0,3}پستی\s{0,3}[:#]?\s{0,3}\d",
    re.IGNORECASE,
)
_STREET_WORDS = (
    "street",
    "st",
    "road",
    "rd",
    "avenue",
    "ave",
    "lane",
    "ln",
    "drive",
    "boulevard",
    "blvd",
    "court",
    "ct",
    "way",
    "place",
    "pl",
    "crescent",
    "close",
    "terrace",
    "square",
    "sq",
    "highway",
    "hwy",
)
_PERSIAN_ADDRESS_WORDS = (
    "خیابان",
    "خ.",
    "کوچه",
    "پلاک",
    "بلوار",
    "بن\u200cبست",
    "بن بست",
    "نشانی",
    "آدرس",
)
_ADDRESS = _Alternatives(
    # A house number, up to three words and a street word, which follows a space.
    (
        r"\d(?<!\w\d)\d{0,4}[A-Za-z]?,?\s{1,3}(?:[A-Z][a-z]{1,30}\.?\s{1,3}){1,3}(?:Street|St|Road"
        r"|Rd|Avenue|Ave|Lane|Ln|Drive|Boulevard|Blvd|Court|Ct|Way|Place|Pl|Crescent|Close|Terrace"
        r"|Square|Sq|Highway|Hwy)\b",
        _gate(r"\s(?:" + "|".join(_STREET_WORDS) + r")\b"),
    ),
    (
        r"\b(?:apt|apartment|suite|flat)\.?\s{0,3}#?\s{0,3}\d{1,5}\b",
        _gate("", "apt", "apartment", "suite", "flat"),
    ),
    (
        r"\b(?:address|lives at|resides at)\s{0,3}[:=]?\s{0,3}\d{1,5}\s{1,3}[A-Za-z]",
        _gate("", "address", "lives at", "resides at"),
    ),
    (r"\bP\.?\s?O\.?\s{0,3}Box\s{0,3}\d", _gate(r"box\s{0,3}\d")),
    # Persian: street, lane, plate number, boulevard, dead end, address.
    (
        r"(?<![\w\u200c])(?:"
        + "|".join(re.escape(word) for word in _PERSIAN_ADDRESS_WORDS)
        + r")(?![\w\u200c])\s{0,3}[:=]?\s{0,3}[\w\u0600-\u06ff]",
        _gate("", *_PERSIAN_ADDRESS_WORDS),
    ),
    flags=re.IGNORECASE,
)
_SSN = re.compile(r"\d(?<![\d-]\d)\d\d-\d\d-\d{4}(?![\d-])")
_SSN_GATE = re.compile(r"-\d\d-")
# Canadian SIN written in three groups (046 454 286), checked with its Luhn digit.
_SIN = re.compile(r"\d(?<!\d\d)(?<!\d[ -]\d)\d\d[ -]\d{3}[ -]\d{3}(?![\d]|[ -]\d)")
# Iranian national code: ten digits (or 3-6-1), checked with its check digit.
_IRAN_ID = re.compile(r"\d(?<!\d\d)\d\d-?\d{6}-?\d(?!\d)")
_RECORD_WORDS = ("mrn", "urn", "ssn", "sin", "nhs")
_RECORD_LABELLED = (
    "hospital",
    "chart",
    "record",
    "medical record",
    "patient",
    "file",
    "health card",
    "national id",
    "national code",
    "insurance",
    "unit",
    "id",
)
# Case-sensitive, on the lower-cased text, and with its \b checked on each match, so that it
# starts with a literal (the keywords): see _record_labels.
_RECORD_LABEL = re.compile(
    r"(?:mrn|urn|ssn|sin|nhs\s{0,3}(?:no|number)?|"
    + "|".join(word + r"\s{0,3}(?:no\b\.?|num\b\.?|number\b|#|id\b|:)" for word in _RECORD_LABELLED)
    + r")\s{0,3}[:#=]?\s{0,3}[a-z]{0,3}[-/]?\d[\d -]{0,20}\d"
)
_PERSIAN_RECORD_WORDS = ("شماره", "کد", "پرونده", "شناسنامه")
_PERSIAN_RECORD_LABEL = re.compile(
    r"(?<![\w\u200c])(?:شماره\s{0,3}(?:پرونده|بیمار|بیمارستانی|ملی|شناسنامه|بیمه)|کد\s{0,3}ملی"
    r"|پرونده|شناسنامه)\s{0,3}[:#=]?\s{0,3}[A-Z]{0,3}\d{2,}",
    re.IGNORECASE,
)
# The rule is \b(?:labels...)tail|(?:Persian labels)tail, case-insensitive; the English half
# runs case-sensitively on the lower-cased text, its \b checked on each match.
_RECORD_LABELS = _Merged(
    (_AfterBoundary(_RECORD_LABEL, lower=True), _gate("", *_RECORD_WORDS, *_RECORD_LABELLED)),
    (_in_text(_PERSIAN_RECORD_LABEL), _gate("", *_PERSIAN_RECORD_WORDS, lower=False)),
    written=r"\b(?:mrn|urn|ssn|sin|nhs\s{0,3}(?:no|number)?|(?:"
    + "|".join(_RECORD_LABELLED)
    + r")\s{0,3}(?:no\b\.?|num\b\.?|number\b|#|id\b|:))\s{0,3}[:#=]?\s{0,3}[A-Z]{0,3}[-/]?\d"
    r"[\d -]{0,20}\d|" + _PERSIAN_RECORD_LABEL.pattern,
    flags=re.IGNORECASE,
)
_IRAN_MOBILE = re.compile(
    r"(?:\+(?<![\d+]\+)98[ -]?|0(?<![\d+]0)(?:098[ -]?)?)9\d{2}[ -]?\d{3}[ -]?\d{4}(?!\d)"
)
# Digit groups joined by single spaces, hyphens or parentheses, with an optional leading +.
# A match may start only where a group starts, so a long run of groups is tried once. The
# first character (+, ( or a digit) is read first and the lookbehinds check what precedes it;
# the alternatives after it are those of \+?\(?\d{1,6}, chosen by that character.
_PHONE_START = r"[+(\d](?<![\w.,+(][+(\d])(?<!\d[ -][+(\d])(?<!\d\)[ -][+(\d])"
_PHONE = _Alternatives(
    (
        _PHONE_START + r"(?:(?<=\+)\(?\d{1,6}|(?<=\()\d{1,6}|(?<=\d)\d{0,5})\)?"
        r"(?:[ -]\(?\d{1,6}\)?){1,6}(?![\w]|[.,]\d|[ -]\d)",
        _gate(r"[ -](?<=\d[ -])\(?\d|[ -](?<=\d\)[ -])\(?\d"),
    ),
    (r"\b\d{3}\.\d{3}\.\d{4}\b", _gate(r"\.\d{3}\.")),
)
_DIGIT_RUN = re.compile(r"\d(?<!\d\d)\d{5,}")
# Codes that legitimately carry long digit runs: CURIEs (HP:0001335, ORPHA:238722,
# OMIM:157600), reference sequences (NM_005215.4), dbSNP ids, HGVS positions (c.1234567G>A,
# g.29624556_30199850del), genomic coordinates (chr16:29,624,556-30,199,850, a microarray's
# 16p11.2(29624556_30199850)x1), build names (GRCh37) and decimals. They are blanked out
# before the number rules run.
# Each alternative starts with a literal or a character class (the \b and lookbehinds moved
# after the first character, the first character's value read back where the alternatives
# after it depend on it), and CURIEs are searched from their colon (_curies).
_CURIE = re.compile(
    r"(?<![A-Za-z0-9_.])(?:[A-Za-z][A-Za-z0-9_]{0,30}:|[A-Z][A-Z0-9_]{1,15}:\s)\d{1,12}"
)
_CURIE_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


def _curies(text: str, lowered: str, position: int) -> re.Match[str] | None:
    # A CURIE ends its run of [A-Za-z0-9_] with a colon, and starts where that run starts
    # (nothing of [A-Za-z0-9_.] may precede it): so each colon has one place to try.
    colon = text.find(":", position)
    while colon != -1:
        start = colon
        limit = max(position, colon - 31)
        while start > limit and text[start - 1] in _CURIE_CHARACTERS:
            start -= 1
        if start < colon:
            found = _CURIE.match(text, start)
            if found is not None:
                return found
        colon = text.find(":", colon + 1)
    return None


class _FromAnchor:
    """Search ``pattern``, whose matches hold ``anchor`` (a rare character) one of ``before``
    characters after their start: each anchor found is tried at those starts, leftmost first,
    so only the anchors are looked for in the whole text."""

    def __init__(
        self, anchor: str, pattern: str, before: tuple[int, ...]
    ) -> None:  # pragma: no mutate block
        self._anchor = re.compile(anchor)
        self._full = re.compile(pattern)
        self._before = before
        self._nearest = min(before)

    def __call__(self, text: str, lowered: str, position: int) -> re.Match[str] | None:
        found_anchor = self._anchor.search(text, position + self._nearest)
        while found_anchor is not None:
            at = found_anchor.start()
            for offset in self._before:
                if at - offset >= position:
                    found = self._full.match(text, at - offset)
                    if found is not None:
                        return found
            found_anchor = self._anchor.search(text, at + 1)
        return None


_CODE_CONTEXT = _Merged(
    (_curies, _gate(r":\s?\d", lower=False)),
    # Reference sequences: the one starting with a lower-case letter apart, the others start
    # with capitals (rarer), the first letter read back by lookbehinds.
    (
        _in_text(
            re.compile(
                r"[NXEL](?<!\w[NXEL])(?:(?<=N)[CGMRPTW]|(?<=X)[MRP]|(?<=E)NS[A-Z]{0,6}|(?<=L)RG)"
                r"_?\d{1,15}(?:\.\d{1,3})?"
            )
        ),
        _gate(r"(?:N[CGMRPTW]|X[MRP]|ENS[A-Z]{0,6}|LRG)_?\d", lower=False),
    ),
    (_in_text(re.compile(r"rs(?<!\wrs)_?\d{1,15}(?:\.\d{1,3})?")), _gate(r"rs_?\d", lower=False)),
    # HGVS positions, from their full stop.
    (
        _FromAnchor(
            r"\.(?<=[cgmnopr]\.)",
            r"(?<![A-Za-z])[cgmnopr]\.[-*]?\d{1,12}(?:[+-]\d{1,6})?"
            r"(?:_[-*]?\d{1,12}(?:[+-]\d{1,6})?)?",
            (1,),
        ),
        _gate(r"\.(?<=[cgmnopr]\.)[-*]?\d", lower=False),
    ),
    (
        _in_text(
            re.compile(
                r"chr(?<!\wchr)(?:\d{1,2}|[XYM])[:\s]\s?\d{1,3}(?:,\d{3}){0,4}\d{0,9}(?:\s?[-_]\s?\d{1,3}"
                r"(?:,\d{3}){0,4}\d{0,9})?"
            )
        ),
        _gate("", "chr", lower=False),
    ),
    # Cytobands, from their arm (p or q), which one or two digits, X or Y precede.
    # (with the coordinates in brackets, as ISCN writes them, or after a space, as CNV reports)
    (
        _FromAnchor(
            r"[pq](?<=[\dXY][pq])",
            r"\b(?:\d{1,2}|X|Y)[pq]\d{0,2}(?:\.\d{1,3})?(?:\s?\(\s?\d{1,12}\s?[-_]\s?"
            r"\d{1,12}\s?\)|\s\d{1,12}\s?[-_]\s?\d{1,12})",
            (2, 1),
        ),
        _gate(r"[pq](?<=[\dXY][pq])\d{0,2}(?:\.\d{1,3})?(?:\s?\(|\s\d)", lower=False),
    ),
    (_in_text(re.compile(r"GRC(?<!\wGRC)[hm]\d{2}")), _gate("", "GRC", lower=False)),
    (_in_text(re.compile(r"hg(?<!\whg)\d{2}")), _gate(r"hg\d\d", lower=False)),
    # Decimals, from their point.
    (_FromAnchor(r"\.(?<=\d\.)\d", r"\d\.\d{1,30}", (1,)), _gate(r"\.(?<=\d\.)\d", lower=False)),
    written=_CURIE.pattern
    + r"|\b(?:N[CGMRPTW]|X[MRP]|ENS[A-Z]{0,6}|LRG|rs)_?\d{1,15}(?:\.\d{1,3})?"
    r"|(?<![A-Za-z])[cgmnopr]\.[-*]?\d{1,12}(?:[+-]\d{1,6})?(?:_[-*]?\d{1,12}(?:[+-]\d{1,6})?)?"
    r"|\bchr(?:\d{1,2}|[XYM])[:\s]\s?\d{1,3}(?:,\d{3}){0,4}\d{0,9}(?:\s?[-_]\s?\d{1,3}"
    r"(?:,\d{3}){0,4}\d{0,9})?"
    r"|\b(?:\d{1,2}|X|Y)[pq]\d{0,2}(?:\.\d{1,3})?(?:\s?\(\s?\d{1,12}\s?[-_]\s?\d{1,12}\s?\)"
    r"|\s\d{1,12}\s?[-_]\s?\d{1,12})"
    r"|\bGRC[hm]\d{2}|\bhg\d{2}"
    r"|\d\.\d{1,30}",
)


def _words(text: str) -> list[str]:  # pragma: no mutate block
    return text.split()


# Words after which a Persian name is expected: titles, "mother", "by"...
_BEFORE_NAME_PERSIAN = frozenset(
    _words("""
آقای خانم دکتر مادر پدر مادرش پدرش برادر خواهر توسط فرزند پسر دختر همسر بیمار والدین جناب
سرکار
""")
)
_PERSIAN_LETTERS = re.compile(r"[\u0600-\u06ff]")


# A capitalised word and the capitalised word after it (looked ahead, so that in "A B C" both
# pairs are seen); a cue word and the word after it; two Persian words in a row.
_LATIN_PAIR = re.compile(
    r"([A-Z](?<![\w'\u2019-][A-Z])[a-z\u00df-\u00ff]{1,30}(?:['\u2019-][A-Za-z][a-z]{1,30})?)"
    r"(?=\s{1,3}([A-Z][a-z\u00df-\u00ff]{1,30}(?:['\u2019-][A-Za-z][a-z]{1,30})?)(?![\w'\u2019]))"
)
# A cue word and the capitalised word after it, the rule being
#   \b(?i:by|mother|...)\.?\s{1,3}([A-Z][a-z\u00df-\u00ff]{1,30})(?![\w'\u2019])
# read the other way round (see _cued_names): a pattern that starts with a case-insensitive
# word would be tried at every position of the text.
_CUE_WORDS = (
    r"(?i:by|mother|father|parents?|brother|sister|son|daughter|aunt|uncle|grandmother"
    r"|grandfather|mum|mom|dad|mummy|mommy|daddy|stepmother|stepfather|grandma|grandpa"
    r"|granny|husband|wife|named|called|patient|guardian|cousin|nurse|surgeon"
    r"|neurologist|and|dr|mr|mrs|ms|prof|sir|miss|doctor)"
)
# A name may follow its cue in brackets: "mum (Harper Ross)".
_CUE_BEFORE = re.compile(rf"\b{_CUE_WORDS}\.?\s{{1,3}}\(?\Z")
# The rule as written, for the tests.
_LATIN_CUE = re.compile(
    rf"\b{_CUE_WORDS}\.?\s{{1,3}}\(?([A-Z][a-z\u00df-\u00ff]{{1,30}})(?![\w'\u2019])"
)
# The longest cue word (11 letters), a full stop, three spaces and a bracket.
_CUE_REACH = 16
_CAPITALISED = re.compile(r"[A-Z][a-z\u00df-\u00ff]{1,30}(?![\w'\u2019])")
_PERSIAN_CLASS = r"[\u0621-\u064a\u067e\u0686\u0698\u06a9\u06af\u06cc\u0622\u200c]"
_PERSIAN_WORD = rf"{_PERSIAN_CLASS}{{2,30}}"
_PERSIAN_PAIR = re.compile(
    rf"({_PERSIAN_CLASS}(?<![\u0600-\u06ff\u200c]{_PERSIAN_CLASS}){_PERSIAN_CLASS}{{1,29}})"
    rf"(?=\s{{1,3}}({_PERSIAN_WORD}))"
)


def _cued_names(
    text: str, first_names: frozenset[str], surnames: frozenset[str]
) -> list[tuple[int, int]]:
    """The spans of listed names that the cue rule above matches, as its finditer would.

    Each capitalised word is a possible match; it is one when a cue word ends just before it,
    unless that cue word is itself the word of the previous match (finditer goes on after a
    match, so "Dr Mr Smith" matches "Dr Mr" and not "Mr Smith"). Whether a word is a match is
    worked out once per word, so a long chain of cue words costs its length.
    """
    clinical = phi_names.CLINICAL_WORDS
    matched: dict[int, bool] = {}

    def cue_start(start: int) -> int | None:
        cue = _CUE_BEFORE.search(text, max(0, start - _CUE_REACH), start)
        return None if cue is None else cue.start()

    def is_match(start: int) -> bool:
        chain = [start]
        while True:
            cue = cue_start(chain[-1])
            if cue is None:
                result = False
                break
            if cue in matched or _CAPITALISED.match(text, cue) is None:
                result = not matched.get(cue, False)
                break
            chain.append(cue)
        # chain[-1] has its answer; each word before it matches when its cue word does not.
        matched[chain[-1]] = result
        for position in reversed(chain[:-1]):
            result = not result
            matched[position] = result
        return matched[start]

    spans = []
    for match in _CAPITALISED.finditer(text):
        word = match.group(0).upper()
        if word in clinical or (word not in first_names and word not in surnames):
            continue
        if is_match(match.start()):
            spans.append(match.span())
    return spans


def _names(text: str, lowered: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    clinical = phi_names.CLINICAL_WORDS
    if _CAPITALISED.search(text) is not None:
        first_names = phi_names.english_first_names()
        surnames = phi_names.english_surnames()
        for match in _LATIN_PAIR.finditer(text):
            first, last = match.group(1).upper(), match.group(2).upper()
            if first in clinical or last in clinical:
                continue
            if first in first_names and (last in surnames or last in first_names):
                spans.append((match.start(1), match.end(2)))
            elif (
                last in surnames
                and _CUE_BEFORE.search(text, max(0, match.start() - _CUE_REACH), match.start())
                is not None
            ):
                # A first name off the lists ("her dad Liam Henderson"): the cue word and
                # the listed surname say it is a name.
                spans.append((match.start(1), match.end(2)))
        spans += _cued_names(text, first_names, surnames)
    if _PERSIAN_LETTERS.search(text) is not None:
        persian_first = phi_names.PERSIAN_FIRST_NAMES
        persian_last = phi_names.PERSIAN_SURNAMES
        persian_clinical = phi_names.PERSIAN_CLINICAL_WORDS
        for match in _PERSIAN_PAIR.finditer(text):
            word, other = match.group(1), match.group(2)
            if other in persian_clinical:
                continue
            cue = word in _BEFORE_NAME_PERSIAN and (other in persian_first or other in persian_last)
            surname = other in persian_last or (
                other.endswith(phi_names.PERSIAN_SURNAME_ENDINGS) and len(other) > 3
            )
            if cue or (word in persian_first and word not in persian_clinical and surname):
                spans.append((match.start(1), match.end(2)))
    return spans


_Finder = Callable[[str, str], list[tuple[int, int]]]


class _Rule(NamedTuple):
    category: str
    message: str
    # Called with the text and its lower-cased copy (same length, same positions).
    finder: _Finder
    # Words one of which the text must hold (in lower case) for the rule to be worth running:
    # most notes hold none, and a substring search is much cheaper than a pattern.
    hints: tuple[str, ...] = ()


class _Spans:
    """The spans of ``pattern`` in a text in which ``gate`` (if any) is found lower-cased."""

    def __init__(
        self, pattern: re.Pattern[str], gate: re.Pattern[str] | None = None
    ) -> None:  # pragma: no mutate block
        self._pattern = pattern
        self._gate = gate

    def __call__(self, text: str, lowered: str) -> list[tuple[int, int]]:
        if self._gate is not None and self._gate.search(lowered) is None:
            return []
        return [match.span() for match in self._pattern.finditer(text)]


def _alternatives(pattern: _Alternatives | _Merged) -> _Finder:  # pragma: no mutate block
    return pattern.spans


# A version number of four parts (FSL 6.0.7.4) is written like an IP address: after the name
# of a program or the word "version" it is the version. Looked for in the few characters before.
_VERSION_BEFORE = re.compile(
    r"(?:\bversion|\bver\.?|\bv|\brelease|\bbuild|\bfsl|\bspm\d{0,2}|\bfreesurfer|\bmatlab"
    r"|\bafni|\bants|\bmrtrix\d?|\bdcm2niix|\bpython|\bfmriprep|\bqsiprep)\s{0,2}\Z"
)
_VERSION_REACH = 14


def _ipv4(text: str, lowered: str) -> list[tuple[int, int]]:
    if _IPV4_GATE.search(text) is None:
        return []
    spans = []
    for match in _IPV4.finditer(text):
        try:
            ipaddress.IPv4Address(match.group(0))
        except ValueError:
            continue
        start = match.start()
        if _VERSION_BEFORE.search(lowered, max(0, start - _VERSION_REACH), start):
            continue
        spans.append(match.span())
    return spans


def _ipv6(text: str, lowered: str) -> list[tuple[int, int]]:
    if _IPV6_GATE.search(lowered) is None:
        return []
    spans = []
    for match in _IPV6.finditer(text):
        found = match.group(0)
        if not any(ch.isalnum() for ch in found):
            continue
        try:
            ipaddress.IPv6Address(found)
        except ValueError:
            continue
        spans.append(match.span())
    return spans


_NUMERIC_DATE_HINT = re.compile(r"\d[/.-]\d{1,2}[/.-]\d")


def _numeric_dates(text: str, lowered: str) -> list[tuple[int, int]]:
    if _NUMERIC_DATE_HINT.search(text) is None:
        return []
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
        start = match.start()
        if plausible and _SCORE_BEFORE.search(lowered, max(0, start - _SCORE_REACH), start) is None:
            spans.append(match.span())
    return spans


# The Purdue Pegboard is scored as three numbers, right/left/both (11/13/12), written like a
# date; right after its name they are its scores.
_SCORE_BEFORE = re.compile(r"\bpegboard(?:\s{1,3}(?:test|scores?))?[\s:]{1,3}\Z")
_SCORE_REACH = 24


def _postal_codes(text: str, lowered: str) -> list[tuple[int, int]]:
    spans = _POSTAL_SHAPE.spans(text, lowered)
    if "zip" in lowered or "post" in lowered or "پستی" in text:
        spans += [match.span() for match in _POSTAL_LABEL.finditer(text)]
    return spans


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _sins(text: str, lowered: str) -> list[tuple[int, int]]:
    spans = []
    for match in _SIN.finditer(text):
        digits = "".join(ch for ch in match.group(0) if ch.isdigit())
        if digits[0] not in "08" and _luhn(digits):
            spans.append(match.span())
    return spans


def _iranian_national_code(digits: str) -> bool:
    if len(set(digits)) == 1:
        return False
    total = sum(int(digits[i]) * (10 - i) for i in range(9)) % 11
    check = int(digits[9])
    return check == total if total < 2 else check == 11 - total


def _iran_ids(text: str, lowered: str) -> list[tuple[int, int]]:
    spans = []
    for match in _IRAN_ID.finditer(text):
        digits = match.group(0).replace("-", "")
        if _iranian_national_code(digits):
            spans.append(match.span())
    return spans


_DIGIT_GROUP = re.compile(r"\d+")


def _phones(text: str, lowered: str) -> list[tuple[int, int]]:
    spans = []
    for start, end in _PHONE.spans(text, lowered):
        groups = _DIGIT_GROUP.findall(text, start, end)
        digits = sum(len(group) for group in groups)
        if digits < 7 or max(len(group) for group in groups) < 3:
            # Lists of small numbers ("grades 1 2 3 4 2 1 0") are not phone numbers.
            continue
        if len(groups) > 1 and text[start] != "+" and _looks_like_thousands(groups):
            continue
        spans.append((start, end))
    return spans


def _looks_like_thousands(groups: list[str]) -> bool:
    return 1 <= len(groups[0]) <= 3 and all(len(group) == 3 for group in groups[1:])


def _digit_runs(text: str, lowered: str) -> list[tuple[int, int]]:
    return [match.span() for match in _DIGIT_RUN.finditer(text)]


_DATE = "a calendar date (record the patient's age instead)"
_RECORD = "a long number such as a hospital or record number"

# Rules before _CODES see the text as typed (an IP address is made of decimals); the rules
# after it see the text with clinical codes blanked out.
_CODES = _Rule("", "", _alternatives(_CODE_CONTEXT))

_MONTH_HINTS = (*_MONTH_WORDS, "day", "/")
_PERSIAN_HINTS = tuple("ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهیآ")
_RECORD_HINTS = (
    *_RECORD_WORDS,
    "hospital",
    "chart",
    "record",
    "patient",
    "file",
    "health",
    "national",
    "insurance",
    "unit",
    "id",
    *_PERSIAN_RECORD_WORDS,
)

_RULES: tuple[_Rule, ...] = (
    _Rule("email", "an e-mail address", _Spans(_EMAIL), ("@",)),
    _Rule("url", "a web address", _alternatives(_URL)),
    _Rule("ip_address", "an IP address", _ipv4, (".",)),
    _Rule("ip_address", "an IP address", _ipv6, (":",)),
    _Rule("id_number", "an identification number", _Spans(_SSN, _SSN_GATE), ("-",)),
    _Rule("id_number", _RECORD, _alternatives(_RECORD_LABELS), _RECORD_HINTS),
    _Rule("date", _DATE, _numeric_dates, ("/", ".", "-")),
    _CODES,
    _Rule("date", _DATE, _alternatives(_TEXT_DATE), _MONTH_HINTS),
    _Rule("date", _DATE, _alternatives(_DAY_MONTH), _MONTH_HINTS),
    _Rule("date", _DATE, _alternatives(_PERSIAN_DATE), _PERSIAN_HINTS),
    _Rule("name", "a title followed by a name", _alternatives(_TITLE_NAME)),
    _Rule("name", "a name", _alternatives(_NAME_LABEL), ("name", "نام")),
    _Rule("name", "a name", _names),
    _Rule("address", "a street address", _alternatives(_ADDRESS)),
    _Rule("id_number", "an identification number", _sins),
    _Rule("id_number", "an identification number", _iran_ids),
    _Rule("postal_code", "a postal code", _postal_codes),
    _Rule("phone", "a phone number", _Spans(_IRAN_MOBILE), ("9",)),
    _Rule("phone", "a phone number", _phones),
    _Rule("id_number", _RECORD, _digit_runs),
)

PHI_CATEGORIES: tuple[str, ...] = tuple(
    dict.fromkeys(rule.category for rule in _RULES if rule.category)
)
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


def screen_categories(text: str) -> list[str]:
    """The kinds (`PHI_CATEGORIES`) of likely identifier found in ``text``, in that order."""
    return [category for category, _ in _findings(text)]


# Short notes ("normal", "not done", a stock phrase of a report) recur across thousands of
# submissions, and the scan costs tens of microseconds whatever the answer, so short texts
# found clean are remembered (a bounded set, emptied when full). Texts with a hit are not kept:
# the process should not hold on to what looked like an identifier.
_REMEMBERED_LENGTH = 200
_REMEMBERED_TEXTS = 4096
_clean_texts: set[str] = set()


def _screen(text: str) -> list[str]:
    return [message for _, message in _findings(text)]


def _findings(text: str) -> list[tuple[str, str]]:
    if not text:
        return []
    remaining = _normalise(text)
    # Blanked out beside the text, so that it stays the text's lower-cased copy.
    lowered = _lower(remaining)
    found: dict[str, str] = {}
    for rule in _RULES:
        if rule.hints and not any(hint in lowered for hint in rule.hints):
            continue
        spans = rule.finder(remaining, lowered)
        if not spans:
            continue
        if rule.category:
            found.setdefault(rule.category, rule.message)
        remaining = _blank_out(remaining, spans)
        lowered = _blank_out(lowered, spans)
    return [(category, found[category]) for category in PHI_CATEGORIES if category in found]


def _blank_out(text: str, spans: list[tuple[int, int]]) -> str:
    pieces = []
    position = 0
    for start, end in sorted(spans):
        if start < position:
            start = position
        pieces.append(text[position:start])
        pieces.append(" " * max(0, end - start))
        position = max(position, end)
    pieces.append(text[position:])
    return "".join(pieces)
