import functools
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import get_script_prefix, get_urlconf, reverse

from portal.models import User
from portal.roles import Role

# Navigation: (label, url name, roles that see it; empty = every signed-in user).
NAVIGATION: list[tuple[str, str, tuple[Role, ...]]] = [
    ("Home", "portal:home", ()),
    ("Account support", "portal:support_accounts", (Role.HELP_DESK, Role.ADMINISTRATOR)),
    ("Audit log", "portal:audit_log", (Role.AUDITOR, Role.CJIS_SECURITY, Role.ADMINISTRATOR)),
    ("API clients", "portal:api_clients", (Role.CJIS_SECURITY, Role.ADMINISTRATOR)),
    ("Administration", "admin:index", (Role.ADMINISTRATOR,)),
]


def register_navigation(label: str, url_name: str, roles: tuple[Role, ...]) -> None:
    """Let an app built on the portal add its page to the navigation (before the
    administration entry), without the portal importing it."""
    entry = (label, url_name, roles)
    if entry not in NAVIGATION:
        NAVIGATION.insert(len(NAVIGATION) - 1, entry)


def portal(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    nav = []
    signed_in = isinstance(user, User) and user.is_fully_signed_in()
    if signed_in and isinstance(user, User):
        for label, name, roles in NAVIGATION:
            if not roles or user.has_role(*roles):
                url = _url(name, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
                nav.append({"label": label, "url": url, "current": request.path == url})
    return {
        "state_name": settings.STATE_NAME,
        "help_desk_contact": settings.HELP_DESK_CONTACT,
        "navigation": nav,
        "fully_signed_in": signed_in,
        "idle_timeout_seconds": int(settings.SESSION_IDLE_TIMEOUT.total_seconds()),
    }


@functools.lru_cache(maxsize=256)
def _url(name: str, prefix: str, urlconf: str) -> str:
    """``reverse(name)`` for a page without arguments, kept per script prefix and URLconf
    (what the answer depends on): every page's header lists some of them, and reversing
    one cost as much as the rest of the header's context."""
    return reverse(name, urlconf=urlconf)
