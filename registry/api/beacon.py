"""The Beacon v2 endpoint (`/api/beacon/v2/`): the "individuals" entry type, boolean and count.

Thin views over registry.statistics.beacon (the counting) and beacon_request.py (reading the
request); this module gives the answers the shapes of the Beacon v2 framework (v2.0.0): `meta`
with the beacon's id, the API version, the granularity returned and the request as read;
`responseSummary` with `exists` and, at count granularity, `numTotalResults`; and errors as
`{"meta": ..., "error": {"errorCode": ..., "errorMessage": ...}}` whatever went wrong (401,
403, 400, 404, 429 ...). docs/beacon.md says what each endpoint answers and to whom.

The informational endpoints (`/`, `/info`, `/service-info`, `/map`, `/configuration`,
`/entry_types`) hold no patient data and answer anyone, as network aggregators expect;
`/filtering_terms` and `/individuals` need a token of a role that may ask (`can_ask_beacon`).
The Beacon is described by its own specification, not by the registry's OpenAPI schema.
"""

from __future__ import annotations

from typing import Any, Final

from django.conf import settings
from rest_framework import status
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from registry.formengine.hpo import hpo_release
from registry.rest.throttling import BeaconRateThrottle, TokenRateThrottle
from registry.statistics.beacon import (
    BeaconCount,
    UnknownFilter,
    can_ask_beacon,
    count_individuals,
    filtering_terms,
)
from registry.statistics.services import do_record_beacon_query

from .beacon_request import (
    API_VERSION,
    DEFAULT_GRANULARITY,
    BeaconRequest,
    BeaconRequestError,
    default_summary,
    from_body,
    from_query,
)
from .errors import exception_handler

RETURNED_SCHEMAS: Final = [{"entityType": "individual", "schema": "beacon-individual-v2.0.0"}]
SPECIFICATION: Final = "https://raw.githubusercontent.com/ga4gh-beacon/beacon-v2/main"

ENTRY_TYPE: Final = {
    "id": "individual",
    "name": "Individual",
    "description": "A patient of the registry; only counts are ever answered.",
    "ontologyTermForThisType": {"id": "NCIT:C25190", "label": "Person"},
    "partOfSpecification": "Beacon v2.0.0",
    "defaultSchema": {
        "id": "beacon-individual-v2.0.0",
        "name": "Default schema for an individual",
        "referenceToSchemaDefinition": (
            f"{SPECIFICATION}/models/json/beacon-v2-default-model/individuals/defaultSchema.json"
        ),
        "schemaVersion": "v2.0.0",
    },
    "nonFilteredQueriesAllowed": True,
}

RESOURCES: Final = [
    {
        "id": "hp",
        "name": "Human Phenotype Ontology",
        "url": "http://purl.obolibrary.org/obo/hp.owl",
        "nameSpacePrefix": "HP",
        "iriPrefix": "http://purl.obolibrary.org/obo/HP_",
    },
    {
        "id": "ordo",
        "name": "Orphanet Rare Disease Ontology",
        "url": "http://www.orphadata.org/data/ORDO/ordo_orphanet.owl",
        "nameSpacePrefix": "ORPHA",
        "iriPrefix": "http://www.orpha.net/ORDO/Orphanet_",
    },
    {
        "id": "ncit",
        "name": "NCI Thesaurus",
        "url": "http://purl.obolibrary.org/obo/ncit.owl",
        "nameSpacePrefix": "NCIT",
        "iriPrefix": "http://purl.obolibrary.org/obo/NCIT_",
    },
]

MAY_ASK: Final = (
    "The Beacon answers researchers, curators and administrators. Site coordinators find "
    "their sites' figures, and the registry's, on the statistics pages."
)


class MayAskBeacon(BasePermission):
    message = MAY_ASK

    def has_permission(self, request: Request, view: Any) -> bool:
        return can_ask_beacon(request.user)


def informational_meta() -> dict[str, Any]:
    return {
        "beaconId": settings.BEACON_ID,
        "apiVersion": API_VERSION,
        "returnedSchemas": RETURNED_SCHEMAS,
    }


def response_meta(summary: dict[str, Any], granularity: str) -> dict[str, Any]:
    return {
        **informational_meta(),
        "returnedGranularity": granularity,
        "receivedRequestSummary": summary,
    }


def error_response(code: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        {
            "meta": response_meta(default_summary(), DEFAULT_GRANULARITY),
            "error": {"errorCode": code, "errorMessage": message},
        },
        status=code,
        headers=headers,
    )


def _message(data: Any) -> str:
    """The first sentence of DRF's error body (`{"detail": ...}` or field -> messages)."""
    while isinstance(data, dict | list) and data:
        if isinstance(data, dict):
            key = "detail" if "detail" in data else next(iter(data))
            data = data[key]
        else:
            data = data[0]
    return str(data) if data else "The request could not be answered."


def beacon_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every refusal of a Beacon view in Beacon's error shape, with the API's status codes."""
    if isinstance(exc, BeaconRequestError):
        return error_response(status.HTTP_400_BAD_REQUEST, exc.message)
    if isinstance(exc, UnknownFilter):
        return error_response(status.HTTP_400_BAD_REQUEST, exc.message)
    response = exception_handler(exc, context)
    if response is None:
        return None
    headers = {
        name: response[name] for name in ("Retry-After", "WWW-Authenticate") if name in response
    }
    return error_response(response.status_code, _message(response.data), headers)


class BeaconView(APIView):
    """What every Beacon view shares: its error shape, and no place in the OpenAPI schema."""

    schema = None
    permission_classes = [MayAskBeacon]

    def get_exception_handler(self) -> Any:
        return beacon_exception_handler


class InformationalView(BeaconView):
    permission_classes = [AllowAny]


class BeaconInfo(InformationalView):
    def get(self, request: Request) -> Response:
        return Response(
            {
                "meta": informational_meta(),
                "response": {
                    "id": settings.BEACON_ID,
                    "name": settings.BEACON_NAME,
                    "apiVersion": API_VERSION,
                    "environment": settings.BEACON_ENVIRONMENT,
                    "organization": {
                        "id": settings.BEACON_ID,
                        "name": settings.BEACON_ORGANIZATION,
                        "welcomeUrl": request.build_absolute_uri("/"),
                    },
                    "description": (
                        "How many patients of the registry match phenotypes (HPO, with "
                        "descendants), rare diseases (ORPHA), sex and age at enrolment. "
                        "Counts only, small counts withheld; a token is needed."
                    ),
                    "welcomeUrl": request.build_absolute_uri("/"),
                },
            }
        )


class ServiceInfo(InformationalView):
    """GA4GH service-info 1.0, as Beacon v2 asks of `/service-info`."""

    def get(self, request: Request) -> Response:
        return Response(
            {
                "id": settings.BEACON_ID,
                "name": settings.BEACON_NAME,
                "type": {"group": "org.ga4gh", "artifact": "beacon", "version": API_VERSION},
                "description": "Counts of the registry's patients by phenotype, disease, "
                "sex and age.",
                "organization": {
                    "name": settings.BEACON_ORGANIZATION,
                    "url": request.build_absolute_uri("/"),
                },
                "version": API_VERSION,
                "environment": settings.BEACON_ENVIRONMENT,
            }
        )


class BeaconMap(InformationalView):
    def get(self, request: Request) -> Response:
        root = request.build_absolute_uri("/api/beacon/v2/")
        return Response(
            {
                "meta": informational_meta(),
                "response": {
                    "$schema": f"{SPECIFICATION}/framework/json/configuration/beaconMapSchema.json",
                    "endpointSets": {
                        "individual": {
                            "entryType": "individual",
                            "rootUrl": f"{root}individuals",
                            "filteringTermsUrl": f"{root}filtering_terms",
                        }
                    },
                },
            }
        )


class BeaconConfiguration(InformationalView):
    def get(self, request: Request) -> Response:
        production = "PROD" if settings.BEACON_ENVIRONMENT == "prod" else "DEV"
        return Response(
            {
                "meta": informational_meta(),
                "response": {
                    "$schema": (
                        f"{SPECIFICATION}/framework/json/configuration/"
                        "beaconConfigurationSchema.json"
                    ),
                    "maturityAttributes": {"productionStatus": production},
                    "securityAttributes": {
                        "defaultGranularity": DEFAULT_GRANULARITY,
                        "securityLevels": ["REGISTERED"],
                    },
                    "entryTypes": {"individual": ENTRY_TYPE},
                },
            }
        )


class EntryTypes(InformationalView):
    def get(self, request: Request) -> Response:
        return Response(
            {"meta": informational_meta(), "response": {"entryTypes": {"individual": ENTRY_TYPE}}}
        )


class FilteringTerms(BeaconView):
    def get(self, request: Request) -> Response:
        resources = [dict(resource) for resource in RESOURCES]
        resources[0]["version"] = hpo_release().version
        return Response(
            {
                "meta": informational_meta(),
                "response": {"filteringTerms": filtering_terms(), "resources": resources},
            }
        )


def answer_individuals(user: Any, query: BeaconRequest) -> Response:
    """Count, audit and render one query of individuals."""
    answer = count_individuals(user, query.filters)
    returned = "boolean" if query.requested_granularity == "boolean" else "count"
    if answer.suppressed:
        returned = "boolean"
    do_record_beacon_query(
        user,
        query.filters,
        requested=query.requested_granularity,
        returned=returned,
        answer=answer,
    )
    summary: dict[str, Any] = {"exists": answer.exists}
    if returned == "count":
        summary["numTotalResults"] = answer.count
    body: dict[str, Any] = {
        "meta": response_meta(query.summary, returned),
        "responseSummary": summary,
    }
    if answer.suppressed:
        body["info"] = {"messages": [fewer_than(answer)]}
    return Response(body)


def fewer_than(answer: BeaconCount) -> str:
    return (
        f"Fewer than {answer.threshold} individuals match: counts below {answer.threshold} "
        "are not given, so only whether any match is answered."
    )


class Individuals(BeaconView):
    throttle_classes = [TokenRateThrottle, BeaconRateThrottle]

    def get(self, request: Request) -> Response:
        return answer_individuals(request.user, from_query(request.query_params))

    def post(self, request: Request) -> Response:
        # A body the bounded parser refuses raises here, and answers in Beacon's error shape.
        return answer_individuals(request.user, from_body(request.data))
