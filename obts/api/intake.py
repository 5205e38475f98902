"""Intake endpoints for source systems (CONTRACT §3): ``POST /api/v1/persons/`` (master
name index) and ``POST /api/v1/feeds/{kind}/`` (record feeds).

Both take one record as a JSON object, or a batch of up to 1,000 as a JSON list:

- one record: 201 with the stored record when it was created, 200 when it was updated,
  was already stored as sent (``"result": "unchanged"``) or is older than what is stored
  (``"result": "stale"``, ``"applied": false`` and a ``reason``); 400 with field errors;
- a batch: 200 with one entry per record, in order —
  ``{"index", "status", "id", "errors"}`` (and ``reason`` when stale), ``status`` one of
  created, updated, unchanged, stale, error. One bad record never blocks the others.
  More than 1,000 records: 413.
"""

from typing import Any

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from obts.api.intake_serializers import PersonUpsertedSerializer, render_person
from obts.services.feeds import feed_kind, feed_kind_names, feed_records_upsert
from obts.services.intake import BATCH_LIMIT, BatchTooLarge, Outcome, RecordResult, Submitter
from obts.services.person_schemas import PersonInputSerializer
from obts.services.persons import persons_upsert
from portal.api.authentication import request_client
from portal.models.api_clients import ApiScope

# "errors" would shadow Serializer.errors as a declared field: built inline instead, once
# (each inline_serializer call makes a new class, and the schema wants one).
_BATCH_RESULTS = inline_serializer(
    name="BatchResult",
    fields={
        "index": serializers.IntegerField(),
        "status": serializers.ChoiceField(choices=Outcome.choices),
        "id": serializers.UUIDField(allow_null=True),
        "errors": serializers.DictField(help_text="Field errors (status error)."),
        "reason": serializers.CharField(required=False, help_text="Why (status stale)."),
    },
    many=True,
)


class DetailSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()


class UnknownKindSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()
    kinds = serializers.ListField(child=serializers.CharField())


def _records(request: Request) -> tuple[list[Any], bool]:
    """The records of the body and whether it was a batch."""
    data = request.data
    if isinstance(data, list):
        return data, True
    if isinstance(data, dict):
        return [data], False
    raise ValidationError(
        {
            "non_field_errors": [
                f"Send one record as a JSON object, or up to {BATCH_LIMIT:,} as a JSON list."
            ]
        }
    )


def _too_large(error: BatchTooLarge) -> Response:
    return Response({"detail": str(error)}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)


def _batch_answer(results: list[RecordResult]) -> Response:
    return Response([result.as_dict() for result in results], status=status.HTTP_200_OK)


def _single_answer(result: RecordResult, body: dict[str, Any]) -> Response:
    body = {**body, "result": str(result.outcome), "applied": result.applied}
    if result.reason:
        body["reason"] = result.reason
    code = status.HTTP_201_CREATED if result.outcome == Outcome.CREATED else status.HTTP_200_OK
    return Response(body, status=code)


_BATCH_RESPONSES = {
    400: OpenApiResponse(description="Field errors of the record (one record sent)."),
    413: OpenApiResponse(DetailSerializer, description="More than 1,000 records."),
    415: OpenApiResponse(DetailSerializer, description="The body is not JSON."),
}


class PersonUpsertView(APIView):
    """Upsert a source system's record of a person into the master name index."""

    required_scopes = frozenset({ApiScope.MNI_WRITE})
    parser_classes = [JSONParser]

    @extend_schema(
        summary="Upsert persons of the master name index",
        description=(
            "Upsert by (source_system, source_id): 201 created, 200 updated (or unchanged, "
            "or stale: not applied). A new source record is matched to a known person "
            "(exact SID, FBI number or driver's licence; else name and date of birth); a "
            "weak match creates a new person and opens a possible-duplicate review. Send a "
            f"JSON list of up to {BATCH_LIMIT:,} records for per-record results."
        ),
        request=PolymorphicProxySerializer(
            component_name="PersonUpsertBody",
            serializers=[PersonInputSerializer, PersonInputSerializer(many=True)],
            resource_type_field_name=None,
            many=False,
        ),
        responses={
            201: PersonUpsertedSerializer,
            200: PolymorphicProxySerializer(
                component_name="PersonUpsertAnswer",
                serializers=[PersonUpsertedSerializer, _BATCH_RESULTS],
                resource_type_field_name=None,
                many=False,
            ),
            **_BATCH_RESPONSES,
        },
    )
    def post(self, request: Request) -> Response:
        records, batch = _records(request)
        submitter = Submitter(api_client=request_client(request))
        try:
            results = persons_upsert(records, submitter=submitter)
        except BatchTooLarge as error:
            return _too_large(error)
        if batch:
            return _batch_answer(results)
        result = results[0]
        if result.outcome == Outcome.ERROR:
            return Response(result.errors, status=status.HTTP_400_BAD_REQUEST)
        body = render_person(result.instance, result.key)
        for extra in ("match", "possible_duplicates"):
            if extra in result.details:
                body[extra] = result.details[extra]
        return _single_answer(result, body)


class FeedView(APIView):
    """Upsert records of one feed kind from a source system."""

    required_scopes = frozenset({ApiScope.FEEDS_WRITE})
    parser_classes = [JSONParser]

    @extend_schema(
        summary="Upsert records of a source-system feed",
        description=(
            "Upsert by (source_system, source_id); each record names its person by "
            '{"id": ...}, {"sid": ...} or {"fbi_number": ...}. 201 created, 200 updated (or '
            "unchanged, or stale: not applied). Kinds: "
            + ", ".join(f"`{name}`" for name in feed_kind_names())
            + f". Send a JSON list of up to {BATCH_LIMIT:,} records for per-record results. "
            "Each kind's fields are its components in this schema "
            "(e.g. `CaseFeed`, `WarrantFeed`)."
        ),
        parameters=[
            OpenApiParameter(
                "kind", str, OpenApiParameter.PATH, enum=feed_kind_names(), description="Kind"
            )
        ],
        request=PolymorphicProxySerializer(
            component_name="FeedBody",
            serializers=lambda: _feed_serializers(),
            resource_type_field_name=None,
            many=False,
        ),
        responses={
            (201, "application/json"): PolymorphicProxySerializer(
                component_name="FeedRecord",
                serializers=lambda: _feed_serializers(single_only=True),
                resource_type_field_name=None,
            ),
            200: PolymorphicProxySerializer(
                component_name="FeedAnswer",
                serializers=lambda: [
                    *_feed_serializers(single_only=True),
                    _BATCH_RESULTS,
                ],
                resource_type_field_name=None,
                many=False,
            ),
            404: OpenApiResponse(UnknownKindSerializer, description="Unknown kind."),
            **_BATCH_RESPONSES,
        },
    )
    def post(self, request: Request, kind: str) -> Response:
        handler = feed_kind(kind)
        if handler is None:
            return Response(
                {"detail": f"No feed kind {kind!r}.", "kinds": feed_kind_names()},
                status=status.HTTP_404_NOT_FOUND,
            )
        records, batch = _records(request)
        submitter = Submitter(api_client=request_client(request))
        try:
            results = feed_records_upsert(handler, records, submitter=submitter)
        except BatchTooLarge as error:
            return _too_large(error)
        if batch:
            return _batch_answer(results)
        result = results[0]
        if result.outcome == Outcome.ERROR:
            return Response(result.errors, status=status.HTTP_400_BAD_REQUEST)
        return _single_answer(result, handler.render(result.instance))


def _feed_serializers(*, single_only: bool = False) -> list[Any]:
    found: list[Any] = []
    for name in feed_kind_names():
        handler = feed_kind(name)
        if handler is None:
            continue
        found.append(handler.serializer_class)
        if not single_only:
            found.append(handler.serializer_class(many=True))
    return found
