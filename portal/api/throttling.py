import time
from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from portal.api.authentication import request_client
from portal.cache import count_hit

WINDOW_SECONDS = 60


class ApiClientRateThrottle(BaseThrottle):
    """Requests per minute per API client (its own limit, or the portal's default);
    unauthenticated callers are limited per address.

    A counter per client and clock minute: one cache round trip per request whatever the
    rate, where a log of request times would grow with it. A refused request counts too,
    so a client that keeps knocking stays refused until the minute turns; ``Retry-After``
    says when that is."""

    def __init__(self) -> None:
        self.wait_seconds = 0.0

    def allow_request(self, request: Request, view: Any) -> bool:
        client = request_client(request)
        limit = (
            client.rate_limit_per_minute
            if client is not None and client.rate_limit_per_minute
            else settings.API_RATE_LIMIT_PER_MINUTE
        )
        ident = f"client-{client.pk}" if client is not None else f"ip-{self.get_ident(request)}"
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        count = count_hit(f"throttle_api_client_{ident}_{window}", WINDOW_SECONDS)
        self.wait_seconds = (window + 1) * WINDOW_SECONDS - now
        return count <= limit

    def wait(self) -> float:
        return max(self.wait_seconds, 1.0)
