"""``/api/v1/exchanges/``: exchanges from police records systems (CONTRACT §3).

- ``POST /api/v1/exchanges/`` with an ``Idempotency-Key`` header: 202
  ``{"id", "status", "person_id", "deliveries"}``; a replay of the same key and body
  answers the first answer again (``Idempotent-Replayed: true``); 400 field errors,
  403 another agency's ORI, 409 the key was used for another body.
- ``GET /api/v1/exchanges/{id}``: the exchange's status and per-recipient delivery
  states, for the agency that sent it.
- ``POST /api/v1/exchanges/{id}/attachments/``: one file (multipart field ``file``).
- ``GET /api/v1/exchanges/schemas/``: the JSON Schema of every type.
"""

from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ciss.exchanges.attachments import AttachmentRefused, attachment_add, attachment_payload
from ciss.exchanges.intake import ExchangeRefused, exchange_submit
from ciss.exchanges.schemas import schema_for
from ciss.models import Delivery, Exchange, ExchangeType
from portal.api.authentication import calling_client
from portal.models.api_clients import ApiScope

EXAMPLE_NOTICE = {
    "type": "early_arrest_notice",
    "agency_ori": "CT0001000",
    "incident_number": "2026-000123",
    "occurred_at": "2026-11-20T14:03:00-05:00",
    "subject": {
        "first_name": "Michaela",
        "last_name": "Neumann",
        "dob": "1985-11-11",
        "sex": "F",
        "sid": "",
        "fbi_number": "",
        "dl_number": "",
        "address": {"line1": "8 Stanley St", "city": "Hartford", "state": "CT"},
    },
    "charges": [
        {
            "statute": "53a-125b",
            "description": "Larceny 6th degree",
            "severity": "misdemeanor",
            "class": "C",
            "counts": 1,
        }
    ],
    "court": {"code": "GA14"},
    "arraignment_date": "2026-11-21",
    "narrative": "",
}
EXAMPLE_SCHEDULE = {
    "type": "court_schedule_notification",
    "agency_ori": "CT015013J",
    "docket_number": "H14H-CR26-0123456",
    "incident_number": "2026-000123",
    "arresting_agency_ori": "CT0001000",
    "court": {"code": "GA14"},
    "court_date": "2026-12-04",
    "hearing": "pretrial",
}
EXAMPLE_ANSWER = {
    "id": "3f7c1b9e-8d2a-4e61-a0f4-52c9d7e1b6a3",
    "status": "accepted",
    "person_id": "6f1f3f9e-2b8e-4a51-9d6c-3d0f1c2b7a10",
    "deliveries": [
        {"recipient_agency": "CT015013J", "status": "pending"},
        {"recipient_agency": "CT015013J", "status": "pending"},
        {"recipient_agency": "CT015023A", "status": "pending"},
    ],
}

_ANSWER = inline_serializer(
    name="ExchangeAccepted",
    fields={
        "id": serializers.UUIDField(),
        "status": serializers.CharField(),
        "person_id": serializers.UUIDField(allow_null=True),
        "deliveries": serializers.ListField(child=serializers.DictField()),
    },
)
_DETAIL = inline_serializer(name="ExchangeProblem", fields={"detail": serializers.CharField()})


def _exchange_of(request: Request, public_id: Any) -> Exchange:
    """The exchange, when the calling client's agency sent it; 404 otherwise (another
    agency's exchange is not acknowledged to exist)."""
    client = calling_client(request)
    exchange = (
        Exchange.objects.filter(public_id=public_id, sender_agency_id=client.agency_id)
        .select_related("person")
        .first()
    )
    if exchange is None:
        raise Http404
    return exchange


class ExchangeSubmitView(APIView):
    required_scopes = frozenset({ApiScope.EXCHANGES_SUBMIT})
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="exchanges_submit",
        summary="Submit an exchange",
        description=(
            "An early arrest notice, arrest packet, misdemeanor summons, infraction or court "
            "schedule notification from the client's agency. The `Idempotency-Key` header is "
            "required: the same key with the same body answers the first answer again and "
            "creates nothing; the same key with another body is 409. The body is validated "
            "against the JSON Schema of its `type` (`GET /api/v1/exchanges/schemas/`); errors "
            "are keyed by the element's dotted path (`subject.dob`, `charges.0.statute`).\n\n"
            "The subject is matched to the master name index (or added), the case and charges "
            "are recorded on the person's record, and the exchange is routed to its recipients' "
            "inboxes; `deliveries` lists them, pending at the time of the answer."
        ),
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=True,
                description="A unique value per exchange (at most 255 characters), e.g. a UUID.",
            )
        ],
        request=OpenApiTypes.OBJECT,
        responses={
            202: OpenApiResponse(
                _ANSWER, description="Accepted (or the replay of an accepted one)."
            ),
            400: OpenApiResponse(description="Field errors, or no Idempotency-Key."),
            403: OpenApiResponse(_DETAIL, description="agency_ori is not the client's agency."),
            409: OpenApiResponse(_DETAIL, description="The key was used for another body."),
        },
        examples=[
            OpenApiExample("Early arrest notice", value=EXAMPLE_NOTICE, request_only=True),
            OpenApiExample(
                "Court schedule notification", value=EXAMPLE_SCHEDULE, request_only=True
            ),
            OpenApiExample(
                "Accepted", value=EXAMPLE_ANSWER, response_only=True, status_codes=["202"]
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        try:
            submission = exchange_submit(
                payload=request.data,
                idempotency_key=request.headers.get("Idempotency-Key"),
                api_client=calling_client(request),
            )
        except ExchangeRefused as refused:
            return Response(refused.body, status=refused.status)
        headers = {"Location": f"{request.path.rstrip('/')}/{submission.answer['id']}"}
        if submission.replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(submission.answer, status=status.HTTP_202_ACCEPTED, headers=headers)


def delivery_states(exchange: Exchange) -> list[dict[str, Any]]:
    deliveries = (
        Delivery.objects.filter(exchange=exchange)
        .select_related("agency", "rule")
        .order_by("agency__ori", "pk")
    )
    return [
        {
            "recipient_agency": delivery.agency.ori,
            "recipient_agency_name": delivery.agency.name,
            "role": delivery.rule.role if delivery.rule else "",
            "status": delivery.status,
            "delivered_at": _iso(delivery.delivered_at),
            "read_at": _iso(delivery.read_at),
            "acknowledged_at": _iso(delivery.acknowledged_at),
        }
        for delivery in deliveries
    ]


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


class ExchangeDetailView(APIView):
    required_scopes = frozenset({ApiScope.EXCHANGES_SUBMIT})

    @extend_schema(
        operation_id="exchanges_read",
        summary="An exchange's status and delivery states",
        description=(
            "For the agency that sent it: the exchange's status (accepted, delivered, "
            "delivery_failed, no_recipients), the person it was matched to, its attachments "
            "and each recipient's delivery state (pending, delivered, read, acknowledged, "
            "failed). Another agency's exchange is 404."
        ),
        responses={200: OpenApiTypes.OBJECT, 404: _DETAIL},
    )
    def get(self, request: Request, public_id: Any) -> Response:
        exchange = _exchange_of(request, public_id)
        return Response(
            {
                "id": str(exchange.public_id),
                "type": exchange.type,
                "status": exchange.status,
                "incident_number": exchange.incident_number,
                "docket_number": exchange.docket_number,
                "received_at": exchange.received_at.isoformat(),
                "person_id": str(exchange.person.public_id) if exchange.person else None,
                "attachments": [attachment_payload(a) for a in exchange.attachments.all()],
                "deliveries": delivery_states(exchange),
            }
        )


class ExchangeAttachmentView(APIView):
    required_scopes = frozenset({ApiScope.EXCHANGES_SUBMIT})
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="exchanges_attach",
        summary="Attach a file to an exchange",
        description=(
            "Multipart form with the file in `file` and an optional `description`. PDF, "
            "images, audio and video are accepted; the type is found from the content, not "
            "the name. Larger than the limit (50 MB unless configured): 413. Another type: "
            "415. The answer holds the file's SHA-256."
        ),
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "description": {"type": "string"},
                },
                "required": ["file"],
            }
        },
        responses={201: OpenApiTypes.OBJECT, 400: _DETAIL, 413: _DETAIL, 415: _DETAIL},
    )
    def post(self, request: Request, public_id: Any) -> Response:
        exchange = _exchange_of(request, public_id)
        upload = request.FILES.get("file")
        if upload is None:
            return Response(
                {"file": ["Send the file as the multipart field named file."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        try:
            attachment = attachment_add(
                exchange=exchange,
                upload=upload,
                description=str(request.POST.get("description", "")),
                api_client=calling_client(request),
            )
        except AttachmentRefused as refused:
            return Response({"detail": refused.detail}, status=refused.status)
        return Response(attachment_payload(attachment), status=status.HTTP_201_CREATED)


class ExchangeSchemasView(APIView):
    required_scopes = frozenset({ApiScope.EXCHANGES_SUBMIT})

    @extend_schema(
        operation_id="exchanges_schemas",
        summary="The JSON Schema of each exchange type",
        description="Keyed by type; each property names its NIEM element under `x-niem`.",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        return Response({kind: schema_for(kind) for kind in ExchangeType.values})
