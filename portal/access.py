"""The one access layer of the portal: deny by default.

Every URL's view carries an access rule, set with one of the decorators below; the
``AccessMiddleware`` enforces it before the view runs. A view without a rule is refused
(and the deny-by-default test fails), so forgetting a rule can never open a page.

Levels, from the least to the most demanding:

- ``public``: anyone (sign-in page, health checks, API schema).
- ``signin_step``: a password has been accepted but the second factor is still due
  (verification code, MFA enrolment, sign-out).
- ``password_change_step``: fully signed in, even while a new password is still owed.
- ``signed_in``: fully signed in with MFA and no password change pending; optionally one
  of a set of roles (``require_roles``).

DRF views are governed by DRF (API keys and scopes, see ``portal.api``); admin pages need
the administrator role on top of a full sign-in.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from rest_framework.views import APIView

from portal import audit
from portal.models import User
from portal.models.audit import Outcome
from portal.network import client_ip
from portal.roles import PRIVILEGED_ROLES, Role

View = TypeVar("View", bound=Callable[..., Any])


class Level(IntEnum):
    PUBLIC = 0
    API = 1
    SIGNIN_STEP = 2
    PASSWORD_CHANGE_STEP = 3
    SIGNED_IN = 4


@dataclass(frozen=True)
class AccessRule:
    level: Level
    roles: frozenset[str] = field(default_factory=frozenset)

    def describe(self) -> str:
        if self.roles:
            names = ", ".join(sorted(Role(role).label for role in self.roles))
            return f"signed in as one of: {names}"
        return self.level.name.lower().replace("_", " ")


API_RULE = AccessRule(Level.API)
ADMIN_RULE = AccessRule(Level.SIGNED_IN, frozenset({Role.ADMINISTRATOR}))


def _tag(rule: AccessRule) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        view.access_rule = rule  # type: ignore[attr-defined]
        return view

    return decorate


public = _tag(AccessRule(Level.PUBLIC))
signin_step = _tag(AccessRule(Level.SIGNIN_STEP))
password_change_step = _tag(AccessRule(Level.PASSWORD_CHANGE_STEP))
signed_in = _tag(AccessRule(Level.SIGNED_IN))


def require_roles(*roles: Role) -> Callable[[View], View]:
    return _tag(AccessRule(Level.SIGNED_IN, frozenset(roles)))


def rule_for(view_func: Callable[..., Any], namespaces: list[str]) -> AccessRule | None:
    rule: AccessRule | None = getattr(view_func, "access_rule", None)
    if rule is not None:
        return rule
    view_class = getattr(view_func, "cls", None)
    if isinstance(view_class, type) and issubclass(view_class, APIView):
        return API_RULE
    if namespaces and namespaces[0] == "admin":
        return ADMIN_RULE
    return None


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    if request.headers.get("HX-Request"):
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return HttpResponseRedirect(url)


def _redirect_to_login(request: HttpRequest) -> HttpResponse:
    url = reverse(settings.LOGIN_URL)
    if request.method == "GET":
        url += "?" + urlencode({"next": request.get_full_path()})
    return _redirect(request, url)


def deny(
    request: HttpRequest,
    reason: str,
    *,
    action: str = "access.denied",
    actor: User | None = None,
) -> HttpResponse:
    """Render the 403 page and record the denial (by ``actor``, default the request's user)."""
    audit.record(
        action,
        actor=actor,
        request=request,
        outcome=Outcome.DENIED,
        details={"path": request.path, "method": request.method, "reason": reason},
    )
    return render(request, "403.html", {"reason": reason}, status=403)


def network_allowed(user: User, request: HttpRequest) -> bool:
    """Whether the user's agency has certified the network this request comes from."""
    if not settings.ENFORCE_AGENCY_NETWORKS:
        return True
    return user.agency is not None and user.agency.allows_address(client_ip(request))


class AccessMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        match = request.resolver_match
        rule = rule_for(view_func, match.namespaces if match else [])
        if rule is None:
            return deny(request, "This page has no access rule, so it is closed to everyone.")
        if rule.level <= Level.API:
            return None

        user = request.user
        if not isinstance(user, User):
            return _redirect_to_login(request)
        if not network_allowed(user, request):
            logout(request)
            return deny(
                request,
                "This workstation is not on a network your agency has certified for CJIS "
                f"access (your address is {client_ip(request) or 'unknown'}). Contact your "
                "agency's TAC officer.",
                action="access.network_denied",
                # Signed out by now: name who was refused.
                actor=user,
            )
        if rule.level == Level.SIGNIN_STEP:
            return None
        if not user.is_fully_signed_in():
            return _redirect(request, reverse("portal:mfa"))
        if rule.level == Level.PASSWORD_CHANGE_STEP:
            return None
        if user.password_change_required():
            return _redirect(request, reverse("portal:password_change"))
        if rule.roles and not user.has_role(*rule.roles):
            return deny(request, f"This page is for users {rule.describe()}.")
        return None


def access_account_for_support(
    actor: User, public_id: uuid.UUID, *, for_update: bool = False
) -> User:
    """The account ``actor`` may support (unlock, reset), or 404 / PermissionDenied.

    Help desk staff support every account except those that hold privileged roles
    (administrator, CJIS security, help desk); only an administrator supports those.
    """
    queryset = User.objects.select_related("agency").prefetch_related("role_grants")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    target = get_object_or_404(queryset, public_id=public_id)
    if actor.has_role(Role.ADMINISTRATOR):
        return target
    if not actor.has_role(Role.HELP_DESK):
        raise PermissionDenied("Only the help desk and administrators support accounts.")
    if target.has_role(*PRIVILEGED_ROLES):
        raise PermissionDenied(
            "This account holds a privileged role: only an administrator can change it."
        )
    return target


def acting_user(request: HttpRequest) -> User:
    """The signed-in user of a request that passed the access middleware."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("Sign in first.")
    return user
