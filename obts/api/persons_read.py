"""``GET /api/v1/persons/{id}``: a person's whole record for agencies' systems
(CONTRACT §3), as ``obts.access`` lets an API client see it — criminal history and
registry data, never juvenile or sealed cases. Every read is audited."""

import uuid
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from obts import record_cache
from obts.access import (
    PersonRecordView,
    Purpose,
    access_person_record,
    shown_viewed,
    visibility_for,
)
from obts.api.intake_serializers import AddressOutSerializer
from obts.models import Flag, PersonStatus, Supervision
from obts.selectors import survivor_of
from portal.api.authentication import request_client
from portal.api.plain import plain
from portal.models.api_clients import ApiScope


class RecordProvenanceSerializer(serializers.Serializer[Any]):
    source_system = serializers.CharField()
    source_id = serializers.CharField()
    as_of = serializers.DateTimeField()


class RecordNameSerializer(serializers.Serializer[Any]):
    first_name = serializers.CharField()
    middle_name = serializers.CharField()
    last_name = serializers.CharField()
    suffix = serializers.CharField()
    dob = serializers.DateField(allow_null=True)
    is_primary = serializers.BooleanField()


class RecordIdentifierSerializer(serializers.Serializer[Any]):
    kind = serializers.CharField()
    value = serializers.CharField()
    state = serializers.CharField()


class RecordChargeSerializer(serializers.Serializer[Any]):
    sequence = serializers.IntegerField()
    statute = serializers.CharField()
    description = serializers.CharField()
    charge_class = serializers.CharField()
    counts = serializers.IntegerField()
    plea = serializers.CharField()
    disposition = serializers.CharField()
    disposition_date = serializers.DateField(allow_null=True)


class RecordCaseSerializer(RecordProvenanceSerializer):
    id = serializers.UUIDField(source="public_id")
    docket_number = serializers.CharField()
    incident_number = serializers.CharField()
    court_code = serializers.CharField()
    arresting_agency_ori = serializers.CharField()
    arrest_date = serializers.DateField(allow_null=True)
    arraignment_date = serializers.DateField(allow_null=True)
    next_court_date = serializers.DateField(allow_null=True)
    status = serializers.CharField()
    bail_amount = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    release_conditions = serializers.CharField()
    charges = RecordChargeSerializer(many=True, source="charges.all")


class RecordSentenceSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(source="sentence.public_id")
    case_id = serializers.SerializerMethodField()
    imposed_on = serializers.DateField(source="sentence.imposed_on")
    incarceration_days = serializers.IntegerField(source="sentence.incarceration_days")
    suspended_days = serializers.IntegerField(source="sentence.suspended_days")
    jail_credit_days = serializers.IntegerField(source="sentence.jail_credit_days")
    probation_days = serializers.IntegerField(source="sentence.probation_days")
    conditional_discharge_days = serializers.IntegerField(
        source="sentence.conditional_discharge_days"
    )
    fine_amount = serializers.DecimalField(
        max_digits=10, decimal_places=2, allow_null=True, source="sentence.fine_amount"
    )
    relation = serializers.CharField(source="sentence.relation")
    consecutive_to = serializers.SerializerMethodField()
    starts_on = serializers.DateField(source="sentence.starts_on", allow_null=True)
    max_release_on = serializers.DateField(source="sentence.max_release_on", allow_null=True)
    supervision_ends_on = serializers.DateField(
        source="sentence.supervision_ends_on", allow_null=True
    )
    calculation = serializers.ListField(child=serializers.CharField(), source="steps")
    source_system = serializers.CharField(source="sentence.source_system")
    source_id = serializers.CharField(source="sentence.source_id")
    as_of = serializers.DateTimeField(source="sentence.as_of")

    def get_case_id(self, item: Any) -> uuid.UUID | None:
        case = item.sentence.case
        return case.public_id if case is not None else None

    def get_consecutive_to(self, item: Any) -> uuid.UUID | None:
        """The sentence this one follows, when the client may see it."""
        return item.follows.public_id if item.follows is not None else None


class RecordCustodySerializer(RecordProvenanceSerializer):
    id = serializers.UUIDField(source="public_id")
    facility = serializers.CharField()
    inmate_number = serializers.CharField()
    admission_type = serializers.CharField()
    custody_status = serializers.CharField()
    admitted_on = serializers.DateField()
    released_on = serializers.DateField(allow_null=True)
    release_type = serializers.CharField()


class RecordViolationSerializer(serializers.Serializer[Any]):
    date = serializers.CharField()
    description = serializers.CharField()
    outcome = serializers.CharField()


class RecordSupervisionSerializer(RecordProvenanceSerializer):
    id = serializers.UUIDField(source="public_id")
    kind = serializers.CharField()
    status = serializers.CharField()
    officer_name = serializers.CharField()
    office = serializers.CharField()
    start_date = serializers.DateField()
    end_date = serializers.DateField(allow_null=True)
    conditions = serializers.CharField()
    violations = serializers.SerializerMethodField()

    @extend_schema_field(RecordViolationSerializer(many=True))
    def get_violations(self, supervision: Supervision) -> list[dict[str, str]]:
        """The violations as the source sent them, each with the three keys present."""
        return [
            {key: str(item.get(key) or "") for key in ("date", "description", "outcome")}
            for item in supervision.violations or []
            if isinstance(item, dict)
        ]


class RecordProtectiveOrderSerializer(RecordProvenanceSerializer):
    id = serializers.UUIDField(source="public_id")
    kind = serializers.CharField()
    order_number = serializers.CharField()
    issuing_court = serializers.CharField()
    protected_party = serializers.CharField()
    conditions = serializers.CharField()
    issued_on = serializers.DateField()
    expires_on = serializers.DateField(allow_null=True)
    status = serializers.CharField()


class RecordWarrantSerializer(RecordProvenanceSerializer):
    id = serializers.UUIDField(source="public_id")
    kind = serializers.CharField()
    warrant_number = serializers.CharField()
    issued_on = serializers.DateField()
    court = serializers.CharField()
    offense = serializers.CharField()
    status = serializers.CharField()
    served_on = serializers.DateField(allow_null=True)
    vacated_on = serializers.DateField(allow_null=True)


class RecordRegistrationSerializer(RecordProvenanceSerializer):
    id = serializers.UUIDField(source="public_id")
    registered_on = serializers.DateField()
    term = serializers.CharField()
    term_ends_on = serializers.DateField(allow_null=True)
    compliance_status = serializers.CharField()


class RecordInfractionSerializer(RecordProvenanceSerializer):
    id = serializers.UUIDField(source="public_id")
    ticket_number = serializers.CharField()
    offense_date = serializers.DateField()
    statute = serializers.CharField()
    description = serializers.CharField()
    amount = serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True)
    status = serializers.CharField()


class TimelineEventSerializer(serializers.Serializer[Any]):
    date = serializers.DateField()
    kind = serializers.CharField()
    summary = serializers.CharField()
    source_system = serializers.CharField()


class PersonRecordSerializer(serializers.Serializer[PersonRecordView]):
    """A person's record as the calling client may see it."""

    id = serializers.UUIDField(source="record.person.public_id")
    names = RecordNameSerializer(many=True, source="record.names")
    identifiers = RecordIdentifierSerializer(many=True, source="record.identifiers")
    addresses = AddressOutSerializer(many=True, source="record.addresses")
    sex = serializers.CharField(source="record.person.sex")
    race = serializers.CharField(source="record.person.race")
    height_in = serializers.IntegerField(source="record.person.height_in", allow_null=True)
    weight_lb = serializers.IntegerField(source="record.person.weight_lb", allow_null=True)
    eye_color = serializers.CharField(source="record.person.eye_color")
    hair_color = serializers.CharField(source="record.person.hair_color")
    scars_marks_tattoos = serializers.CharField(source="record.person.scars_marks_tattoos")
    caution = serializers.CharField(source="record.person.caution")
    cases = RecordCaseSerializer(many=True, source="record.cases")
    sentences = RecordSentenceSerializer(many=True)
    custody = RecordCustodySerializer(many=True, source="record.custody")
    supervision = RecordSupervisionSerializer(many=True, source="record.supervisions")
    protective_orders = RecordProtectiveOrderSerializer(many=True, source="record.orders")
    warrants = RecordWarrantSerializer(many=True, source="record.warrants")
    registrations = RecordRegistrationSerializer(many=True, source="record.registrations")
    infractions = RecordInfractionSerializer(many=True, source="record.infractions")
    flags = serializers.ListField(child=serializers.ChoiceField(choices=Flag.choices))
    status = serializers.ChoiceField(choices=PersonStatus.choices)
    timeline = TimelineEventSerializer(many=True)


PURPOSE_PARAMETER = OpenApiParameter(
    "purpose",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    required=False,
    enum=Purpose.values,
    description="Why the record is read; recorded in the audit log with the records served.",
)


class PersonDetailView(APIView):
    """The whole record of one person."""

    required_scopes = frozenset({ApiScope.RECORDS_READ})

    @extend_schema(
        operation_id="persons_retrieve",
        summary="A person's whole record",
        description=(
            "Names, identifiers, addresses, cases with charges and dispositions, sentences "
            "with their computed dates and the calculation explained, custody, supervision, "
            "protective orders, warrants, registrations, infractions, `flags`, `status` and "
            "the `timeline` (oldest first). Juvenile and sealed cases are never served "
            "through the API. A person merged into another answers with the survivor's "
            "record. Every read is audited."
        ),
        parameters=[PURPOSE_PARAMETER],
        responses={
            200: PersonRecordSerializer,
            400: OpenApiResponse(description="Unknown purpose."),
            401: OpenApiResponse(description="No key, or a bad one."),
            403: OpenApiResponse(description="The key lacks the records:read scope."),
            404: OpenApiResponse(description="No person with this id."),
        },
        tags=["persons"],
    )
    def get(self, request: Request, public_id: uuid.UUID) -> Response:
        purpose = request.query_params.get("purpose", "")
        if purpose and purpose not in Purpose.values:
            raise ValidationError(
                {"purpose": [f"Unknown purpose; one of: {', '.join(Purpose.values)}."]}
            )
        client = request_client(request)
        assert client is not None  # noqa: S101  (HasRequiredScopes let only clients through)
        visibility = visibility_for(client)
        person, merged_ids = survivor_of(public_id)
        today = timezone.localdate()
        cache_key = record_cache.key("api", person.pk, visibility, today, requested=public_id)
        entry = record_cache.get(cache_key)
        if entry is None:
            view = access_person_record(
                client, public_id, today=today, survivor=(person, merged_ids)
            )
            # What PersonRecordSerializer(view).data gives, without DRF's per-object cost:
            # a heavy record is some 700 objects (tests compare the two).
            entry = {"data": plain(PersonRecordSerializer)(view), "shown": view.shown()}
            record_cache.put(cache_key, entry)
        shown_viewed(
            person,
            shown=entry["shown"],
            requested_id=public_id,
            merged_ids=merged_ids,
            purpose=purpose or "not stated",
            request=request._request,
            api_client=client,
        )
        return Response(entry["data"])
