"""The free-text screen for direct identifiers (registry/formengine/phi.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.formengine.phi import screen_categories, screen_free_text

CLINICAL_TEXT = [
    "C5 level, 10 days",
    "MM grade 3 at 36 months",
    "T2 hyperintensity C1-C2",
    "HP:0001335",
    "ORPHA:238722 familial congenital mirror movements",
    "NM_005215.4:c.1234G>A in DCC",
    "c.1234567G>A",
    "rs12345678 heterozygous",
    "Occipital dermal sinus with an intracranial tract and a midline posterior fossa dermoid.",
    "Chiari II, VP shunt at 2 months, revised at 14 months",
    "weight 12.5 kg, height 95.5 cm",
    "Woods & Teuber grades 1 2 3 4 2 1 0",
    "platelets 1 200 000",
    "BP 120/80, HR 96",
    "symptoms between 10-12 months, may improve",
    "MS lesions were not seen; dr review pending",
    "Edinburgh score -100 to +100",
    "L4-L5 and S1 dysraphism, tethered cord released",
    "vertigo and vomiting since 3 months of age, resolved at once after surgery",
    "Right sixth-nerve paresis (HP:0006897), ipsilateral MEPs on TMS",
    "Score 3.14159265 on the scale",
]

IDENTIFYING_TEXT = [
    ("call 0912 345 6789", "a phone number"),
    ("phone (555) 123-4567 after 5", "a phone number"),
    ("mother: +98 21 1234 5678", "a phone number"),
    ("john@x.org", "an e-mail address"),
    ("write to j.doe+mm@hospital.example.org", "an e-mail address"),
    ("born 12/03/2019", "a calendar date"),
    ("MRI on 2019-03-12 showed a tract", "a calendar date"),
    ("seen 12 March 2019 in clinic", "a calendar date"),
    ("seen March 12, 2019 in clinic", "a calendar date"),
    ("operated in March 2019", "a calendar date"),
    ("admitted 12.03.19", "a calendar date"),
    ("seen by Dr. Smith", "a title followed by a name"),
    ("Mr John reports vertigo", "a title followed by a name"),
    ("Prof Ahmadi reviewed", "a title followed by a name"),
    ("name: Ali", "a name"),
    ("MRN 12345678", "a long number"),
    ("hospital no 1234567", "a long number"),
    ("SSN 123-45-6789", "an identification number"),
    ("see https://example.org/case/12", "a web address"),
    ("photos at www.example.com", "a web address"),
    ("lives at postcode SW1A 1AA", "a postal code"),
    ("zip 90210", "a postal code"),
    ("Ottawa K1A 0B1", "a postal code"),
]


@pytest.mark.parametrize("text", CLINICAL_TEXT)
def test_clinical_text_passes_the_screen(text: str) -> None:
    assert screen_free_text(text) == []


@pytest.mark.parametrize(("text", "kind"), IDENTIFYING_TEXT)
def test_direct_identifiers_are_found(text: str, kind: str) -> None:
    messages = screen_free_text(text)
    assert any(message.startswith(kind) for message in messages), messages


def test_an_address_is_reported_once_not_also_as_a_web_address() -> None:
    assert screen_free_text("john@x.org") == ["an e-mail address"]


def test_an_iso_date_is_not_also_reported_as_a_phone_number() -> None:
    assert screen_free_text("2019-03-12") == ["a calendar date (record the patient's age instead)"]


def test_several_kinds_of_identifier_each_get_one_message() -> None:
    messages = screen_free_text("Dr. Smith, call 0912 345 6789 or 0912 345 6790, born 12/03/2019")
    assert len(messages) == 3
    assert {m.split(" (")[0] for m in messages} == {
        "a title followed by a name",
        "a phone number",
        "a calendar date",
    }


def test_messages_never_repeat_the_identifier() -> None:
    text = "john.doe@hospital.org 0912 345 6789 Dr. Smith"
    for message in screen_free_text(text):
        for secret in ("john", "0912", "Smith"):
            assert secret not in message


def test_blank_text_passes() -> None:
    assert screen_free_text("") == []


@given(
    level=st.sampled_from(["C", "T", "L", "S"]),
    segment=st.integers(1, 12),
    days=st.integers(0, 9999),
    months=st.integers(0, 1200),
    grade=st.integers(0, 4),
)
def test_generated_clinical_shorthand_passes(
    level: str, segment: int, days: int, months: int, grade: int
) -> None:
    text = (
        f"{level}{segment}-{level}{segment + 1} lesion, repaired at {days} days; "
        f"MM grade {grade} at {months} months (HP:0001335)"
    )
    assert screen_free_text(text) == []


@given(st.text(max_size=300))
def test_the_screen_copes_with_any_text(text: str) -> None:
    messages = screen_free_text(text)
    assert len(messages) == len(set(messages))


@pytest.mark.parametrize("text", ["call 020 7946 0958", "Dr Smith saw him", "normal conus"])
def test_a_repeated_text_gets_the_same_verdict_and_each_caller_its_own_list(text):
    first = screen_free_text(text)
    first.append("changed by the caller")
    again = screen_free_text(text)
    assert again == screen_free_text(text) and "changed by the caller" not in again


def test_a_long_text_is_screened_like_a_short_one():
    hit = "Seen by Dr Smith."
    assert screen_free_text(hit + " " * 300 + "normal") == screen_free_text(hit)


def test_only_clean_texts_are_remembered():
    from registry.formengine import phi

    screen_free_text("normal conus at L2")
    screen_free_text("Seen by Dr Smith")
    assert "normal conus at L2" in phi._clean_texts
    assert "Seen by Dr Smith" not in phi._clean_texts


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Preprocessed in FSL 6.0.7.4 and SPM12.", False),
        ("Sent to the server at 10.0.7.4 for review.", True),
        ("Purdue pegboard 11/13/12 (R/L/both).", False),
        ("Seen in clinic on 11/13/12.", True),
        ("CNV 18q21.2 12959111-14570882 GRCh37.", False),
        ("mum (Harper Ross) says handwriting is slower.", True),
        ("accompanied by her dad Liam Henderson today.", True),
    ],
)
def test_versions_scores_and_copy_numbers_pass_and_names_after_a_relation_do_not(
    text: str, found: bool
) -> None:
    assert bool(screen_free_text(text)) is found


ID_NUMBER = "an identification number"
LONG_NUMBER = "a long number such as a hospital or record number"


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("1000000028", ID_NUMBER),  # remainder 3: the check digit is 11 - 3
        ("1000007091", ID_NUMBER),  # remainder 1: the check digit is the remainder
        ("1000010430", ID_NUMBER),  # remainder 0
        ("1000000029", LONG_NUMBER),
        ("1000007092", LONG_NUMBER),
        ("1111111111", LONG_NUMBER),  # passes the sum, but no one is given ten equal digits
    ],
)
def test_an_iranian_national_code_is_told_from_other_long_numbers_by_its_check_digit(
    number, message
):
    assert screen_free_text(f"code {number} given") == [message]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("social ins. 130 692 551", [ID_NUMBER]),  # a doubled 5 counts 1 towards the sum
        ("social ins. 130 692 552", []),
    ],
)
def test_a_canadian_insurance_number_is_one_when_its_luhn_sum_holds(text, found):
    assert screen_free_text(text) == found


@pytest.mark.parametrize(
    ("text", "found"),
    [("seen on monday", True), ("the baton monday", False), ("plan_on monday", False)],
)
def test_a_keyword_inside_a_longer_word_does_not_start_a_date(text, found):
    assert bool(screen_free_text(text)) is found


def test_the_kinds_found_come_in_the_order_of_the_categories():
    text = "born 12/03/2019, call 0912 345 6789, seen by Dr. Smith"
    assert screen_categories(text) == ["date", "name", "phone"]
    assert screen_categories("normal conus") == []
