from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from portal.models import Agency, ApiClient
from portal.models.api_clients import split_key
from portal.network import client_ip

# How long a client read from the database answers from the cache. Saving a client or
# its agency through the portal (revoking, rotating, deactivating) clears it at once;
# this bounds only changes made behind the portal's back (SQL).
CLIENT_CACHE_SECONDS = 60


def _cache_key(prefix: str) -> str:
    return f"api-client:{prefix}"


def client_by_prefix(prefix: str) -> ApiClient | None:
    """The API client (with its agency) whose key has ``prefix``: from the cache, one
    round trip, or from the database. Every API request asks, and the query with its
    agency costs more to compile than to run."""
    cached = cache.get(_cache_key(prefix))
    if isinstance(cached, ApiClient):
        return cached
    # The prefix is unique: no ORDER BY (the model orders by agency name) or LIMIT.
    found = list(ApiClient.objects.select_related("agency").filter(key_prefix=prefix).order_by())
    if not found:
        return None
    cache.set(_cache_key(prefix), found[0], CLIENT_CACHE_SECONDS)
    return found[0]


def forget_clients(prefixes: list[str]) -> None:
    """Drop cached clients, so the next request reads what was just saved: now, and
    again when the transaction commits (a request that read the row before the commit
    may have cached the old one meanwhile)."""
    keys = [_cache_key(prefix) for prefix in prefixes if prefix]
    if keys:
        cache.delete_many(keys)
        transaction.on_commit(lambda: cache.delete_many(keys))


@receiver(pre_save, sender=ApiClient)
def _client_replacing_key(sender: type[ApiClient], instance: ApiClient, **kwargs: Any) -> None:
    # A replaced key has a new prefix: the old one must stop answering too.
    if instance.pk is not None:
        forget_clients(
            list(ApiClient.objects.filter(pk=instance.pk).values_list("key_prefix", flat=True))
        )


@receiver(post_save, sender=ApiClient)
@receiver(post_delete, sender=ApiClient)
def _client_changed(sender: type[ApiClient], instance: ApiClient, **kwargs: Any) -> None:
    forget_clients([instance.key_prefix])


@receiver(post_save, sender=Agency)
@receiver(post_delete, sender=Agency)
def _agency_changed(sender: type[Agency], instance: Agency, **kwargs: Any) -> None:
    forget_clients(
        list(ApiClient.objects.filter(agency_id=instance.pk).values_list("key_prefix", flat=True))
    )


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
        client = client_by_prefix(prefix) if prefix else None
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
            cache.set(_cache_key(client.key_prefix), client, CLIENT_CACHE_SECONDS)

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
