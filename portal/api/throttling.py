from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from portal.api.authentication import request_client


class ApiClientRateThrottle(SimpleRateThrottle):
    """Requests per minute per API client (its own limit, or the portal's default);
    unauthenticated callers are limited per address."""

    scope = "api_client"

    def __init__(self) -> None:
        # The rate depends on the client, so it is chosen per request in allow_request.
        self.num_requests = settings.API_RATE_LIMIT_PER_MINUTE
        self.duration = 60
        self.rate = f"{self.num_requests}/min"

    def allow_request(self, request: Request, view: Any) -> bool:
        client = request_client(request)
        self.num_requests = (
            client.rate_limit_per_minute
            if client is not None and client.rate_limit_per_minute
            else settings.API_RATE_LIMIT_PER_MINUTE
        )
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: Any) -> str:
        client = request_client(request)
        ident = f"client-{client.pk}" if client is not None else f"ip-{self.get_ident(request)}"
        return f"throttle_{self.scope}_{ident}"
