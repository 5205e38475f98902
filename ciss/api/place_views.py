"""``GET /api/v1/search/locations``, ``/search/property`` and ``/search/events``: places,
property and events for agencies' systems, with the rules of person search (scope
``search:read``, an optional ``purpose`` recorded in the audit log, ``limit`` 1-100,
empty parameters ignored, a 400 that says so when nothing is left to search on)."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.fields import Field
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ciss import event_search, location_search, property_search
from ciss.models import PropertyCategory, PropertyStatus
from ciss.place_search import DEFAULT_LIMIT, MAX_LIMIT, PlaceQueryError
from obts.access import Purpose
from obts.models import Flag
from portal.api.authentication import request_client
from portal.models import ApiClient
from portal.models.api_clients import ApiScope


def _text(help_text: str, max_length: int) -> serializers.CharField:
    return serializers.CharField(required=False, max_length=max_length, help_text=help_text)


def _limit() -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False,
        default=DEFAULT_LIMIT,
        min_value=1,
        max_value=MAX_LIMIT,
        help_text=f"How many results at most, 1-{MAX_LIMIT} (default {DEFAULT_LIMIT}).",
    )


def _purpose() -> serializers.ChoiceField:
    return serializers.ChoiceField(
        required=False,
        choices=Purpose.choices,
        help_text="Why the search is made; recorded in the audit log.",
    )


def _errors(error: PlaceQueryError) -> ValidationError:
    return ValidationError({error.field or "non_field_errors": [error.message]})


def _client(request: Request) -> ApiClient:
    client = request_client(request)
    assert client is not None  # noqa: S101  (HasRequiredScopes let only clients through)
    return client


def _parameters(
    serializer_class: type[serializers.Serializer[Any]], request: Request
) -> dict[str, Any]:
    """The validated query parameters; empty ones are ignored, as in person search."""
    given = {key: value for key, value in request.query_params.items() if str(value).strip()}
    parameters = serializer_class(data=given)
    parameters.is_valid(raise_exception=True)
    return dict(parameters.validated_data)


def _bad_request(example: str, value: dict[str, list[str]], nothing: str) -> OpenApiResponse:
    return OpenApiResponse(
        OpenApiTypes.OBJECT,
        description="Bad parameters (each named with its problem), or nothing to search on.",
        examples=[
            OpenApiExample(example, value=value),
            OpenApiExample("Nothing to search on", value={"non_field_errors": [nothing]}),
        ],
    )


COMMON_RESPONSES: dict[int, OpenApiResponse] = {
    401: OpenApiResponse(description="No key, or a bad one."),
    403: OpenApiResponse(description="The key lacks the search:read scope."),
}


class PersonBriefSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(help_text="The person's id in the master name index.")
    name = serializers.CharField(help_text="Primary name.")
    flags = serializers.ListField(
        child=serializers.ChoiceField(choices=Flag.choices), help_text="Wanted first."
    )


# ---------------------------------------------------------------------------------------
# Locations


class LocationSearchParameters(serializers.Serializer[Any]):
    address = _text(
        "Free-text address: `12 North Main Street Apt 3, Hartford, CT`. Not with `street`.",
        location_search.ADDRESS_MAX_LENGTH,
    )
    street = _text(
        "Street line alone (`12 N Main St #3`, or `Main St` for the whole street).",
        location_search.ADDRESS_MAX_LENGTH,
    )
    city = _text("City or town.", 60)
    state = _text("Two-letter state code.", 10)
    limit = _limit()
    purpose = _purpose()


class IncidentBriefSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    incident_number = serializers.CharField()
    agency_ori = serializers.CharField()
    kind = serializers.CharField()
    occurred_at = serializers.DateTimeField(allow_null=True)
    status = serializers.CharField()


class PropertyBriefSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    category = serializers.CharField()
    description = serializers.CharField()
    status = serializers.CharField(help_text=", ".join(PropertyStatus.values))


class LocationResultSerializer(serializers.Serializer[location_search.LocationResult]):
    key = serializers.CharField(
        help_text="The normalised address: street line, city, state. It names the place "
        "in other requests."
    )
    address = serializers.CharField(help_text="The address as shown (with ZIP when known).")
    matched = serializers.ChoiceField(
        choices=location_search.MATCH_ORDER,
        help_text="Why it matched: same address, same building (other unit), or a similar "
        "street name.",
    )
    people_count = serializers.IntegerField(help_text="People with this address, ever.")
    people = PersonBriefSerializer(
        source="residents", many=True, help_text="Those living there now, flagged first."
    )
    incident_count = serializers.IntegerField()
    incidents = IncidentBriefSerializer(many=True, help_text="The latest, newest first.")
    property_count = serializers.IntegerField()
    property = PropertyBriefSerializer(source="items", many=True, help_text="Stolen first.")


class LocationSearchResultsSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField()
    results = LocationResultSerializer(many=True, help_text="Best match first.")


class LocationSearchView(APIView):
    """Places by address, with their people, incidents and property."""

    required_scopes = frozenset({ApiScope.SEARCH_READ})

    @extend_schema(
        operation_id="search_locations",
        summary="Search locations",
        description=(
            "Places by `address` (free text) or by `street` with `city` and `state`. The "
            "address is normalised (`12 north main street apt 3` = `12 N MAIN ST #3`) and "
            "matched: the same address first, then other units of the same building, then "
            "other addresses on a street of that name (on PostgreSQL also addresses most "
            "like the one typed, so a typo still finds it). Each result counts the people "
            "who have the address and names the current ones with their flags, counts the "
            "incidents there (latest listed) and the property there (stolen first). Every "
            "search is audited with its purpose and what was shown."
        ),
        parameters=[LocationSearchParameters],
        responses={
            200: LocationSearchResultsSerializer,
            400: _bad_request(
                "Bad state",
                {"state": ["Give the state as its two-letter code (CT, NY)."]},
                location_search.NOTHING_TO_SEARCH,
            ),
            **COMMON_RESPONSES,
        },
        tags=["search"],
    )
    def get(self, request: Request) -> Response:
        data = _parameters(LocationSearchParameters, request)
        try:
            query = location_search.parse_query(
                address=data.get("address", ""),
                street=data.get("street", ""),
                city=data.get("city", ""),
                state=data.get("state", ""),
                limit=data["limit"],
            )
        except PlaceQueryError as error:
            raise _errors(error) from error
        results = location_search.locations_search(
            query,
            purpose=data.get("purpose", ""),
            api_client=_client(request),
            request=request._request,
        )
        return Response(
            LocationSearchResultsSerializer({"count": len(results), "results": results}).data
        )


# ---------------------------------------------------------------------------------------
# Property


class PropertySearchParameters(serializers.Serializer[Any]):
    serial = _text(
        "Serial number, whole (spaces and dashes ignored, O/0 and I/1 read alike) or "
        "partial with * (any run) and ? (one character), at least three known characters.",
        60,
    )
    category = _text("Narrows make/model: " + ", ".join(PropertyCategory.values) + ".", 20)
    make = _text("Contained in the make, ignoring case (`smith` finds Smith & Wesson).", 40)
    model = _text("Contained in the model, ignoring case.", 40)
    status = _text("Only items in this status: " + ", ".join(PropertyStatus.values) + ".", 20)
    limit = _limit()
    purpose = _purpose()


class IncidentLinkSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    incident_number = serializers.CharField()
    agency_ori = serializers.CharField()
    kind = serializers.CharField()


class PropertyResultSerializer(serializers.Serializer[property_search.PropertyResult]):
    id = serializers.UUIDField(source="item.public_id")
    category = serializers.CharField(source="item.category")
    serial_number = serializers.CharField(source="item.serial_number")
    make = serializers.CharField(source="item.make")
    model = serializers.CharField(source="item.model")
    caliber = serializers.CharField(source="item.caliber")
    description = serializers.CharField(help_text="What the item is, in a few words.")
    status = serializers.CharField(
        source="item.status", help_text=", ".join(PropertyStatus.values) + "."
    )
    status_date = serializers.DateField(source="item.status_date", allow_null=True)
    stolen = serializers.BooleanField(help_text="Reported stolen (stolen items come first).")
    agency_ori = serializers.CharField(source="item.agency_ori")
    agency_name = serializers.CharField(help_text="Empty when the portal does not know it.")
    incident_number = serializers.CharField(source="item.incident_number")
    incident = IncidentLinkSerializer(
        allow_null=True, help_text="The incident report, when it is on file."
    )
    owner_name = serializers.CharField(source="item.owner_name")
    owner = PersonBriefSerializer(
        allow_null=True, help_text="The owner in the master name index, with flags."
    )
    matched = serializers.ChoiceField(choices=property_search.MATCH_ORDER)


class PropertySearchResultsSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField()
    results = PropertyResultSerializer(many=True, help_text="Stolen first.")


class PropertySearchView(APIView):
    """Firearms and articles by serial number, or by make and model."""

    required_scopes = frozenset({ApiScope.SEARCH_READ})

    @extend_schema(
        operation_id="search_property",
        summary="Search property",
        description=(
            "Firearms and articles by `serial` (whole, or partial with `*` and `?`), or by "
            "`make` and `model` narrowed by `category`; `status` narrows either. Stolen "
            "items come first. Each result gives the status, a description, the reporting "
            "agency, the incident report and the owner with the owner's flags. Every "
            "search is audited with its purpose and what was shown."
        ),
        parameters=[PropertySearchParameters],
        responses={
            200: PropertySearchResultsSerializer,
            400: _bad_request(
                "Partial serial too short",
                {"serial": ["A partial serial number needs at least 3 known characters."]},
                property_search.NOTHING_TO_SEARCH,
            ),
            **COMMON_RESPONSES,
        },
        tags=["search"],
    )
    def get(self, request: Request) -> Response:
        data = _parameters(PropertySearchParameters, request)
        try:
            query = property_search.parse_query(
                serial=data.get("serial", ""),
                category=data.get("category", ""),
                make=data.get("make", ""),
                model=data.get("model", ""),
                status=data.get("status", ""),
                limit=data["limit"],
            )
        except PlaceQueryError as error:
            raise _errors(error) from error
        results = property_search.property_search(
            query,
            purpose=data.get("purpose", ""),
            api_client=_client(request),
            request=request._request,
        )
        return Response(
            PropertySearchResultsSerializer({"count": len(results), "results": results}).data
        )


# ---------------------------------------------------------------------------------------
# Events


def _renamed(fields: dict[str, Field[Any, Any, Any, Any]], names: dict[str, str]) -> None:
    for old, new in names.items():
        fields[new] = fields.pop(old)


def _day(data: dict[str, Any], name: str) -> str:
    return data[name].isoformat() if name in data else ""


class EventSearchParameters(serializers.Serializer[Any]):
    number = _text(
        "Incident number or docket number, exactly (ignoring case).",
        event_search.NUMBER_MAX_LENGTH,
    )
    # Served as ``from`` and ``to`` (Python names cannot be ``from``): see get_fields.
    date_from = serializers.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        help_text="Happened (or arrested) on or after, YYYY-MM-DD.",
    )
    date_to = serializers.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        help_text="Happened (or arrested) on or before, YYYY-MM-DD.",
    )
    agency = _text("Reporting or arresting agency's ORI, such as CT0006400.", 20)
    kind = _text(
        "Contained in the incident's kind, ignoring case (`burglary`); for court cases, "
        "in a charge's description.",
        event_search.KIND_MAX_LENGTH,
    )
    limit = _limit()
    purpose = _purpose()

    def get_fields(self) -> dict[str, Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        _renamed(fields, {"date_from": "from", "date_to": "to"})
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("from"), attrs.get("to")
        if start and end and start > end:
            raise ValidationError({"to": ["The end of the date range is before its start."]})
        return attrs


class EventPersonSerializer(serializers.Serializer[Any]):
    role = serializers.CharField(help_text="suspect, arrestee, victim, ...; defendant.")
    name = serializers.CharField()
    person = PersonBriefSerializer(
        allow_null=True, help_text="The person in the master name index, with flags."
    )


class EventResultSerializer(serializers.Serializer[event_search.EventResult]):
    type = serializers.ChoiceField(
        source="kind", choices=[event_search.INCIDENT, event_search.CASE]
    )
    id = serializers.UUIDField()
    number = serializers.CharField(help_text="Incident number, or the case's docket.")
    date = serializers.DateField(
        allow_null=True, help_text="When it happened, or the arrest date of a case."
    )
    title = serializers.CharField(help_text="The incident's kind, or `Court case`.")
    status = serializers.CharField()
    agency_ori = serializers.CharField()
    agency_name = serializers.CharField()
    incident_number = serializers.CharField()
    docket_number = serializers.CharField()
    court_code = serializers.CharField()
    location = serializers.CharField(help_text="Where an incident happened.")
    location_key = serializers.CharField(help_text="The place's normalised address key.")
    people = EventPersonSerializer(
        many=True, help_text="People named in an incident, or a case's defendant."
    )
    matched = serializers.CharField(help_text="What matched, in words.")


class EventSearchResultsSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField()
    results = EventResultSerializer(many=True, help_text="Newest first.")


class EventSearchView(APIView):
    """Incident reports and court cases by number, dates, agency and kind."""

    required_scopes = frozenset({ApiScope.SEARCH_READ})

    @extend_schema(
        operation_id="search_events",
        summary="Search events",
        description=(
            "Incident reports and court cases together, newest first: by `number` (an "
            "incident or docket number, matching both the reports and the cases that came "
            "of them), a date range `from`-`to`, the agency's ORI `agency`, and `kind`. "
            "Incidents list the people named with their roles and flags; cases their "
            "defendant. Court cases are criminal history: they are included only for a "
            "key that also holds the `records:read` scope, and juvenile and sealed cases "
            "never. Every search is audited with its purpose and what was shown."
        ),
        parameters=[EventSearchParameters],
        responses={
            200: EventSearchResultsSerializer,
            400: _bad_request(
                "Bad ORI",
                {"agency": ["An ORI is the two-letter state code and seven letters or digits."]},
                event_search.NOTHING_TO_SEARCH,
            ),
            **COMMON_RESPONSES,
        },
        tags=["search"],
    )
    def get(self, request: Request) -> Response:
        data = _parameters(EventSearchParameters, request)
        try:
            query = event_search.parse_query(
                number=data.get("number", ""),
                date_from=_day(data, "from"),
                date_to=_day(data, "to"),
                agency=data.get("agency", ""),
                kind=data.get("kind", ""),
                limit=data["limit"],
            )
        except PlaceQueryError as error:
            raise _errors(error) from error
        results = event_search.events_search(
            query,
            purpose=data.get("purpose", ""),
            api_client=_client(request),
            request=request._request,
        )
        return Response(
            EventSearchResultsSerializer({"count": len(results), "results": results}).data
        )
