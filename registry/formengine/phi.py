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

Messages never repeat the matched text: error messages end up in logs and screenshots.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import NamedTuple

from registry.formengine import phi_names

__all__ = ["PHI_CATEGORIES", "screen_free_text"]

# Persian (U+06F0..) and Arabic-Indic (U+0660..) digits read as ASCII digits, Arabic letter
# forms as their Persian ones, dashes as hyphens: one character for one, so spans stay put.
_NORMALISE = str.maketrans(
    "۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩يكة–—\u2212\u00a0٫٬",
    "01234567890123456789یکه--- .,",
)

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

# Order matters: a span matched by an earlier rule is blanked out before the later rules run,
# so "john@x.org" is reported once as an e-mail address and not again as a web address, and
# "2019-03-12" once as a date and not as a phone number.
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
_URL = re.compile(
    r"(?:\b(?:https?|ftp)://|\bwww\.)\S{1,2000}"
    r"|(?<![\w.-])[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){0,8}\.(?:com|org|net|edu|gov|info|io"
    r"|biz|ir|uk|de|fr|it|es|nl|ca|au|in|ch|se|be|at|tr|ru|cn|jp|br)\b(?:/\S{0,2000})?",
    re.IGNORECASE,
)
_IPV4 = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w]|\.\w)")
_IPV6 = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")
_NUMERIC_DATE = re.compile(
    # Day-month-year or month-day-year with a four-digit year, any separator.
    r"\b(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4})\b"
    # Two-digit years: with - only when no unit follows (10-12-14 months is a range).
    r"|\b(?P<a2>\d{1,2})(?P<sep2>[/.-])(?P<b2>\d{1,2})(?P=sep2)(?P<y2>\d{2})\b(?![/.-]\d)"
    r"(?!\s{0,3}(?:months?|mo|m|years?|yrs?|y|weeks?|wk|w|days?|d|h|hours?|mm|cm|%)\b)"
    # Year first (ISO and its relatives), Gregorian or Jalali (۱۴۰۲/۰۵/۱۲).
    r"|\b(?P<y3>(?:19|20|13|14)\d{2})(?P<sep3>[/.-])(?P<a3>\d{1,2})(?P=sep3)(?P<b3>\d{1,2})\b"
)
_TEXT_DATE = re.compile(
    rf"\b{_DAY}\s{{1,3}}(?:of\s{{1,3}})?{_MONTHS}\.?,?\s{{1,3}}(?:19|20)?\d{{2}}\b"
    rf"|\b{_MONTHS}\.?\s{{1,3}}{_DAY},?\s{{1,3}}(?:19|20)\d{{2}}\b"
    rf"|\b{_MONTHS}\.?,?\s{{1,3}}(?:19|20)\d{{2}}\b"
    rf"|\b(?:on|last|next|this)\s{{1,3}}{_WEEKDAYS}\b"
    r"|\b(?:on|since|from|until)\s{1,3}\d{1,2}/\d{1,2}\b(?!/|\.\d)",
    re.IGNORECASE,
)
# A day and a month without a year: only with the month capitalised, so that "at 3 may be"
# and "2 mar" in shorthand do not trip it.
_DAY_MONTH = re.compile(
    rf"\b{_DAY}\s{{1,3}}(?:of\s{{1,3}})?{_MONTHS_CAPITALISED}\b(?!\s*\d)"
    rf"|\b{_MONTHS_CAPITALISED}\.?\s{{1,3}}(?:[012]?\d|3[01])(?:st|nd|rd|th)?\b(?![.,]?\d)"
)
_PERSIAN_DATE = re.compile(
    rf"(?<!\d)\d{{1,2}}\s{{0,3}}{_PERSIAN_MONTHS}(?![\w\u200c])"
    rf"|(?<![\w\u200c]){_PERSIAN_MONTHS}\s{{0,3}}(?:ماه\s{{0,3}})?(?:سال\s{{0,3}})?\d{{2,4}}\b"
)
_TITLE_NAME = re.compile(
    # Capitalised titles: "MS lesions" and "dr" in shorthand are not titles.
    r"\b(?:Dr|Mr|Mrs|Ms|Mx|Miss|Prof|Sir|Dame|Doctor|Professor|Mister|Madam)\.?\s{1,3}"
    r"[A-Z][a-zA-Z'\u2019-]{0,40}"
    # Lower-case titles with a full stop ("dr. karimi"); "ms." is milliseconds too.
    r"|\b(?:dr|mr|mrs|prof)\.\s{0,3}[a-zA-Z][a-zA-Z'\u2019-]{1,40}"
    # Persian titles followed by a word (آقای، خانم، دکتر).
    r"|(?<![\w\u200c])(?:آقای|خانم|دکتر|جناب|سرکار)\s{1,3}[\u0600-\u06ff]"
)
_NAME_LABEL = re.compile(
    r"\b(?:name|surname|first name|last name|family name)\s{0,3}[:=]\s{0,3}\S"
    r"|(?<![\w\u200c])(?:نام|نام خانوادگی|نام بیمار|نام پدر|نام مادر)\s{0,3}[:=]\s{0,3}\S",
    re.IGNORECASE,
)
# UK postcodes, Canadian postal codes, US ZIP+4: shapes that clinical text does not take, and
# which count only written in capitals ("c5 6th" is not one).
_POSTAL_SHAPE = re.compile(
    r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[ABD-HJLNP-UW-Z]{2}\b|\b[A-Z]\d[A-Z]\s?\d[A-Z]\d\b"
    r"|\b\d{5}-\d{4}\b"
)
_POSTAL_LABEL = re.compile(
    r"\b(?:zip|post(?:al)?)\s{0,3}(?:code)?\s{0,3}(?:no\.?|number)?\s{0,3}[:#]?\s{0,3}"
    r"[A-Z0-9][A-Z0-9 -]{2,9}\d"
    r"|(?<![\w\u200c])کد\s{0,3}پستی\s{0,3}[:#]?\s{0,3}\d",
    re.IGNORECASE,
)
_ADDRESS = re.compile(
    r"\b\d{1,5}[A-Za-z]?,?\s{1,3}(?:[A-Z][a-z]{1,30}\.?\s{1,3}){1,3}(?:Street|St|Road|Rd"
    r"|Avenue|Ave|Lane|Ln|Drive|Boulevard|Blvd|Court|Ct|Way|Place|Pl|Crescent|Close|Terrace"
    r"|Square|Sq|Highway|Hwy)\b"
    r"|\b(?:apt|apartment|suite|flat)\.?\s{0,3}#?\s{0,3}\d{1,5}\b"
    r"|\b(?:address|lives at|resides at)\s{0,3}[:=]?\s{0,3}\d{1,5}\s{1,3}[A-Za-z]"
    r"|\bP\.?\s?O\.?\s{0,3}Box\s{0,3}\d"
    # Persian: street, lane, plate number, boulevard, dead end, address.
    r"|(?<![\w\u200c])(?:خیابان|خ\.|کوچه|پلاک|بلوار|بن\u200cبست|بن بست|نشانی|آدرس)"
    r"(?![\w\u200c])\s{0,3}[:=]?\s{0,3}[\w\u0600-\u06ff]",
    re.IGNORECASE,
)
_SSN = re.compile(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])")
# Canadian SIN written in three groups (046 454 286), checked with its Luhn digit.
_SIN = re.compile(r"(?<!\d)(?<!\d[ -])\d{3}[ -]\d{3}[ -]\d{3}(?![\d]|[ -]\d)")
# Iranian national code: ten digits (or 3-6-1), checked with its check digit.
_IRAN_ID = re.compile(r"(?<!\d)\d{3}-?\d{6}-?\d(?!\d)")
_RECORD_LABEL = re.compile(
    r"\b(?:mrn|urn|ssn|sin|nhs\s{0,3}(?:no|number)?|(?:hospital|chart|record|medical record|patient"
    r"|file|health card|national id|national code|insurance|unit|id)\s{0,3}(?:no\b\.?|num\b\.?"
    r"|number\b|#|id\b|:))"
    r"\s{0,3}[:#=]?\s{0,3}[A-Z]{0,3}[-/]?\d[\d -]{0,20}\d"
    r"|(?<![\w\u200c])(?:شماره\s{0,3}(?:پرونده|بیمار|بیمارستانی|ملی|شناسنامه|بیمه)|کد\s{0,3}ملی"
    r"|پرونده|شناسنامه)\s{0,3}[:#=]?\s{0,3}[A-Z]{0,3}\d{2,}",
    re.IGNORECASE,
)
_IRAN_MOBILE = re.compile(r"(?<![\d+])(?:(?:\+|00)98[ -]?|0)9\d{2}[ -]?\d{3}[ -]?\d{4}(?!\d)")
# Digit groups joined by single spaces, hyphens or parentheses, with an optional leading +.
# A match may start only where a group starts, so a long run of groups is tried once.
_PHONE = re.compile(
    r"(?<![\w.,+(])(?<!\d[ -])(?<!\d\)[ -])\+?\(?\d{1,6}\)?(?:[ -]\(?\d{1,6}\)?){1,6}"
    r"(?![\w]|[.,]\d|[ -]\d)"
    r"|\b\d{3}\.\d{3}\.\d{4}\b"
)
_DIGIT_RUN = re.compile(r"(?<!\d)\d{6,}")
# Codes that legitimately carry long digit runs: CURIEs (HP:0001335, ORPHA:238722,
# OMIM:157600), reference sequences (NM_005215.4), dbSNP ids, HGVS positions (c.1234567G>A,
# g.29624556_30199850del), genomic coordinates (chr16:29,624,556-30,199,850, a microarray's
# 16p11.2(29624556_30199850)x1), build names (GRCh37) and decimals. They are blanked out
# before the number rules run.
_CODE_CONTEXT = re.compile(
    r"(?<![A-Za-z0-9_.])(?:[A-Za-z][A-Za-z0-9_]{0,30}:|[A-Z][A-Z0-9_]{1,15}:\s)\d{1,12}"
    r"|\b(?:N[CGMRPTW]|X[MRP]|ENS[A-Z]{0,6}|LRG|rs)_?\d{1,15}(?:\.\d{1,3})?"
    r"|(?<![A-Za-z])[cgmnopr]\.[-*]?\d{1,12}(?:[+-]\d{1,6})?(?:_[-*]?\d{1,12}(?:[+-]\d{1,6})?)?"
    r"|\bchr(?:\d{1,2}|[XYM])[:\s]\s?\d{1,3}(?:,\d{3}){0,4}\d{0,9}(?:\s?[-_]\s?\d{1,3}"
    r"(?:,\d{3}){0,4}\d{0,9})?"
    r"|\b(?:\d{1,2}|X|Y)[pq]\d{0,2}(?:\.\d{1,3})?\s?\(\s?\d{1,12}\s?[-_]\s?\d{1,12}\s?\)"
    r"|\bGRC[hm]\d{2}|\bhg\d{2}"
    r"|\d\.\d{1,30}"
)



def _scoped(pattern: re.Pattern[str]) -> str:
    return f"(?i:{pattern.pattern})" if pattern.flags & re.IGNORECASE else f"(?:{pattern.pattern})"


def _words(text: str) -> list[str]:
    return text.split()


# Words after which a Persian name is expected: titles, "mother", "by"...
_BEFORE_NAME_PERSIAN = frozenset(_words("""
آقای خانم دکتر مادر پدر مادرش پدرش برادر خواهر توسط فرزند پسر دختر همسر بیمار والدین جناب
سرکار
"""))
_PERSIAN_LETTERS = re.compile(r"[\u0600-\u06ff]")


# A capitalised word and the capitalised word after it (looked ahead, so that in "A B C" both
# pairs are seen); a cue word and the word after it; two Persian words in a row.
_LATIN_PAIR = re.compile(
    r"([A-Z](?<![\w'\u2019-][A-Z])[a-z\u00df-\u00ff]{1,30}(?:['\u2019-][A-Za-z][a-z]{1,30})?)"
    r"(?=\s{1,3}([A-Z][a-z\u00df-\u00ff]{1,30}(?:['\u2019-][A-Za-z][a-z]{1,30})?)(?![\w'\u2019]))"
)
_LATIN_CUE = re.compile(
    r"\b(?i:by|mother|father|parents?|brother|sister|son|daughter|aunt|uncle|grandmother"
    r"|grandfather|husband|wife|named|called|patient|guardian|cousin|nurse|surgeon"
    r"|neurologist|and|dr|mr|mrs|ms|prof|sir|miss|doctor)\.?\s{1,3}"
    r"([A-Z][a-z\u00df-\u00ff]{1,30})(?![\w'\u2019])"
)
_PERSIAN_WORD = r"[\u0621-\u064a\u067e\u0686\u0698\u06a9\u06af\u06cc\u0622\u200c]{2,30}"
_PERSIAN_PAIR = re.compile(
    rf"(?<![\u0600-\u06ff\u200c])({_PERSIAN_WORD})(?=\s{{1,3}}({_PERSIAN_WORD}))"
)


def _names(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    clinical = phi_names.CLINICAL_WORDS
    pairs = list(_LATIN_PAIR.finditer(text))
    cues = list(_LATIN_CUE.finditer(text)) if pairs or any(c.isupper() for c in text) else []
    if pairs or cues:
        first_names = phi_names.english_first_names()
        surnames = phi_names.english_surnames()
        for match in pairs:
            first, last = match.group(1).upper(), match.group(2).upper()
            if (first in first_names and first not in clinical and last not in clinical
                    and (last in surnames or last in first_names)):
                spans.append((match.start(1), match.end(2)))
        for match in cues:
            word = match.group(1).upper()
            if word not in clinical and (word in first_names or word in surnames):
                spans.append(match.span(1))
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
                other.endswith(phi_names.PERSIAN_SURNAME_ENDINGS) and len(other) > 3)
            if cue or (word in persian_first and word not in persian_clinical and surname):
                spans.append((match.start(1), match.end(2)))
    return spans


class _Rule(NamedTuple):
    category: str
    message: str
    finder: Callable[[str], list[tuple[int, int]]]
    # Words one of which the text must hold (in lower case) for the rule to be worth running:
    # most notes hold none, and a substring search is much cheaper than a pattern.
    hints: tuple[str, ...] = ()


def _spans(pattern: re.Pattern[str]) -> Callable[[str], list[tuple[int, int]]]:
    def find(text: str) -> list[tuple[int, int]]:
        return [match.span() for match in pattern.finditer(text)]

    return find


def _ipv4(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in _IPV4.finditer(text):
        try:
            ipaddress.IPv4Address(match.group(0))
        except ValueError:
            continue
        spans.append(match.span())
    return spans


def _ipv6(text: str) -> list[tuple[int, int]]:
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


def _numeric_dates(text: str) -> list[tuple[int, int]]:
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
        if plausible:
            spans.append(match.span())
    return spans


def _postal_codes(text: str) -> list[tuple[int, int]]:
    spans = [match.span() for match in _POSTAL_SHAPE.finditer(text)]
    lowered = text.lower()
    if "zip" in lowered or "post" in lowered or "پستی" in text:
        spans += [match.span() for match in _POSTAL_LABEL.finditer(text)]
    return spans


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _sins(text: str) -> list[tuple[int, int]]:
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


def _iran_ids(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in _IRAN_ID.finditer(text):
        digits = match.group(0).replace("-", "")
        if _iranian_national_code(digits):
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
        if len(groups) > 1 and not match.group(0).startswith("+") and _looks_like_thousands(
            groups
        ):
            continue
        spans.append(match.span())
    return spans


def _looks_like_thousands(groups: list[str]) -> bool:
    return 1 <= len(groups[0]) <= 3 and all(len(group) == 3 for group in groups[1:])


def _digit_runs(text: str) -> list[tuple[int, int]]:
    return [match.span() for match in _DIGIT_RUN.finditer(text)]


def _without_codes(text: str) -> str:
    return _blank_out(text, [match.span() for match in _CODE_CONTEXT.finditer(text)])


_DATE = "a calendar date (record the patient's age instead)"
_RECORD = "a long number such as a hospital or record number"

# Rules before _CODES see the text as typed (an IP address is made of decimals); the rules
# after it see the text with clinical codes blanked out.
_CODES = _Rule("", "", lambda text: [])

_MONTH_HINTS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                "dec", "day", "/")
_PERSIAN_HINTS = tuple("ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهیآ")
_TITLE_HINTS = ("dr", "mr", "ms", "mx", "miss", "prof", "sir", "dame", "doctor", "mister",
                "madam", "آقای", "خانم", "دکتر", "جناب", "سرکار")
_ADDRESS_HINTS = ("street", "st", "road", "rd", "av", "lane", "ln", "drive", "boulevard", "blvd",
                  "court", "ct", "way", "place", "pl", "crescent", "close", "terrace", "sq",
                  "highway", "hwy", "apt", "apartment", "suite", "flat", "address", "lives at",
                  "resides at", "box", "خیابان", "خ.", "کوچه", "پلاک", "بلوار", "بن", "نشانی",
                  "آدرس")
_RECORD_HINTS = ("mrn", "urn", "ssn", "sin", "nhs", "hospital", "chart", "record", "patient",
                 "file", "health", "national", "insurance", "unit", "id", "شماره", "کد", "پرونده",
                 "شناسنامه")
_URL_HINTS = ("://", "www.", ".com", ".org", ".net", ".edu", ".gov", ".info", ".io", ".biz", ".ir",
              ".uk", ".de", ".fr", ".it", ".es", ".nl", ".ca", ".au", ".in", ".ch", ".se", ".be",
              ".at", ".tr", ".ru", ".cn", ".jp", ".br")

_RULES: tuple[_Rule, ...] = (
    _Rule("email", "an e-mail address", _spans(_EMAIL), ("@",)),
    _Rule("url", "a web address", _spans(_URL), _URL_HINTS),
    _Rule("ip_address", "an IP address", _ipv4, (".",)),
    _Rule("ip_address", "an IP address", _ipv6, ("::", ":")),
    _Rule("id_number", "an identification number", _spans(_SSN), ("-",)),
    _Rule("id_number", _RECORD, _spans(_RECORD_LABEL), _RECORD_HINTS),
    _Rule("date", _DATE, _numeric_dates, ("/", ".", "-")),
    _CODES,
    _Rule("date", _DATE, _spans(_TEXT_DATE), _MONTH_HINTS),
    _Rule("date", _DATE, _spans(_DAY_MONTH), _MONTH_HINTS),
    _Rule("date", _DATE, _spans(_PERSIAN_DATE), _PERSIAN_HINTS),
    _Rule("name", "a title followed by a name", _spans(_TITLE_NAME), _TITLE_HINTS),
    _Rule("name", "a name", _spans(_NAME_LABEL), ("name", "نام")),
    _Rule("name", "a name", _names),
    _Rule("address", "a street address", _spans(_ADDRESS), _ADDRESS_HINTS),
    _Rule("id_number", "an identification number", _sins),
    _Rule("id_number", "an identification number", _iran_ids),
    _Rule("postal_code", "a postal code", _postal_codes),
    _Rule("phone", "a phone number", _spans(_IRAN_MOBILE), ("9",)),
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
    remaining = text.translate(_NORMALISE)
    lowered = remaining.lower()
    found: dict[str, str] = {}
    for rule in _RULES:
        if rule.hints and not any(hint in lowered for hint in rule.hints):
            continue
        if rule is _CODES:
            remaining = _without_codes(remaining)
            continue
        spans = rule.finder(remaining)
        if not spans:
            continue
        found.setdefault(rule.category, rule.message)
        remaining = _blank_out(remaining, spans)
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
