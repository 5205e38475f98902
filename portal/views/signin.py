"""Sign-in: system-use notice and password, then the second factor (verification or first
enrolment), then a forced password change where one is owed."""

import base64
import math
from datetime import datetime
from io import BytesIO
from typing import Any

import qrcode
import qrcode.image.svg
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal import audit, services
from portal.access import (
    acting_user,
    network_allowed,
    password_change_step,
    public,
    signin_step,
)
from portal.forms import PasswordChangeForm, SignInForm, VerificationCodeForm
from portal.middleware import mark_signed_in
from portal.models import User
from portal.models.audit import Outcome

NEXT_KEY = "portal_next"
BACKUP_CODES_KEY = "portal_backup_codes"
NOTICE_VERSION = "2026-1"


def _safe_next(request: HttpRequest, candidate: str | None) -> str | None:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None


def _after_signin_url(request: HttpRequest) -> str:
    return _safe_next(request, request.session.pop(NEXT_KEY, None)) or reverse("portal:home")


def _locked_page(request: HttpRequest, username: str) -> HttpResponse:
    return render(
        request,
        "portal/locked.html",
        {"username": username, "limit": settings.AXES_FAILURE_LIMIT},
        status=403,
    )


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict[str, Any] | None
) -> HttpResponse:
    """What django-axes answers once a username is locked out."""
    if request.user.is_authenticated:
        logout(request)
    return _locked_page(request, (credentials or {}).get("username", ""))


def _refuse(request: HttpRequest, form: SignInForm, message: str) -> HttpResponse:
    form.add_error(None, message)
    return render(request, "portal/login.html", {"form": form}, status=200)


@public
@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        if isinstance(request.user, User) and request.user.is_fully_signed_in():
            return redirect("portal:home")
        nxt = _safe_next(request, request.GET.get("next"))
        return render(request, "portal/login.html", {"form": SignInForm(), "next": nxt or ""})

    form = SignInForm(request.POST)
    if not form.is_valid():
        return render(request, "portal/login.html", {"form": form})
    username = form.cleaned_data["username"].strip()
    password = form.cleaned_data["password"]
    user = authenticate(request, username=username, password=password)

    if getattr(request, "axes_locked_out", False):
        audit.record(
            "signin.locked_out", request=request, username=username, outcome=Outcome.DENIED
        )
        return _locked_page(request, username)

    if not isinstance(user, User):
        known = User.objects.filter(username=username).select_related("agency").first()
        if known is not None and not known.is_active and known.check_password(password):
            audit.record(
                "signin.failed",
                actor=known,
                request=request,
                outcome=Outcome.DENIED,
                details={"reason": "account disabled"},
            )
            reason = f" ({known.disabled_reason})" if known.disabled_reason else ""
            return _refuse(
                request,
                form,
                f"This account is disabled{reason}. Contact {settings.HELP_DESK_CONTACT} to "
                "have it enabled.",
            )
        audit.record(
            "signin.failed",
            request=request,
            username=username,
            outcome=Outcome.FAILURE,
            details={"reason": "wrong username or password"},
        )
        return _refuse(
            request,
            form,
            "The username or password is not right. After "
            f"{settings.AXES_FAILURE_LIMIT} failed attempts in a row the account is locked.",
        )

    if user.temporary_password_expired():
        audit.record(
            "signin.failed",
            actor=user,
            request=request,
            outcome=Outcome.DENIED,
            details={"reason": "temporary password expired"},
        )
        return _refuse(
            request,
            form,
            "Your temporary password has expired: temporary passwords work for "
            f"{int(settings.TEMPORARY_PASSWORD_LIFETIME.total_seconds() // 3600)} hours. "
            f"Ask {settings.HELP_DESK_CONTACT} for a new one.",
        )
    if not network_allowed(user, request):
        audit.record(
            "signin.failed",
            actor=user,
            request=request,
            outcome=Outcome.DENIED,
            details={"reason": "network not certified"},
        )
        return _refuse(
            request,
            form,
            "This workstation is not on a network your agency has certified for CJIS "
            "access. Contact your agency's TAC officer.",
        )

    nxt = _safe_next(request, request.POST.get("next"))
    login(request, user)
    mark_signed_in(request)
    if nxt:
        request.session[NEXT_KEY] = nxt
    audit.record(
        "signin.password_accepted",
        actor=user,
        request=request,
        details={"system_use_notice": NOTICE_VERSION},
    )
    return redirect("portal:mfa")


def _count_failure(request: HttpRequest, user: User) -> HttpResponse | None:
    """Count a wrong verification code toward the lockout; the locked page if reached."""
    user_login_failed.send(
        sender=__name__, credentials={"username": user.username}, request=request
    )
    audit.record("signin.mfa_failed", actor=user, request=request, outcome=Outcome.FAILURE)
    if getattr(request, "axes_locked_out", False):
        audit.record("signin.locked_out", actor=user, request=request, outcome=Outcome.DENIED)
        logout(request)
        return _locked_page(request, user.username)
    return None


def _complete_signin(request: HttpRequest, user: User, device: Any, method: str) -> None:
    otp_login(request, device)
    request.session.cycle_key()
    mark_signed_in(request)
    axes_reset(username=user.username)
    details: dict[str, Any] = {"method": method}
    if method == "backup_code":
        details["backup_codes_left"] = device.token_set.count()
    audit.record("signin.succeeded", actor=user, request=request, details=details)


def _code_wait_seconds(user: User) -> int:
    """Seconds until the authenticator accepts another try after wrong codes (0: now)."""
    for device in TOTPDevice.objects.filter(user=user, confirmed=True):
        allowed, info = device.verify_is_allowed()
        locked_until = info.get("locked_until") if not allowed and info else None
        if isinstance(locked_until, datetime):
            return max(1, math.ceil((locked_until - timezone.now()).total_seconds()))
    return 0


@signin_step
@sensitive_post_parameters("code")
@never_cache
@require_http_methods(["GET", "POST"])
def mfa_view(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    if user.is_fully_signed_in():
        return HttpResponseRedirect(_after_signin_url(request))
    if not services.mfa_has_device(user):
        return redirect("portal:mfa_enrol")

    form = VerificationCodeForm(request.POST or None)
    wait = _code_wait_seconds(user) if request.method == "POST" else 0
    if wait:
        # The code is not checked at all, so this try does not count toward the lockout.
        form.is_valid()
        form.add_error(
            "code",
            f"After a wrong code the next try has to wait: try again in {wait} second"
            f"{'s' if wait != 1 else ''}.",
        )
    elif request.method == "POST" and form.is_valid():
        device = match_token(user, form.cleaned_data["code"])
        if device is not None:
            method = "backup_code" if isinstance(device, StaticDevice) else "totp"
            _complete_signin(request, user, device, method)
            if isinstance(device, StaticDevice):
                left = device.token_set.count()
                messages.warning(
                    request,
                    f"You signed in with a backup code; {left} left. Generate new ones on "
                    "your profile if you are running low.",
                )
            return HttpResponseRedirect(_after_signin_url(request))
        locked = _count_failure(request, user)
        if locked is not None:
            return locked
        form.add_error(
            "code",
            "That code is not right, or was already used. Codes change every 30 seconds; "
            "check the time on your device.",
        )
    return render(request, "portal/mfa_verify.html", {"form": form})


def _qr_svg(data: str) -> SafeString:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    svg = svg[svg.index("<svg") :]
    return mark_safe(svg)  # noqa: S308  (generated by qrcode from our own data)


def _grouped_key(bin_key: bytes) -> str:
    key = base64.b32encode(bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


@signin_step
@sensitive_post_parameters("code")
@never_cache
@require_http_methods(["GET", "POST"])
def mfa_enrol_view(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    # Only a user with no authenticator may enrol one here; anyone else must prove the one
    # they have, or a stolen password would be enough to add a device.
    if services.mfa_has_device(user):
        return redirect("portal:mfa")
    device = services.mfa_pending_device(user)
    form = VerificationCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            codes = services.mfa_enrol_confirm(user=user, device=device, request=request)
            _complete_signin(request, user, device, "totp")
            request.session[BACKUP_CODES_KEY] = codes
            return redirect("portal:mfa_backup_codes")
        locked = _count_failure(request, user)
        if locked is not None:
            return locked
        form.add_error("code", "That code is not right. Enter the 6-digit code your app shows now.")
    context = {
        "form": form,
        "qr_svg": _qr_svg(device.config_url),
        "key": _grouped_key(device.bin_key),
        "issuer": settings.OTP_TOTP_ISSUER,
    }
    return render(request, "portal/mfa_enrol.html", context)


@password_change_step
@never_cache
@require_http_methods(["GET"])
def mfa_backup_codes_view(request: HttpRequest) -> HttpResponse:
    codes = request.session.pop(BACKUP_CODES_KEY, None)
    if not codes:
        messages.info(request, "Backup codes are shown only once. Generate new ones if needed.")
        return redirect("portal:home")
    return render(
        request,
        "portal/mfa_backup_codes.html",
        {"codes": codes, "next_url": _after_signin_url(request)},
    )


@password_change_step
@sensitive_post_parameters("current_password", "new_password", "confirm_password")
@never_cache
@require_http_methods(["GET", "POST"])
def password_change_view(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    form = PasswordChangeForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.password_change(
            user=user, new_password=form.cleaned_data["new_password"], request=request
        )
        update_session_auth_hash(request, user)
        messages.success(request, "Your password was changed.")
        return HttpResponseRedirect(_after_signin_url(request))
    reason = None
    if user.must_change_password:
        reason = "Choose a new password to replace the temporary one."
    elif user.password_expired():
        reason = (
            f"Your password is more than {settings.PASSWORD_MAX_AGE.days} days old: choose a "
            "new one."
        )
    return render(request, "portal/password_change.html", {"form": form, "reason": reason})


@signin_step
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    audit.record("signin.signed_out", request=request)
    logout(request)
    messages.info(request, "You are signed out.")
    return redirect("portal:login")
