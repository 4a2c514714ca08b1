"""The Beacon v2 endpoint: counts of individuals by HPO (with descendants), ORPHA, sex and age,
small counts withheld, for researchers, curators and administrators by token, rate-limited,
audited, and every answer in the shape of the Beacon v2 framework's schemas."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from registry.audit.models import AuditEvent
from registry.formengine.hpo import hpo_release
from registry.people.scoping import scoped_to
from registry.statistics.beacon import TermFilter, count_individuals
from tests.api.beacon_schemas import problems
from tests.exchange.registry_data import enrol, save
from tests.factories import UserFactory, api_token_for

pytestmark = pytest.mark.django_db

BEACON = "/api/beacon/v2/"
INDIVIDUALS = f"{BEACON}individuals"

MYELOMENINGOCELE = "HP:0002475"
OPEN_NEURAL_TUBE_DEFECT = "HP:0034237"  # Myelomeningocele's parent: annotated on no form
KALLMANN = "ORPHA:478"
FEMALE, MALE = "NCIT:C16576", "NCIT:C20197"


def enrolment(age_months: int, diagnosis: str) -> dict[str, Any]:
    return {
        "enrol_age_months": age_months,
        "handedness": "right",
        "consent_registry": "1",
        "consent_recontact": "0",
        "primary_diagnosis": diagnosis,
    }


@pytest.fixture
def cohort(registry_forms, site_a, site_b, coordinator_a, coordinator_b):
    """Six synthetic patients at two sites:

    | patient | sex | age at enrolment | recorded |
    | --- | --- | --- | --- |
    | a1 | female | 30 months | myelomeningocele (enrolment) |
    | a2 | male | 84 | Kallmann syndrome (enrolment) |
    | a3 | female | 150 | corpus callosum agenesis; Chiari type I (lesion form) |
    | b1 | male | 130 | myelomeningocele |
    | b2 | female | 200 | spina bifida occulta; Kallmann (mirror movements v2, a checkbox) |
    | b3 | female | 40 | enrolled, no form |
    """
    a1 = enrol(coordinator_a, site_a, "A1", sex="female")
    save(coordinator_a, a1, "enrollment", enrolment(30, "cmmc"))
    a2 = enrol(coordinator_a, site_a, "A2", sex="male")
    save(coordinator_a, a2, "enrollment", enrolment(84, "kallmann"))
    a3 = enrol(coordinator_a, site_a, "A3", sex="female")
    save(coordinator_a, a3, "enrollment", enrolment(150, "acc"))
    save(
        coordinator_a,
        a3,
        "dysraphic_lesion",
        {"lesion_type": "occ_dermal_sinus", "chiari": "1", "chiari_type": "type1"},
        status="incomplete",
    )
    b1 = enrol(coordinator_b, site_b, "B1", sex="male")
    save(coordinator_b, b1, "enrollment", enrolment(130, "cmmc"))
    b2 = enrol(coordinator_b, site_b, "B2", sex="female")
    save(coordinator_b, b2, "enrollment", enrolment(200, "sb_occulta"))
    save(
        coordinator_b,
        b2,
        "mirror_movements",
        {
            "mm_age_months": 210,
            "mm_present": "1",
            "mm_classification": "associated",
            "associated_conditions": ["kallmann"],
        },
        number=2,
        status="incomplete",
    )
    enrol(coordinator_b, site_b, "B3", sex="female")


@pytest.fixture
def threshold_two(settings):
    settings.STATS_SUPPRESSION_THRESHOLD = 2


@pytest.fixture
def asker(researcher) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(researcher)}")
    return client


@pytest.fixture(autouse=True)
def fresh_counts():
    cache.clear()
    yield
    cache.clear()


def ask(client: APIClient, *filters: Any, granularity: str = "count") -> Any:
    response = client.post(
        INDIVIDUALS,
        {"query": {"filters": list(filters), "requestedGranularity": granularity}},
        format="json",
    )
    return response


def counted(client: APIClient, *filters: Any) -> int | None:
    response = ask(client, *filters)
    assert response.status_code == 200, response.content
    body = response.json()
    assert problems(_schema_of(body), body) == []
    return body["responseSummary"].get("numTotalResults")


def _schema_of(body: dict[str, Any]) -> str:
    if body["meta"]["returnedGranularity"] == "count":
        return "responses/beaconCountResponse"
    return "responses/beaconBooleanResponse"


# --- Counting -----------------------------------------------------------------------------------


def test_an_hpo_term_counts_the_patients_recorded_with_it(cohort, threshold_two, asker):
    assert counted(asker, {"id": MYELOMENINGOCELE}) == 2


def test_a_parent_term_finds_patients_recorded_with_a_child_term(cohort, threshold_two, asker):
    assert MYELOMENINGOCELE in hpo_release().descendants(OPEN_NEURAL_TUBE_DEFECT)
    assert counted(asker, {"id": OPEN_NEURAL_TUBE_DEFECT}) == 2
    # Two levels up: Neural tube defect holds myelomeningocele (a1, b1), spina bifida occulta
    # (b2) and the dermal sinus tract of a3's lesion form.
    assert counted(asker, {"id": "HP:0045005"}) == 4


def test_without_descendants_only_the_term_itself_counts(cohort, threshold_two, asker):
    refused = ask(asker, {"id": OPEN_NEURAL_TUBE_DEFECT, "includeDescendantTerms": False})
    assert refused.status_code == 400
    assert OPEN_NEURAL_TUBE_DEFECT in refused.json()["error"]["errorMessage"]
    assert counted(asker, {"id": MYELOMENINGOCELE, "includeDescendantTerms": False}) == 2


def test_a_yes_no_field_and_a_choice_both_record_a_term(cohort, threshold_two, asker, curator):
    # Chiari malformation: a3's lesion form answers the yes/no field Yes, and its type I (a
    # child term) is a choice; a3 counts once. Alone it is below the threshold.
    response = ask(asker, {"id": "HP:0002308"})
    assert response.json()["responseSummary"] == {"exists": True}
    event = AuditEvent.objects.filter(action="beacon.query").latest("pk")
    assert event.context["count"] == 1


def test_an_orpha_code_counts_radio_answers_and_ticked_checkboxes(cohort, threshold_two, asker):
    assert counted(asker, {"id": KALLMANN}) == 2
    assert counted(asker, KALLMANN) == 2  # a filter may be its id alone


def test_sex_filters_by_the_patient_record(cohort, threshold_two, asker):
    assert counted(asker, {"id": FEMALE}) == 4
    assert counted(asker, {"id": MALE}) == 2
    assert counted(asker, {"id": "NCIT:C28421", "operator": "=", "value": FEMALE}) == 4
    assert counted(asker, {"id": "ncit:C28421", "operator": "=", "value": [FEMALE, MALE]}) == 6


def test_age_ranges_read_the_age_at_enrolment(cohort, threshold_two, asker):
    assert counted(asker, {"id": "age", "operator": ">=", "value": "P10Y"}) == 3
    assert counted(asker, {"id": "age", "operator": "<", "value": "P10Y"}) == 2
    assert counted(asker, {"id": "age", "operator": "<", "value": "P2Y6M"}) == 0
    between = [
        {"id": "age", "operator": ">", "value": "P7Y"},
        {"id": "age", "operator": "<", "value": "P150M"},
    ]
    # b1 alone (a2's 84 months are not more than P7Y): below the threshold of two.
    assert ask(asker, *between).json()["responseSummary"] == {"exists": True}
    between[0]["operator"] = ">="
    assert counted(asker, *between) == 2


def test_filters_all_hold_together(cohort, threshold_two, asker):
    assert counted(asker, {"id": FEMALE}, {"id": "age", "operator": ">=", "value": "P10Y"}) == 2
    assert counted(asker, {"id": FEMALE}, {"id": MALE}) == 0
    body = ask(asker, {"id": MYELOMENINGOCELE}, {"id": MALE}).json()
    assert body["responseSummary"] == {"exists": True}  # b1 alone


def test_no_filter_counts_every_patient(cohort, threshold_two, asker):
    assert counted(asker) == 6


def test_nobody_matching_is_a_count_of_zero(cohort, threshold_two, asker):
    body = ask(asker, {"id": MYELOMENINGOCELE}, {"id": "NCIT:C17998"}).json()
    assert body["responseSummary"] == {"exists": False, "numTotalResults": 0}


# --- Suppression and granularity ------------------------------------------------------------


def test_a_count_below_the_threshold_is_never_in_the_answer(cohort, asker):
    # The default threshold is 5: the four women match, and only "fewer than 5" is said.
    response = ask(asker, {"id": FEMALE})
    body = response.json()
    assert body["responseSummary"] == {"exists": True}
    assert body["meta"]["returnedGranularity"] == "boolean"
    assert "Fewer than 5" in body["info"]["messages"][0]
    assert "numTotalResults" not in response.content.decode()
    assert "4" not in json.dumps({k: v for k, v in body.items() if k != "meta"})
    assert problems("responses/beaconBooleanResponse", body) == []


def test_a_count_at_the_threshold_is_given(cohort, asker, settings):
    settings.STATS_SUPPRESSION_THRESHOLD = 4
    assert counted(asker, {"id": FEMALE}) == 4


def test_boolean_is_answered_when_asked(cohort, threshold_two, asker):
    body = ask(asker, {"id": FEMALE}, granularity="boolean").json()
    assert body["responseSummary"] == {"exists": True}
    assert body["meta"]["returnedGranularity"] == "boolean"
    assert "info" not in body


def test_record_granularity_is_answered_with_a_count(cohort, threshold_two, asker):
    body = ask(asker, {"id": FEMALE}, granularity="record").json()
    assert body["meta"]["returnedGranularity"] == "count"
    assert body["responseSummary"] == {"exists": True, "numTotalResults": 4}
    assert body["meta"]["receivedRequestSummary"]["requestedGranularity"] == "record"


def test_a_get_takes_the_filters_as_parameters(cohort, threshold_two, asker):
    response = asker.get(
        INDIVIDUALS, {"filters": f"{FEMALE},age>=P10Y", "requestedGranularity": "count"}
    )
    body = response.json()
    assert body["responseSummary"] == {"exists": True, "numTotalResults": 2}
    assert body["meta"]["receivedRequestSummary"]["filters"] == [FEMALE, "age>=P10Y"]
    assert problems("responses/beaconCountResponse", body) == []
    slashed = asker.get(f"{INDIVIDUALS}/", {"filters": KALLMANN, "requestedGranularity": "count"})
    assert slashed.json()["responseSummary"]["numTotalResults"] == 2


# --- Unknown filters and hostile input ----------------------------------------------------------


@pytest.mark.parametrize(
    "beacon_filter",
    [{"id": "HP:9999999"}, {"id": "ORPHA:1"}, {"id": "HP:0001250"}, {"id": "MONDO:0000001"}],
)
def test_an_unknown_filter_is_a_400_naming_it(cohort, asker, beacon_filter):
    response = ask(asker, beacon_filter)
    assert response.status_code == 400
    body = response.json()
    assert beacon_filter["id"] in body["error"]["errorMessage"]
    assert body["error"]["errorCode"] == 400
    assert problems("responses/beaconErrorResponse", body) == []


DEEP = '{"query": {"filters": ' + "[" * 5000 + "]" * 5000 + "}}"


@pytest.mark.parametrize(
    "body",
    [
        DEEP,
        '{"query": {"filters": [{"id": "HP:0002475\\u0000"}]}}',
        '{"query": {"filters": [{"id": "\\ud800"}]}}',
        '{"query": {"filters": [{"id": "' + "H" * 200_000 + '"}]}}',
        '{"query": {"filters": [{"id": "' + "HP:" + "0" * 5000 + '"}]}}',
        '{"query": {"filters": [' + ", ".join(['"HP:0002475"'] * 21) + "]}}",
        "[1, 2]",
        '"text"',
        "{not json",
        '{"query": []}',
        '{"query": {"filters": {"id": "HP:0002475"}}}',
        '{"query": {"filters": [42]}}',
        '{"query": {"filters": [{"id": 42}]}}',
        '{"query": {"filters": [{"id": "HP:0002475", "extra": 1}]}}',
        '{"query": {"filters": [{"id": "HP:0002475", "operator": ">", "value": "1"}]}}',
        '{"query": {"filters": [{"id": "age", "operator": "~", "value": "P1Y"}]}}',
        '{"query": {"filters": [{"id": "age", "operator": ">", "value": "P1D"}]}}',
        '{"query": {"filters": [{"id": "age", "operator": ">", "value": "P999Y"}]}}',
        '{"query": {"filters": [{"id": "age", "operator": ">", "value": 10}]}}',
        '{"query": {"filters": [{"id": "age"}]}}',
        '{"query": {"filters": [{"id": "NCIT:C28421", "operator": "=", "value": "x:y"}]}}',
        '{"query": {"filters": [{"id": "HP:0002475", "scope": "biosample"}]}}',
        '{"query": {"requestedGranularity": "everything"}}',
        '{"query": {"pagination": {"skip": -1}}}',
        '{"query": {"pagination": {"skip": "\u0663"}}}',
        '{"query": {"testMode": "yes"}}',
        '{"query": {"unknown": 1}}',
        '{"query": {"filters": [{"id": "HP:0002475", "includeDescendantTerms": "no"}]}}',
        '{"query": {"filters": [{"id": "' + "a" * 60 + ":" + "(" * 60 + '"}]}}',
    ],
)
def test_a_hostile_body_is_a_4xx_in_beacons_error_shape(cohort, asker, body):
    response = asker.post(INDIVIDUALS, body.encode(), content_type="application/json")
    assert 400 <= response.status_code < 500, response.content[:300]
    answer = response.json()
    assert answer["error"]["errorCode"] == response.status_code
    assert answer["error"]["errorMessage"]
    assert problems("responses/beaconErrorResponse", answer) == []


@pytest.mark.parametrize(
    "params",
    [
        {"filters": "HP:9999999"},
        {"filters": ",".join(["HP:0002475"] * 21)},
        {"filters": "age>=P1W"},
        {"filters": "age"},
        {"requestedGranularity": "all"},
        {"skip": "-3"},
        {"includeDescendantTerms": "maybe"},
        {"page": "2"},
        {"filters": "x" * 5000},
        "filters=%ED%B3%BF",
        "filters=HP:0002475%00",
        "filters=%FF%FE",
    ],
)
def test_hostile_parameters_are_a_400(cohort, asker, params):
    if isinstance(params, str):
        response = asker.get(f"{INDIVIDUALS}?{params}")
    else:
        response = asker.get(INDIVIDUALS, params)
    assert response.status_code == 400, response.content[:300]
    if "%00" not in str(params):  # a NUL is refused at the door, for every page and API alike
        assert problems("responses/beaconErrorResponse", response.json()) == []


def test_a_body_over_the_size_limit_is_a_413(cohort, asker, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = json.dumps({"query": {"filters": ["HP:0002475"] * 5, "pad": "x" * 2000}})
    response = asker.post(INDIVIDUALS, body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["errorCode"] == 413


# --- Who may ask --------------------------------------------------------------------------------


def test_an_anonymous_query_is_a_401(cohort):
    response = APIClient().post(INDIVIDUALS, {}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["errorCode"] == 401
    assert APIClient().get(f"{BEACON}filtering_terms").status_code == 401


def test_a_wrong_token_is_a_401(cohort):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "A" * 32)
    assert client.get(INDIVIDUALS).status_code == 401


def test_a_coordinator_is_refused_with_a_403_saying_where_to_look(cohort, coordinator_a):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(coordinator_a)}")
    response = ask(client, {"id": FEMALE})
    assert response.status_code == 403
    assert "statistics pages" in response.json()["error"]["errorMessage"]
    assert not AuditEvent.objects.filter(action="beacon.query").exists()


@pytest.mark.parametrize("role", ["curator", "admin"])
def test_curators_and_administrators_may_ask_and_see_suppressed_counts_too(cohort, role):
    user = UserFactory(role=role, is_staff=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    body = ask(client, {"id": FEMALE}).json()
    assert body["responseSummary"] == {"exists": True}


def test_the_beacons_queries_have_a_rate_limit_of_their_own(cohort, asker, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "100/minute", "beacon": "2/minute"},
    }
    assert [ask(asker, {"id": FEMALE}).status_code for _ in range(2)] == [200, 200]
    refused = ask(asker, {"id": FEMALE})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert "Try again" in refused.json()["error"]["errorMessage"]
    # Other requests of the same token still go through, within the API's own limit.
    assert asker.get("/api/v1/forms/").status_code == 200
    assert asker.get(f"{BEACON}filtering_terms").status_code == 200


def test_each_query_is_audited_with_what_was_asked_and_told(cohort, threshold_two, asker):
    ask(asker, {"id": MYELOMENINGOCELE}, {"id": "age", "operator": ">=", "value": "P10Y"})
    event = AuditEvent.objects.filter(action="beacon.query").get()
    assert event.actor.role == "researcher"
    assert event.context["filters"] == [
        {"id": MYELOMENINGOCELE, "includeDescendantTerms": True},
        {"id": "age", "operator": ">=", "months": 120},
    ]
    assert event.context["requested"] == "count" and event.context["returned"] == "boolean"
    assert event.context["suppressed"] is True and event.context["count"] == 1


# --- The informational endpoints ------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "schema"),
    [
        ("", "responses/beaconInfoResponse"),
        ("info", "responses/beaconInfoResponse"),
        ("service-info", "responses/ga4gh-service-info-1-0-0-schema"),
        ("map", "responses/beaconMapResponse"),
        ("configuration", "responses/beaconConfigurationResponse"),
        ("entry_types", "responses/beaconEntryTypesResponse"),
    ],
)
def test_the_informational_endpoints_answer_anyone_in_the_frameworks_shape(
    registry_forms, path, schema
):
    response = APIClient().get(f"{BEACON}{path}")
    assert response.status_code == 200
    assert problems(schema, response.json()) == []


def test_the_filtering_terms_are_the_annotated_terms_sex_and_age(registry_forms, asker):
    response = asker.get(f"{BEACON}filtering_terms")
    body = response.json()
    assert problems("responses/beaconFilteringTermsResponse", body) == []
    ids = {term["id"] for term in body["response"]["filteringTerms"]}
    assert {MYELOMENINGOCELE, KALLMANN, "ORPHA:200", "HP:0007099", FEMALE, MALE} <= ids
    assert {"age", "NCIT:C28421"} <= ids
    # A field's annotation that names its subject (follow-up's mirror movements radio) is no
    # filter; the yes/no field that records the finding is.
    assert "HP:0001335" in ids  # mm_present, a yes/no field
    labels = {term["id"]: term.get("label") for term in body["response"]["filteringTerms"]}
    assert labels[MYELOMENINGOCELE] == "Myelomeningocele"
    assert body["response"]["resources"][0]["version"] == hpo_release().version


def test_the_count_runs_in_the_scope_of_whoever_asks(cohort, coordinator_a):
    # The roles that may ask see every site; the scope is still the net beneath the count.
    with scoped_to(coordinator_a):
        assert count_individuals(coordinator_a, [TermFilter(FEMALE)]).matched == 2  # a1, a3
    with scoped_to(None):
        assert count_individuals(coordinator_a, [TermFilter(FEMALE)]).matched == 0
