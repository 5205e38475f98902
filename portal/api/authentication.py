from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from portal.models import ApiClient
from portal.models.api_clients import split_key
from portal.network import client_ip


class ApiPrincipal:
    """Who is calling: an agency's system, authenticated by its key."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, client: ApiClient) -> None:
        self.client = client
        self.agency = client.agency

    def __str__(self) -> str:
        return f"API client {self.client.name} ({self.agency.ori})"


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Bearer <key>``. A missing header leaves the request anonymous (DRF
    then answers 401); a malformed, unknown or revoked key is a 401 at once."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[ApiPrincipal, ApiClient] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, key = header.partition(" ")
        key = key.strip()
        if scheme.lower() != self.keyword.lower() or not key:
            raise exceptions.AuthenticationFailed("Send the key as 'Authorization: Bearer <key>'.")
        prefix = split_key(key)
        client = None
        if prefix:
            # The prefix is unique: no ORDER BY (the model orders by agency name) or LIMIT
            # for the ORM to compile and the database to plan, on every API request.
            found = list(
                ApiClient.objects.select_related("agency").filter(key_prefix=prefix).order_by()
            )
            client = found[0] if found else None
        if client is None or not client.key_matches(key):
            raise exceptions.AuthenticationFailed("The API key is not valid.")
        if client.revoked_at is not None:
            raise exceptions.AuthenticationFailed("The API key was revoked.")
        if not client.agency.is_active:
            raise exceptions.AuthenticationFailed("The key's agency is not active.")
        django_request: HttpRequest = request._request
        if settings.ENFORCE_AGENCY_NETWORKS and not client.agency.allows_address(
            client_ip(django_request)
        ):
            raise exceptions.PermissionDenied(
                "This address is not on a network the agency has certified for CJIS access."
            )
        self._touch(client)
        return ApiPrincipal(client), client

    def _touch(self, client: ApiClient) -> None:
        now = timezone.now()
        last = client.last_used_at
        if last is None or now - last >= settings.API_LAST_USED_RESOLUTION:
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
            client.last_used_at = now

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


def request_client(request: Any) -> ApiClient | None:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiClient) else None


def calling_client(request: Any) -> ApiClient:
    """The API client of a request that passed API authentication; refuses (401) one that
    did not, should a view be reached without it."""
    client = request_client(request)
    if client is None:
        raise exceptions.NotAuthenticated()
    return client
