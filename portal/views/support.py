"""Account support for the help desk: find an account, unlock it, reset its password or
its MFA, enable or disable it. Every action asks for a reason and is audited."""

import uuid
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from portal import selectors, services
from portal.access import access_account_for_support, acting_user, require_roles
from portal.forms import AccountSearchForm, ReasonForm
from portal.models import User
from portal.roles import Role

SUPPORT_ROLES = (Role.HELP_DESK, Role.ADMINISTRATOR)


@require_roles(*SUPPORT_ROLES)
@require_GET
def account_list_view(request: HttpRequest) -> HttpResponse:
    form = AccountSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    accounts = list(selectors.accounts_matching(query)) if query else []
    return render(
        request, "portal/support_list.html", {"form": form, "accounts": accounts, "query": query}
    )


@require_roles(*SUPPORT_ROLES)
@require_GET
def account_detail_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    target = access_account_for_support(acting_user(request), public_id)
    failures = selectors.account_failed_attempts(target)
    context = {
        "account": target,
        "failures": failures,
        "locked": failures >= settings.AXES_FAILURE_LIMIT,
        "mfa": selectors.user_mfa_devices(target),
        "form": ReasonForm(),
    }
    return render(request, "portal/support_detail.html", context)


SupportAction = Callable[[User, User, HttpRequest, str], str | None]


def _support_action(
    request: HttpRequest, public_id: uuid.UUID, action: SupportAction
) -> HttpResponse:
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a reason (a ticket number or a short note) for the change.")
        return redirect("portal:support_account", public_id=public_id)
    with transaction.atomic():
        target = access_account_for_support(acting_user(request), public_id, for_update=True)
        temporary = action(acting_user(request), target, request, form.cleaned_data["reason"])
    if temporary is not None:
        return render(
            request,
            "portal/support_temporary_password.html",
            {
                "account": target,
                "password": temporary,
                "hours": int(settings.TEMPORARY_PASSWORD_LIFETIME.total_seconds() // 3600),
            },
        )
    return redirect("portal:support_account", public_id=public_id)


def _unlock(actor: User, target: User, request: HttpRequest, reason: str) -> None:
    services.account_unlock(actor=actor, user=target, request=request, reason=reason)
    messages.success(request, f"{target.username} is unlocked and can sign in again.")


def _reset_password(actor: User, target: User, request: HttpRequest, reason: str) -> str:
    return services.password_reset_temporary(
        actor=actor, user=target, request=request, reason=reason
    )


def _reset_mfa(actor: User, target: User, request: HttpRequest, reason: str) -> None:
    services.mfa_reset(actor=actor, user=target, request=request, reason=reason)
    messages.success(
        request,
        f"{target.username}'s authenticators were removed: they enrol a new one at "
        "their next sign-in.",
    )


def _enable(actor: User, target: User, request: HttpRequest, reason: str) -> None:
    services.account_enable(actor=actor, user=target, request=request, reason=reason)
    messages.success(request, f"{target.username} is enabled.")


def _disable(actor: User, target: User, request: HttpRequest, reason: str) -> None:
    if target.pk == actor.pk:
        messages.error(request, "You cannot disable your own account.")
        return
    services.account_disable(actor=actor, user=target, request=request, reason=reason)
    messages.success(request, f"{target.username} is disabled.")


@require_roles(*SUPPORT_ROLES)
@never_cache
@require_POST
def account_unlock_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    return _support_action(request, public_id, _unlock)


@require_roles(*SUPPORT_ROLES)
@never_cache
@require_POST
def account_reset_password_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    return _support_action(request, public_id, _reset_password)


@require_roles(*SUPPORT_ROLES)
@never_cache
@require_POST
def account_reset_mfa_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    return _support_action(request, public_id, _reset_mfa)


@require_roles(*SUPPORT_ROLES)
@never_cache
@require_POST
def account_enable_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    return _support_action(request, public_id, _enable)


@require_roles(*SUPPORT_ROLES)
@never_cache
@require_POST
def account_disable_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    return _support_action(request, public_id, _disable)
