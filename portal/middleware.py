from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from portal import audit
from portal.views import health

SIGNED_IN_AT = "portal_signed_in_at"
LAST_SEEN = "portal_last_seen"
# Requests that carry this header (background polling) do not count as activity.
PASSIVE_HEADER = "X-CJIS-Passive"
# Activity is written to the session at most this often (seconds).
LAST_SEEN_RESOLUTION = 30


class HealthCheckMiddleware:
    """Answer /healthz and /readyz before host validation and HTTPS redirects, so load
    balancers and container probes that address the portal by IP get a real answer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == "/healthz":
            return health.healthz(request)
        if request.path_info == "/readyz":
            return health.readyz(request)
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Send the portal's Content-Security-Policy on every response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.CONTENT_SECURITY_POLICY:
            response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


def mark_signed_in(request: HttpRequest) -> None:
    now = timezone.now().timestamp()
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_SEEN] = now


class SessionTimeoutMiddleware:
    """Sign out after 30 idle minutes and 12 hours after sign-in, whatever the activity."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            expired = self._expiry_reason(request)
            if expired is not None:
                return self._sign_out(request, expired)
        return self.get_response(request)

    def _expiry_reason(self, request: HttpRequest) -> str | None:
        now = timezone.now().timestamp()
        signed_in_at = request.session.get(SIGNED_IN_AT)
        last_seen = request.session.get(LAST_SEEN)
        if signed_in_at is None or now - signed_in_at > settings.SESSION_MAX_AGE.total_seconds():
            return "max_age"
        if (
            last_seen is not None
            and now - last_seen > settings.SESSION_IDLE_TIMEOUT.total_seconds()
        ):
            return "idle"
        passive = request.headers.get(PASSIVE_HEADER)
        if not passive and (last_seen is None or now - last_seen >= LAST_SEEN_RESOLUTION):
            request.session[LAST_SEEN] = now
        return None

    def _sign_out(self, request: HttpRequest, reason: str) -> HttpResponse:
        audit.record("signin.session_expired", request=request, details={"reason": reason})
        logout(request)
        if reason == "idle":
            minutes = int(settings.SESSION_IDLE_TIMEOUT.total_seconds() // 60)
            text = f"You were signed out after {minutes} minutes without activity."
        else:
            hours = int(settings.SESSION_MAX_AGE.total_seconds() // 3600)
            text = f"Sessions last at most {hours} hours."
        messages.info(request, f"{text} Sign in again to continue.")
        url = reverse(settings.LOGIN_URL)
        if request.method == "GET" and not request.headers.get("HX-Request"):
            url += "?" + urlencode({"next": request.get_full_path()})
        if request.headers.get("HX-Request"):
            return HttpResponse(status=204, headers={"HX-Redirect": url})
        if request.path.startswith("/api/"):
            return HttpResponse(status=401)
        return HttpResponseRedirect(url)
