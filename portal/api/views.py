from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.api.authentication import request_client


class AgencyRefSerializer(serializers.Serializer[object]):
    ori = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()


class ClientSerializer(serializers.Serializer[object]):
    id = serializers.UUIDField(source="public_id")
    name = serializers.CharField()
    agency = AgencyRefSerializer()
    scopes = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)


class ClientView(APIView):
    """The calling client as the portal knows it: a connectivity and key check for
    integrators. Needs a valid key and no particular scope."""

    required_scopes: frozenset[str] = frozenset()

    @extend_schema(responses=ClientSerializer, summary="Who am I (the calling API client)")
    def get(self, request: Request) -> Response:
        client = request_client(request)
        return Response(ClientSerializer(client).data)
