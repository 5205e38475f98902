"""``GET /api/v1/associations/``: what is linked to a record, two links out, for agencies'
systems. The same graph as the associations page (``ciss.associations``), as an API
client may see it (``obts.access``: court cases, but never juvenile or sealed ones).
Every read is audited with its purpose."""

from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ciss.associations import Associations, Kind, associations, associations_viewed
from obts.access import Purpose, visibility_for
from obts.models import Flag
from portal.api.authentication import request_client
from portal.models.api_clients import ApiScope


class NodeRefSerializer(serializers.Serializer[Any]):
    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        # "label" is a Field attribute, so a node's fields are built here, not declared.
        return {
            # A plain string in the schema: "kind" is an enum of other choices elsewhere.
            "kind": serializers.CharField(help_text=f"One of: {', '.join(Kind.values)}."),
            "id": serializers.CharField(
                help_text="The public id; for an address, its address key."
            ),
        }


class NodeSerializer(NodeRefSerializer):
    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        return {
            **super().get_fields(),
            "label": serializers.CharField(),
            "detail": serializers.CharField(),
            "flags": serializers.ListField(
                child=serializers.ChoiceField(choices=Flag.choices),
                help_text="A person's flags, wanted first; empty for other records.",
            ),
            "distance": serializers.IntegerField(help_text="Links from the start: 0, 1 or 2."),
            "more": serializers.BooleanField(
                help_text="The record has links that were not followed (its fan-out was cut)."
            ),
            "named": serializers.ListField(
                child=serializers.CharField(),
                help_text=(
                    "An event's people and vehicles that match no record on file, as the "
                    'report names them with their role ("Dana Doe (witness)"); empty for '
                    "other records."
                ),
            ),
        }


class EdgeSerializer(serializers.Serializer[Any]):
    """``from`` and ``to`` are Python keywords, hence the fields built here."""

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        return {
            "from": NodeRefSerializer(source="source"),
            "to": NodeRefSerializer(source="target"),
            "role": serializers.CharField(
                help_text='Read from "from" to "to": "resides at", "suspect", "owner".'
            ),
            "source_system": serializers.CharField(),
        }


class AssociationsSerializer(serializers.Serializer[Associations]):
    start = NodeSerializer()
    nodes = NodeSerializer(many=True, help_text="Every record of the graph, the start first.")
    edges = EdgeSerializer(many=True)
    truncated = serializers.BooleanField(
        help_text="Some links were left out: a record had more of one kind than are "
        "followed, or the graph reached its cap of records."
    )


PARAMETERS = [
    OpenApiParameter(
        "kind",
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        required=True,
        enum=Kind.values,
        description="The kind of record to start from.",
    ),
    OpenApiParameter(
        "id",
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        required=True,
        description="The record's public id; for a location, its address key as the "
        "graph gives it (such as `12 N MAIN ST APT 3, HARTFORD, CT`).",
    ),
    OpenApiParameter(
        "purpose",
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        required=True,
        enum=Purpose.values,
        description="Why the records are read; recorded in the audit log with the records served.",
    ),
]


class AssociationsView(APIView):
    """What is linked to one record, two links out."""

    required_scopes = frozenset({ApiScope.RECORDS_READ})

    @extend_schema(
        operation_id="associations_retrieve",
        summary="What is linked to a record",
        description=(
            "The people, addresses, vehicles, events (incident reports), property and "
            "court cases linked to a person, vehicle, location, property item, event or "
            "court case, and what is linked to those: two links out. Each edge carries "
            "the role the source gave the link and the source system. At most 25 links "
            "of each kind are followed from a record (newest first) and at most 150 "
            "records are returned; `truncated` says when something was left out, and "
            "`more` marks the records whose links were cut. Persons merged into another "
            "answer as the survivor. Juvenile and sealed cases are never served. Every "
            "read is audited."
        ),
        parameters=PARAMETERS,
        responses={
            200: AssociationsSerializer,
            400: OpenApiResponse(description="Unknown kind or purpose, or no id."),
            401: OpenApiResponse(description="No key, or a bad one."),
            403: OpenApiResponse(description="The key lacks the records:read scope."),
            404: OpenApiResponse(description="No record of this kind with this id."),
        },
        tags=["associations"],
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        kind = params.get("kind", "").strip()
        ident = params.get("id", "").strip()
        purpose = params.get("purpose", "").strip()
        errors: dict[str, list[str]] = {}
        if kind not in Kind.values:
            errors["kind"] = [f"Unknown kind; one of: {', '.join(Kind.values)}."]
        if not ident:
            errors["id"] = ["Give the record's id (for a location, its address key)."]
        if purpose not in Purpose.values:
            errors["purpose"] = [
                f"Give the purpose of this read; one of: {', '.join(Purpose.values)}."
            ]
        if errors:
            raise ValidationError(errors)
        client = request_client(request)
        assert client is not None  # noqa: S101  (HasRequiredScopes let only clients through)
        try:
            graph = associations(kind, ident, visibility=visibility_for(client))
        except Http404 as error:
            raise NotFound(str(error)) from error
        associations_viewed(graph, purpose=purpose, request=request._request, api_client=client)
        return Response(AssociationsSerializer(graph).data)
