"""``GET /api/v1/search/persons`` and ``/search/vehicles``: search for agencies' systems
(CONTRACT §3)."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ciss.models import RegistrationStatus
from ciss.search import (
    NOTHING_TO_SEARCH,
    PersonSearchParameters,
    PersonSearchResultsSerializer,
    given_parameters,
    persons_search,
    results_payload,
)
from ciss.vehicle_search import VehicleQueryError, VehicleResult, parse_query, vehicles_search
from obts.access import Purpose
from obts.models import Flag
from portal.api.authentication import request_client
from portal.models.api_clients import ApiScope

# What ``?name=Mickey Neuman&dob=1985-11-11&sex=F`` answers.
EXAMPLE_RESULTS = {
    "count": 2,
    "results": [
        {
            "id": "6f1f3f9e-2b8e-4a51-9d6c-3d0f1c2b7a10",
            "score": 0.9799,
            "first_name": "Michaela",
            "middle_name": "",
            "last_name": "Neumann",
            "suffix": "",
            "dob": "1985-11-11",
            "sex": "F",
            "matched_name": "Mickey Neumann",
            "flags": ["wanted", "protective_order"],
            "status": "pretrial",
            "reasons": [
                "surname sounds alike (Neuman ~ Neumann)",
                "same first name",
                "same date of birth",
                "matched alias Mickey Neumann",
            ],
        },
        {
            "id": "0b6c43a2-90d4-4f8e-b1a7-5e2f7d9c4e21",
            "score": 0.7141,
            "first_name": "Michael",
            "middle_name": "",
            "last_name": "Newman",
            "suffix": "",
            "dob": "1985-11-17",
            "sex": "M",
            "matched_name": "Michael Newman",
            "flags": [],
            "status": "no_active_involvement",
            "reasons": [
                "surname sounds alike (Neuman ~ Newman)",
                "nickname Mickey → Michael",
                "date of birth differs by one digit",
                "sex differs (F vs M)",
            ],
        },
    ],
}


class PersonSearchView(APIView):
    """Persons by name, date of birth and identifiers, best first."""

    required_scopes = frozenset({ApiScope.SEARCH_READ})

    @extend_schema(
        operation_id="search_persons",
        summary="Search persons",
        description=(
            'Persons of the master name index by `name` (free text: "first last" or '
            '"last, first", with or without middle names) or `first_name`/`last_name`, '
            "with an optional date of birth and sex, and by exact identifiers. Any one of "
            "a name part or an identifier is enough; empty parameters are ignored. "
            "Misspellings, phonetic spellings, nicknames, swapped first and last names, "
            "hyphenated or compound surnames, accents and a wrong digit in the date of "
            "birth still find the person.\n\n"
            "Results are best first, each person once (a person merged into another "
            "answers as the survivor). A holder of an exact `sid`, `fbi_number` or "
            "`dl_number` ranks first with `score` 1.0; the others score in [0, 1] and are "
            "shown down to a floor 70% of the way from what a stranger would score to what "
            "a perfect match could, for the fields given. `matched_name` is the name that "
            "matched (an alias, perhaps); `flags` are in the record's order, wanted first; "
            "`reasons` say why in plain words. Every search is audited with its "
            "parameters, purpose and the persons shown."
        ),
        parameters=[PersonSearchParameters],
        responses={
            200: OpenApiResponse(
                PersonSearchResultsSerializer,
                description="The persons found, best first.",
                examples=[
                    OpenApiExample(
                        "Mickey Neuman, born 1985-11-11, female",
                        value=EXAMPLE_RESULTS,
                        description="`?name=Mickey Neuman&dob=1985-11-11&sex=F`",
                    )
                ],
            ),
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description=(
                    "Bad parameters (each named with its problem), or nothing to search on."
                ),
                examples=[
                    OpenApiExample(
                        "Bad date of birth",
                        value={
                            "dob": [
                                "Date has wrong format. Use one of these formats instead: "
                                "YYYY-MM-DD."
                            ]
                        },
                    ),
                    OpenApiExample(
                        "Nothing to search on", value={"non_field_errors": [NOTHING_TO_SEARCH]}
                    ),
                ],
            ),
            401: OpenApiResponse(description="No key, or a bad one."),
            403: OpenApiResponse(description="The key lacks the search:read scope."),
        },
        tags=["search"],
    )
    def get(self, request: Request) -> Response:
        parameters = PersonSearchParameters(data=given_parameters(request.query_params))
        parameters.is_valid(raise_exception=True)
        client = request_client(request)
        assert client is not None  # noqa: S101  (HasRequiredScopes let only clients through)
        hits = persons_search(
            search=parameters.search(), api_client=client, request=request._request
        )
        return Response(results_payload(hits))


class VehicleSearchParameters(serializers.Serializer[Any]):
    plate = serializers.CharField(
        required=False,
        max_length=20,
        help_text="Whole plate, or partial with * (any run) and ? (one character); O/0 and "
        "I/1 are read alike. At least three known characters in a partial plate.",
    )
    state = serializers.CharField(
        required=False, max_length=10, help_text="Two-letter state or province code."
    )
    vin = serializers.CharField(required=False, max_length=40, help_text="Exact VIN.")
    limit = serializers.IntegerField(required=False, default=10, min_value=1, max_value=100)
    purpose = serializers.ChoiceField(required=False, choices=Purpose.choices)


class VehicleOwnerSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    name = serializers.CharField()
    flags = serializers.ListField(child=serializers.ChoiceField(choices=Flag.choices))


class VehicleResultSerializer(serializers.Serializer[VehicleResult]):
    id = serializers.UUIDField(source="vehicle.public_id")
    plate = serializers.CharField(source="vehicle.plate")
    plate_state = serializers.CharField(source="vehicle.plate_state")
    plate_type = serializers.CharField(source="vehicle.plate_type")
    vin = serializers.CharField(source="vehicle.vin")
    year = serializers.IntegerField(source="vehicle.year", allow_null=True)
    make = serializers.CharField(source="vehicle.make")
    model = serializers.CharField(source="vehicle.model")
    body_style = serializers.CharField(source="vehicle.style")
    color = serializers.CharField(source="vehicle.color")
    description = serializers.CharField(source="vehicle.description")
    registration_status = serializers.ChoiceField(choices=RegistrationStatus.choices)
    registration_expires = serializers.DateField(
        source="vehicle.registration_expires", allow_null=True
    )
    expired = serializers.BooleanField(help_text="The registration has run out.")
    stolen = serializers.BooleanField(source="vehicle.stolen", help_text="Reported stolen.")
    matched = serializers.CharField(help_text="How the plate or VIN matched, in words.")
    owner_name = serializers.CharField(source="vehicle.owner_name")
    owner = VehicleOwnerSerializer(
        allow_null=True, help_text="The registered owner in the master name index, if any."
    )


class VehicleSearchResultsSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField()
    results = VehicleResultSerializer(many=True)


class VehicleSearchView(APIView):
    """Vehicles by plate (whole or partial) and state, or by VIN."""

    required_scopes = frozenset({ApiScope.SEARCH_READ})

    @extend_schema(
        operation_id="search_vehicles",
        summary="Search vehicles",
        description=(
            "Registered vehicles by `plate` (with `state` to narrow it) or `vin`. A whole "
            "plate matches whichever way O/0 and I/1 were typed, the exact spelling first; "
            "a partial plate uses `*` and `?`. Each result gives the registration status "
            "and expiry (`expired` when the expiry has passed), whether the vehicle is "
            "reported stolen, its description, and the registered owner with the owner's "
            "flags (wanted first). Every search is audited with its purpose and what was "
            "shown."
        ),
        parameters=[VehicleSearchParameters],
        responses={
            200: VehicleSearchResultsSerializer,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Bad parameters, each named with its problem.",
                examples=[
                    OpenApiExample(
                        "Partial plate too short",
                        value={"plate": ["A partial plate needs at least 3 known characters."]},
                    )
                ],
            ),
            401: OpenApiResponse(description="No key, or a bad one."),
            403: OpenApiResponse(description="The key lacks the search:read scope."),
        },
        tags=["search"],
    )
    def get(self, request: Request) -> Response:
        given = {k: v for k, v in request.query_params.items() if str(v).strip()}
        parameters = VehicleSearchParameters(data=given)
        parameters.is_valid(raise_exception=True)
        data = parameters.validated_data
        try:
            query = parse_query(
                plate=data.get("plate", ""),
                state=data.get("state", ""),
                vin=data.get("vin", ""),
                limit=data["limit"],
            )
        except VehicleQueryError as error:
            raise ValidationError({error.field: [error.message]}) from error
        client = request_client(request)
        assert client is not None  # noqa: S101  (HasRequiredScopes let only clients through)
        results = vehicles_search(
            query,
            purpose=data.get("purpose", ""),
            api_client=client,
            request=request._request,
        )
        return Response({"count": len(results), "results": [vehicle_payload(r) for r in results]})


def vehicle_payload(result: VehicleResult) -> dict[str, Any]:
    """One result as ``VehicleResultSerializer`` documents it, built directly: a
    serializer costs more than the search itself at this endpoint's rate."""
    vehicle, owner = result.vehicle, result.owner
    expires = vehicle.registration_expires
    return {
        "id": str(vehicle.public_id),
        "plate": vehicle.plate,
        "plate_state": vehicle.plate_state,
        "plate_type": vehicle.plate_type,
        "vin": vehicle.vin,
        "year": vehicle.year,
        "make": vehicle.make,
        "model": vehicle.model,
        "body_style": vehicle.style,
        "color": vehicle.color,
        "description": vehicle.description(),
        "registration_status": result.registration_status,
        "registration_expires": expires.isoformat() if expires is not None else None,
        "expired": result.expired,
        "stolen": vehicle.stolen,
        "matched": result.matched,
        "owner_name": vehicle.owner_name,
        "owner": (
            {"id": owner.id, "name": owner.name, "flags": list(owner.flags)}
            if owner is not None
            else None
        ),
    }
